// up, rotate and down share one pipeline: observe and plan (under the stack's lock), show the plan, refuse on
// blockers, answer when there is nothing to do, ask, run the steps, check (up verifies the pairs), and end with one
// result event and one closing line. What differs between them is a ChangeCommand: its words, its answer when there
// is nothing to do, and what runs after the steps. The view decides what reaches stdout (human text or JSON Lines).
import type { MachineRun } from '../apply/context.js';
import { lockStack } from '../apply/lock.js';
import { type RunResult, runPlan } from '../apply/run-plan.js';
import { tailnetSide } from '../apply/tailnet-side.js';
import { confirm } from '../console/confirm.js';
import { stderr } from '../console/io.js';
import { EXIT } from '../errors.js';
import { interrupted } from '../interrupt.js';
import type { ResultEvent } from '../output/events.js';
import { renderPlan } from '../output/render-plan.js';
import type { View } from '../output/view.js';
import type { Spec } from '../peer-yaml/types.js';
import type { MachinePlan, Plan } from '../plan/types.js';
import { Transport } from '../transport/remote.js';
import type { Observed } from './observe-and-plan.js';
import { BlockedError, removeEmptyStateFolders } from './preflight.js';
import { checkNotStale, type SavedPlan } from './saved-plan.js';
import { restrictPlan, targeted } from './targets.js';

/** What one run knows once the plan is made, for a command's own answers. */
export interface Planned {
  /** The plan it applies: restricted to --machine, and the saved one when it is still the fresh one. */
  plan: Plan;
  runs: Map<string, MachineRun>;
  transport: Transport;
  /** Targeted machines that could not be reached: skipped, and named in the problems. */
  unreachable: MachinePlan[];
  /** The keys of friends with a pending invite, once the run minted them (invite seals its friend's). */
  friendKeys: Map<string, string>;
}

export interface ChangeCommand {
  name: 'up' | 'rotate' | 'down' | 'invite' | 'unfriend' | 'accept' | 'leave';
  /** false: something on this side already stops the run; observe (read-only) to report the machines too, unlocked. */
  lock: boolean;
  /** The confirm question, and what is said when the answer is no (a script must not read it as done). */
  question: string;
  declined: string;
  /** What a re-run does after a failure: up resumes, down finishes. */
  rerun: 'resume' | 'finish';
  /** --machine: the machines it acts on (undefined: all); the others' steps are left out of the plan. */
  only?: Set<string>;
  /** A plan saved with `plan --out`: it was reviewed, so nothing is asked; refused when the fresh plan moved from it. */
  saved?: SavedPlan;
  /** Observes and plans every machine. */
  prepare(transport: Transport): Promise<Observed>;
  /** Before anything is asked or run: a refusal of the whole run (up: no machine could be reached). */
  check?(planned: Planned): void;
  /** The plan has nothing to run: this command's answer, and its exit code; undefined: run the plan. */
  nothingToDo(planned: Planned): Promise<number | undefined>;
  /** Said once the answer is yes, before the first step. */
  beforeRun?(planned: Planned): void;
  /** After the steps: up verifies the pairs. Its problems join the run's; its text comes before the closing line. */
  afterRun?(planned: Planned, result: RunResult): Promise<{ problems: string[]; text: string }>;
  /** The result event's fields of this command (up: what was restarted and written). */
  resultFields?(result: RunResult): Partial<ResultEvent>;
  /** The closing line when every step (and check) passed. */
  complete: string;
}

export async function runChange(spec: Spec, command: ChangeCommand, options: { acceptNewHostKeys?: boolean; yes?: boolean }, view: View): Promise<number> {
  const unlock = command.lock ? lockStack(spec, command.name) : () => undefined;
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  let refused = false;
  try {
    const observed = await command.prepare(transport);
    const fresh = restrictPlan(observed.plan, command.only);
    const plan = command.saved ? checkNotStale(command.saved.plan, fresh, command.saved.file) : fresh;
    view.tell({ event: 'plan', plan }, renderPlan(plan));
    const unreachable = targeted(plan).filter((m) => m.observed === 'unreachable');
    if (plan.blockers.length > 0) {
      refused = true;
      throw new BlockedError(command.name, plan.blockers, unreachable);
    }
    const planned: Planned = { plan, runs: observed.runs, transport, unreachable, friendKeys: new Map() };
    command.check?.(planned);
    const answered = await command.nothingToDo(planned);
    if (answered !== undefined) return answered;
    if (interrupted()) {
      stderr('Interrupted before anything was changed.\n');
      view.emit({ event: 'result', changed: false, ok: false, exitCode: EXIT.interrupted, interrupted: true, transport: transport.stats() });
      return EXIT.interrupted;
    }
    if (!command.saved && !(await confirm(command.question, options))) {
      stderr(`${command.declined}\n`);
      return EXIT.failure;
    }
    command.beforeRun?.(planned);
    const ctx = { spec, runs: observed.runs, tailnet: await tailnetSide(spec), friendKeys: planned.friendKeys, say: (line: string) => stderr(`${line}\n`) };
    const result = await runPlan(plan, ctx, { renderer: view.renderer, events: view });
    const after = command.afterRun ? await command.afterRun(planned, result) : { problems: [], text: '' };
    const problems = [
      ...unreachable.map((m) => `${m.machine}: unreachable, skipped: ${m.reason}`),
      ...result.failures.map((f) => f.message),
      ...after.problems,
    ];
    const exitCode = interrupted() ? EXIT.interrupted : problems.length ? EXIT.failure : EXIT.ok;
    view.tell(
      {
        event: 'result',
        changed: result.done > 0,
        ok: problems.length === 0 && !interrupted(),
        exitCode,
        ...command.resultFields?.(result),
        problems,
        transport: transport.stats(),
      },
      after.text +
        (problems.length
          ? `\n${command.name} finished with problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRe-run ${command.name} to ${command.rerun}.\n`
          : `\n${command.complete}\n`),
    );
    if (interrupted()) stderr(`Interrupted: the steps that were running finished; nothing else was started. Re-run ${command.name} to ${command.rerun}.\n`);
    return exitCode;
  } finally {
    await transport.close();
    unlock();
    if (refused) removeEmptyStateFolders(spec);
  }
}
