// The Pulumi CLI in a process group of its own. The Automation API spawns `pulumi` in the tool's group, where the
// terminal's Ctrl-C reached it too and cancelled an update halfway, though the first Ctrl-C promises that running
// steps finish (src/interrupt.ts). Run detached, it hears only the tool: the first Ctrl-C leaves it alone; the second
// (the abort) tells it what Pulumi's own cancellation scope expects, SIGINT (cancel) then SIGTERM (terminate now:
// pulumi takes the first SIGINT or SIGTERM as cancel, the next as terminate). The tool ending any other way (an
// exit, an uncaught exception, a closed terminal) stops it the same way (src/interrupt.ts runs the abort's cleanups
// then too): a detached child would outlive the tool.
//
// The seam is the `pulumiCommand` LocalWorkspace accepts: every CLI call of the SDK goes through its run(), which is
// the SDK's own run (@pulumi/pulumi 3.248.0 automation/cmd.js) with the child detached; nothing else is re-implemented.

import { delimiter, dirname, isAbsolute } from 'node:path';
import type { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { onAbort } from '../interrupt.js';

type CommandResult = { stdout: string; stderr: string; code: number };

/** What is used of the SDK beyond its typings (marked @internal there); the pinned version has each of them. */
interface SdkInternals {
  PulumiCommand: new (command: string, version: PulumiCommand['version']) => PulumiCommand;
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => CommandResult;
  parseAndValidatePulumiVersion(min: PulumiCommand['version'], current: string, optOut: boolean): PulumiCommand['version'];
  minimumVersion: PulumiCommand['version'];
  createCommandError(result: CommandResult): Error;
}

async function sdkInternals(): Promise<SdkInternals> {
  const [cmd, errors, minimum] = await Promise.all([
    import('@pulumi/pulumi/automation/cmd.js'),
    import('@pulumi/pulumi/automation/errors.js'),
    import('@pulumi/pulumi/automation/minimumVersion.js'),
  ]);
  return { ...cmd, ...errors, ...minimum } as unknown as SdkInternals;
}

// ---------------------------------------------------------------------------------------------------------------------
// The running CLI processes, stopped when the tool aborts or ends

const running = new Set<number>();
/** The abort path's hold on the running CLIs: taken while one runs (src/interrupt.ts runs it on abort, exit, hangup). */
let forgetAbort: (() => void) | undefined;

/** A wait that blocks: the abort path is synchronous. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/**
 * Between the two signals: pulumi's signal channel holds one signal, so a second sent before its goroutine took the
 * first may be dropped, and the cancel would never become a terminate.
 */
const SIGNAL_GAP_MS = 200;

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Cancel, then terminate, every running CLI: the second Ctrl-C stops at once, as a second Ctrl-C at pulumi would. */
function stopRunning(): void {
  const pids = [...running];
  running.clear();
  forgetAbort = undefined;
  for (const pid of pids) signal(pid, 'SIGINT');
  pause(SIGNAL_GAP_MS);
  for (const pid of pids) signal(pid, 'SIGTERM');
}

function track(pid: number): () => void {
  running.add(pid);
  forgetAbort ??= onAbort(stopRunning);
  return () => {
    running.delete(pid);
    if (running.size === 0) {
      forgetAbort?.();
      forgetAbort = undefined;
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Running the CLI

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment (the CLI needs all of it: PATH, HOME, proxies, PULUMI_*). Never argv. */
  env?: Record<string, string>;
  onOutput?: (chunk: string) => void;
  onError?: (chunk: string) => void;
  /** The SDK's cancel: SIGINT, as the SDK sends it. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Runs the CLI detached and tracked; the result whatever the exit code. A CLI that cannot be started rejects (execa's
 * error: `code` ENOENT for a missing one).
 */
export async function runPulumi(file: string, args: string[], o: RunOptions = {}): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const { execa } = await import('execa'); // (loaded when first used, as in transport/remote.ts)
  // stdin: the CLI runs --non-interactive and reads none; a detached child must not read the terminal either
  const child = execa(file, args, { cwd: o.cwd, env: o.env, detached: true, stdin: 'ignore', reject: false, timeout: o.timeoutMs });
  if (child.pid === undefined) throw await child; // not started: execa's error, `code` ENOENT for a missing CLI
  const untrack = track(child.pid);
  if (o.onOutput) child.stdout?.on('data', (d: Buffer) => o.onOutput?.(d.toString()));
  if (o.onError) child.stderr?.on('data', (d: Buffer) => o.onError?.(d.toString()));
  const cancel = () => signal(child.pid!, 'SIGINT');
  o.signal?.addEventListener('abort', cancel);
  try {
    const r = await child;
    return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1 };
  } finally {
    untrack();
    o.signal?.removeEventListener('abort', cancel);
  }
}

/**
 * A PulumiCommand for LocalWorkspaceOptions.pulumiCommand whose CLI runs detached. As PulumiCommand.get: `pulumi
 * version` is asked once (detached too) and checked against the SDK's minimum unless skipVersionCheck.
 */
export async function detachedPulumiCommand(opts: { command?: string; skipVersionCheck?: boolean } = {}): Promise<PulumiCommand> {
  const sdk = await sdkInternals();
  // the SDK's exec (cmd.js): a failure is a CommandError of the kind its stderr names (StackNotFoundError, which
  // createOrSelectStack relies on, among them), and every failure is wrapped once more, as the SDK does
  const exec = async (command: string, args: string[], cwd: string | undefined, env: Record<string, string>, o: RunOptions = {}) => {
    try {
      const { stdout, stderr, exitCode } = await runPulumi(command, args, { ...o, cwd, env });
      const result = new sdk.CommandResult(stdout, stderr, exitCode);
      if (exitCode !== 0) throw sdk.createCommandError(result);
      return result;
    } catch (e) {
      throw sdk.createCommandError(new sdk.CommandResult('', (e as Error).message, -2, e as Error));
    }
  };
  class DetachedPulumiCommand extends sdk.PulumiCommand {
    // the SDK's run, line for line, with exec above
    run(
      args: string[],
      cwd: string,
      additionalEnv: Record<string, string>,
      onOutput?: (s: string) => void,
      onError?: (s: string) => void,
      signal?: AbortSignal,
    ) {
      if (!args.includes('--non-interactive')) args.push('--non-interactive');
      const env = { ...additionalEnv };
      if (isAbsolute(this.command)) env.PATH = dirname(this.command) + delimiter + (additionalEnv.PATH || process.env.PATH);
      env.PULUMI_AUTOMATION_API = 'true';
      return exec(this.command, args, cwd, env, { onOutput, onError, signal });
    }
  }
  const command = opts.command ?? 'pulumi';
  const { stdout } = await exec(command, ['version'], undefined, { PULUMI_SKIP_UPDATE_CHECK: 'true' });
  const skip = Boolean(opts.skipVersionCheck) || Boolean(process.env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK);
  return new DetachedPulumiCommand(command, sdk.parseAndValidatePulumiVersion(sdk.minimumVersion, stdout.trim(), skip));
}
