// A machine the tool runs scripts on: over the system ssh (honours ~/.ssh/config, the agent and
// known_hosts) with one multiplexed connection per machine per command, or the local machine itself.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { visible } from '../console/visible.js';
import { onAbort } from '../interrupt.js';
import { passedToChildren } from '../model/child-env.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';

/** The environment a child process gets (src/model/child-env.ts says which variables, and why). */
export function childEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && passedToChildren(name) && name !== 'LC_ALL') env[name] = value;
  }
  return { ...env, LC_ALL: 'C' };
}

/**
 * A control socket's path: a short hash of the machine's name in the command's private folder. macOS caps a
 * socket path at 104 bytes and its $TMPDIR alone is ~50; a 63-character machine name would not fit.
 */
export const controlPathIn = (dir: string, machine: string) => join(dir, createHash('sha256').update(machine).digest('hex').slice(0, 12));

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Remote {
  readonly machine: string;
  /** Runs a script with sh on the machine. Rejects with UnreachableError when the machine cannot be reached. */
  run(script: string): Promise<RunResult>;
  close(): Promise<void>;
  /** Synchronous: a second Ctrl-C is aborting. */
  abort(): void;
  readonly stats: { connections: number; commands: number };
}

export class UnreachableError extends Error {}

export interface TransportOptions {
  /** Accept and remember a host key ssh has not seen before (StrictHostKeyChecking=accept-new). */
  acceptNewHostKeys?: boolean;
  /** The longest one remote command may take; default COMMAND_TIMEOUT_MS. */
  commandTimeoutMs?: number;
}

/**
 * Children run in their own process group, so a Ctrl-C at the terminal reaches only peer-provision: a remote
 * step that is running finishes (the first Ctrl-C only stops new steps). A second Ctrl-C stops them here.
 */
const children = new Set<number>();
/**
 * The longest one remote command may take (installing Tailscale on a slow link is the longest step). A command that
 * hangs (a restart command that left a child holding its output, a machine that stopped answering) is stopped, its
 * whole process group, and fails as timed out (exit 124, as timeout(1) says it), so that up ends and names it.
 */
