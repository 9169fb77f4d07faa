// A real terminal of a fixed size for a test, as a person sees it: tmux runs the built CLI in a detached session,
// the test types with send-keys and reads the screen with capture-pane. Unlike test/terminal.ts (util-linux
// `script`, a byte stream), this is the screen itself: what is still shown after the cursor moved and lines were
// redrawn. Each terminal is a tmux server of its own (-L, a socket of its own), ended by close().
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, tempDir } from './helpers.js';

/** Why the terminal tests cannot run here, or undefined when they can. */
export const TMUX_MISSING: string | undefined = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'tmux is not installed (the terminal tests type into a tmux session: apt-get install tmux)';
  }
})();

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
let sessions = 0;

export class TmuxTerminal {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
  ) {}

  /** kill-server leaves the socket file behind: close() removes it. */
  private socketPath = '';

  private get exitFile() {
    return join(this.dir, 'exit-code');
  }

  /** The CLI with these arguments, started in cwd on a terminal of columns × rows. */
  static start(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; columns?: number; rows?: number }): TmuxTerminal {
    // the screen stays after the CLI exits; no status line takes a row
    const dir = tempDir('pp-tmux-');
    writeFileSync(join(dir, 'tmux.conf'), 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 10000\n');
    const terminal = new TmuxTerminal(`pp-test-${process.pid}-${++sessions}`, dir);
    const { TMUX: _, ...env } = { ...process.env, ...options.env }; // not nested in a tmux the tests may run in
    // the exit code through a file: tmux 3.3's #{pane_dead_status} stays empty when it sees the terminal close first
    const command = `${[process.execPath, CLI, ...args].map(quote).join(' ')}; echo $? > ${quote(terminal.exitFile)}`;
    const size = ['-x', String(options.columns ?? 100), '-y', String(options.rows ?? 40)];
    terminal.tmux(['new-session', '-d', '-s', 'cli', ...size, '-c', options.cwd, command], env);
    terminal.socketPath = terminal.tmux(['display-message', '-p', '#{socket_path}']).trim();
    return terminal;
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', join(this.dir, 'tmux.conf'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Types the text as it is (no key names read in it), then Enter unless told not to. */
  type(text: string, enter = true): void {
    if (text) this.tmux(['send-keys', '-t', 'cli', '-l', text]);
    if (enter) this.keys('Enter');
  }

  /** Keys by tmux's names: Enter, C-c, C-d. */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', 'cli', ...names]);
  }

  /** The screen and what scrolled off it, wrapped lines joined, trailing blanks and tmux's "Pane is dead" left out. */
  screen(): string {
    const text = this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', 'cli']);
    return text
      .split('\n')
      .filter((line) => !/^Pane is dead \(/.test(line))
      .map((line) => line.trimEnd())
      .join('\n')
      .trimEnd();
  }

  /** Waits (bounded) until the screen matches; fails with the screen as it is. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the screen did not show ${pattern} within ${timeoutMs} ms; it shows:\n${screen}`);
      await sleep(50);
    }
  }

  /** The CLI's exit code once it has ended (bounded wait). */
  async exitCode(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const written = existsSync(this.exitFile) ? readFileSync(this.exitFile, 'utf8') : '';
      if (written.endsWith('\n')) return Number(written);
      if (Date.now() > deadline) throw new Error(`the CLI did not exit within ${timeoutMs} ms; the screen shows:\n${this.screen()}`);
      await sleep(50);
    }
  }

  /** Ends the session and its server. */
  close(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
    if (this.socketPath) rmSync(this.socketPath, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
