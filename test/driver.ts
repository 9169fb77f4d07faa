// A small node program importing the built tool, run as a shell runs a job (a process group of its own), so a test
// can signal it as a terminal does: for the interrupt and abort paths, which end the process.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** A module of the built src/, as an import specifier for a driver program. */
export const srcModule = (path: string) => JSON.stringify(new URL(`../src/${path}`, import.meta.url).href);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Driver {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGINT to every process of the job's group, as the terminal's Ctrl-C. */
  ctrlC: () => void;
  /** Ends the job and its group if it is still running (for afterEach). */
  kill: () => void;
}

/** Starts `program` (an ES module's text) in a process group of its own. */
export function startDriver(program: string, env: NodeJS.ProcessEnv = process.env): Driver {
  const child = spawn(process.execPath, ['--input-type=module', '-e', program], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => out,
    exited,
    ctrlC: () => process.kill(-child.pid!, 'SIGINT'),
    kill: () => {
      if (running()) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}

/** Polls f until it gives something (not undefined or false). */
export async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Alive and not a zombie (an orphan's exit is reaped by whoever adopted it, maybe later). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}
