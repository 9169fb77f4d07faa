// The entry point: parses argv with program.ts's command table, loads the chosen command only when it runs
// (so --help and validate start fast and never load Pulumi), and is the one boundary that turns errors into
// messages and exit codes. No module in src/ imports this one (bin/peer-provision.js loads it).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import { colourWanted, disableColour } from './console/colour.js';
import { stderr } from './console/io.js';
import { EXIT, InputError, PeerProvisionError, UsageError } from './errors.js';
import { handleInterrupts } from './interrupt.js';
import { renderDiagnostics } from './output/diagnostics.js';
import { humanView, jsonView, type View } from './output/view.js';
import type { PlanBlocker } from './plan/types.js';
import { COMPLETE_MACHINES, type CommonOptions, program } from './program.js';
import { enableTrace } from './transport/trace.js';

/** Commands whose --json output is a stream of events ending with a `result` event (the others print one document). */
const STREAMING = new Set(['up', 'down', 'rotate', 'invite', 'unfriend', 'accept', 'leave']);

// Each command module exports run(options, view) -> exit code; its options type is its own business.
type CommandModule = { run(options: never, view: View): Promise<number> };
const commands: Record<string, () => Promise<CommandModule>> = {
  validate: () => import('./commands/validate/index.js'),
  plan: () => import('./commands/plan/index.js'),
  up: () => import('./commands/up/index.js'),
  verify: () => import('./commands/verify/index.js'),
  status: () => import('./commands/status/index.js'),
  down: () => import('./commands/down/index.js'),
  'tailnet init': () => import('./commands/tailnet/init.js'),
  init: () => import('./commands/init/index.js'),
  completion: () => import('./commands/completion/index.js'),
  rotate: () => import('./commands/rotate/index.js'),
  peers: () => import('./commands/peers/index.js'),
  send: () => import('./commands/send/index.js'),
  keygen: () => import('./commands/keygen/index.js'),
  invite: () => import('./commands/invite/index.js'),
  unfriend: () => import('./commands/unfriend/index.js'),
  accept: () => import('./commands/accept/index.js'),
  leave: () => import('./commands/leave/index.js'),
};

export async function main(argv: string[]): Promise<number> {
  // completion's own question: answered before commander (whose usage errors print), silent and exit 0 whatever happens
  if (argv[0] === COMPLETE_MACHINES) return (await import('./commands/completion/machines.js')).run(argv.slice(1));
  let chosen: { name: string; options: CommonOptions & Record<string, unknown> } | undefined;
  try {
    await program((name, options) => (chosen = { name, options })).parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version print and succeed; everything else commander rejects is a usage error (it printed why)
      if (error.exitCode === 0) return EXIT.ok;
      if (argv.includes('--json'))
        report(new UsageError(error.message.replace(/^error: /, '')), viewFor(true, argv.find((a) => STREAMING.has(a)) ?? ''), false);
      return EXIT.invalid;
    }
    throw error;
  }
  if (!chosen) {
    stderr('peer-provision: no command given; see peer-provision --help\n');
    return EXIT.invalid;
  }
  const { name, options } = chosen;
  const view = viewFor(Boolean(options.json), name, options.file); // the one place --json is looked at for output
  if (options.color === false) disableColour();
  if (options.verbose === true) enableTrace();
  handleInterrupts(stderr);
  try {
    if (typeof options.file === 'string' && !options.creates && !existsSync(options.file)) {
      throw new UsageError(
        `${options.file}: no such file${options.file === 'peer.yaml' ? ' in this folder' : ''}`,
        'pass -f PATH to a peer.yaml, or write one with `peer-provision init --machine NAME=local --machine NAME=user@host`',
      );
    }
    const { run } = await commands[name]();
    return await run(options as never, view);
  } catch (error) {
    return report(error, view);
  }
}

const viewFor = (json: boolean, command: string, file?: string): View =>
  json ? jsonView(STREAMING.has(command), command === 'validate' && file ? resolve(file) : undefined) : humanView();

/**
 * The one error boundary: a message on stderr and an exit code. With --json stdout stays JSON Lines to the
 * end: one error document (validate, plan, verify, status), or an error event then a result event (up, down).
 */
function report(error: unknown, view: View, toStderr = true): number {
  const known = error instanceof PeerProvisionError;
  const code = known ? error.exitCode : EXIT.failure;
  const message = known ? error.message : `unexpected error: ${(error as Error)?.stack ?? String(error)}`;
  view.failed(
    {
      type: known ? error.name : 'Error',
      message,
      problems: error instanceof InputError ? error.problems : undefined,
      blockers: (error as { blockers?: PlanBlocker[] }).blockers, // BlockedError's (not imported: cli.ts loads commands lazily)
      hint: known ? error.hint : undefined,
    },
    code,
  );
  if (toStderr) {
    // bad input is shown where it is: each problem with its line and a caret, as compilers show theirs
    stderr(error instanceof InputError ? renderDiagnostics(error.problems, { colour: colourWanted(process.stderr) }) : `${message}\n`);
    if (known && error.hint) stderr(`hint: ${error.hint}\n`);
  }
  return code;
}