export const COMMAND_TIMEOUT_MS = 15 * 60_000;
async function runChild(file: string, args: string[], input: string, timeoutMs = COMMAND_TIMEOUT_MS) {
  // loaded when first used: its ~100 modules cost validate and plan --offline, which start no process, a tenth of a second
  const { execa } = await import('execa');
  // extendEnv: false, or execa adds all of process.env back
  const child = execa(file, args, { detached: true, input, reject: false, env: childEnv(), extendEnv: false });
  if (child.pid) children.add(child.pid);
  let timedOut = false;
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal); // the group: a background child holding the output too
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), 5000).unref();
  }, timeoutMs);
  try {
    const result = await child;
    if (timedOut) {
      const note = `timed out after ${Math.round(timeoutMs / 1000)} s (peer-provision's limit for one remote command): stopped`;
      return { exitCode: 124, stdout: String(result.stdout), stderr: `${String(result.stderr)}\n${note}` };
    }
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
  } finally {
    clearTimeout(timer);
    if (child.pid) children.delete(child.pid);
  }
}
onAbort(() => {
  for (const pid of children) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

/** The private folder for the control sockets of one command; removed when the command ends (or aborts). */
export class Transport {
  private readonly dir = mkdtempSync(join(tmpdir(), 'pp-ssh-')); // mkdtemp makes it 0700
  private readonly remotes = new Map<string, Remote>();
  private readonly forgetAbort: () => void;

  constructor(
    private readonly spec: Spec,
    private readonly options: TransportOptions = {},
  ) {
    this.forgetAbort = onAbort(() => {
      for (const remote of this.remotes.values()) remote.abort();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  for(machine: MachineSpec): Remote {
    let remote = this.remotes.get(machine.name);
    if (!remote) {
      remote =
        machine.ssh.kind === 'local'
          ? new LocalRemote(machine.name, this.options.commandTimeoutMs)
          : new SshRemote(machine, this.spec, controlPathIn(this.dir, machine.name), this.options);
      this.remotes.set(machine.name, remote);
    }
    return remote;
  }

  /** Per machine: ssh connections opened and remote commands run so far (for --json and the benchmark). */
  stats(): Record<string, { connections: number; commands: number }> {
    return Object.fromEntries([...this.remotes].map(([name, remote]) => [name, { ...remote.stats }]));
  }

  async close(): Promise<void> {
    await Promise.all([...this.remotes.values()].map((r) => r.close().catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
    this.forgetAbort();
  }
}

class LocalRemote implements Remote {
  readonly stats = { connections: 0, commands: 0 };
  constructor(
    readonly machine: string,
    private readonly timeoutMs?: number,
  ) {}
  async run(script: string): Promise<RunResult> {
    this.stats.commands++;
    const result = await runChild('sh', ['-s'], script, this.timeoutMs);
    return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
  }
  async close(): Promise<void> {}
  abort(): void {}
}

class SshRemote implements Remote {
  readonly stats = { connections: 0, commands: 0 };
  readonly machine: string;
  private readonly base: string[];
  private readonly destination: string;

  constructor(
    machine: MachineSpec,
    spec: Spec,
    private readonly controlPath: string,
    private readonly options: TransportOptions,
  ) {
    if (machine.ssh.kind !== 'ssh') throw new Error('not an ssh machine');
    this.machine = machine.name;
    this.destination = machine.ssh.destination;
    this.base = [
      ...(spec.sshConfig ? ['-F', spec.sshConfig] : []),
      ...(machine.ssh.port ? ['-p', String(machine.ssh.port)] : []),
      '-o',
      'BatchMode=yes',
      '-o',
      `StrictHostKeyChecking=${options.acceptNewHostKeys ? 'accept-new' : 'yes'}`,
      '-o',
      'ConnectTimeout=10',
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${controlPath}`,
      '-o',
      'ControlPersist=300',
    ];
  }

  async run(script: string): Promise<RunResult> {
    if (!existsSync(this.controlPath)) this.stats.connections++;
    this.stats.commands++;
    // `--`: the destination is never read as an option, whatever it looks like (the schema refuses a leading dash too)
    const result = await runChild('ssh', [...this.base, '--', this.destination, 'LC_ALL=C sh -s'], script, this.options.commandTimeoutMs);
    const exitCode = result.exitCode ?? 255;
    // 255 is ssh's own failure (connection, authentication, host key); a script never exits 255 here.
    if (exitCode === 255) throw new UnreachableError(`ssh ${this.destination}: ${lastLines(result.stderr) || 'connection failed'}`);
    // cmd.exe or PowerShell as the login shell answers our `LC_ALL=C sh -s` with "... is not recognized ..."
    if (exitCode !== 0 && /is not recognized as (an internal or external command|the name of a cmdlet)/i.test(result.stderr)) {
      throw new UnreachableError(`${this.destination} looks like Windows: Windows machines are not supported yet`);
    }
    return { exitCode, stdout: result.stdout, stderr: result.stderr };
  }

  async close(): Promise<void> {
    if (existsSync(this.controlPath)) {
      const { execa } = await import('execa');
      await execa('ssh', [...this.base, '-O', 'exit', '--', this.destination], { reject: false, env: childEnv(), extendEnv: false });
    }
  }

  abort(): void {
    if (existsSync(this.controlPath))
      spawnSync('ssh', [...this.base, '-O', 'exit', '--', this.destination], { stdio: 'ignore', timeout: 5000, env: childEnv() });
  }
}

/** The end of a remote command's output, for an error message: control characters shown as escapes (it reaches a terminal). */
export const lastLines = (text: string, count = 6) => visible(text.trim().split('\n').slice(-count).join('\n'));
