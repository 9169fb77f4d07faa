// The real CLI on a pseudo-terminal, as a person runs it: util-linux `script` gives it one (stdin and stderr are a
// TTY, so its questions are asked), the test types what a person would once the screen shows a prompt, and reads
// the exit code (`script -e` returns the command's).
import { spawn } from 'node:child_process';
import { CLI } from './helpers.js';

export interface Typing {
  /** Wait until the output (everything the terminal showed so far) matches this... */
  after: RegExp;
  /** ...then type this ('\x03' is Ctrl-C, '\x04' Ctrl-D, '\r' Enter). */
  keys: string;
}

export interface TerminalRun {
  code: number | null;
  /** What the terminal showed, carriage returns and colours left out. */
  screen: string;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing the terminal's colour sequences is the point
const plain = (text: string) => text.replace(/\r/g, '').replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');

export function inTerminal(
  args: string[],
  typing: Typing[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<TerminalRun> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: options.cwd, env: { ...process.env, TERM: 'xterm', ...options.env } });
  let output = '';
  const pending = [...typing];
  const typeWhatIsDue = () => {
    while (pending[0]?.after.test(plain(output))) child.stdin.write(pending.shift()!.keys);
  };
  child.stdout.on('data', (chunk) => {
    output += chunk;
    typeWhatIsDue();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      const left = pending.length ? `\n[never typed: the screen did not show ${pending[0]!.after}]` : '';
      done({ code, screen: plain(output) + left });
    }),
  );
}
