// apply: runs a plan's steps, each once every step it needs has succeeded (and every step it comes after has
// ended), by its kind's executor. A step whose need failed or was skipped is skipped, so a machine stops at its
// first failure while the others go on. Progress: listr2 (a group for the tailnet, one per machine); --json: step
// events. Interrupted (Ctrl-C): no new step starts; running ones finish.
import { Listr, ListrErrorTypes, type ListrTask } from 'listr2';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import { type RunKind, stepTitle } from '../plan/step-kinds.js';
import { allSteps, describeTarget, type Plan, type Step } from '../plan/types.js';
import type { ApplyContext } from './context.js';
import { executorFor } from './executors/index.js';
import { listrOptions, type Renderer } from './tasks.js';

type Ended = 'done' | 'failed' | 'skipped';

export interface RunResult {
  failures: Error[];
  /** Steps that ran to the end: none, and nothing was changed. */
  done: number;
  /**
   * Machines (and 'tailnet') with a step that failed or was skipped: they did not get where the plan goes. The value
   * says where: "at join the tailnet" (it failed), "before restart the gateway" (skipped).
   */
  stopped: Map<string, string>;
  /** Machines whose gateway was restarted. */
  restarted: string[];
  /** What was written where: "m1 gateway-config", "m2 peer-files". */
  written: string[];
}

/**
 * The machines whose OpenClaw config the run wrote (patched or restored) or put in effect (restarted the gateway: an
 * earlier run stopped short may have written it).
 */
export const configChangedOn = (result: RunResult): Set<string> =>
  new Set([...result.written.filter((w) => w.endsWith(' gateway-config')).map((w) => w.slice(0, -' gateway-config'.length)), ...result.restarted]);

export interface RunOptions {
  renderer: Renderer;
  events: Events;
}

/** The steps apply runs: known ones, on machines this run has (an unreachable machine's steps are unknown). */
export const runnable = (plan: Plan, ctx: ApplyContext): Step[] => allSteps(plan).filter((s) => s.op !== 'unknown' && (!s.machine || ctx.runs.has(s.machine)));

export async function runPlan(plan: Plan, ctx: ApplyContext, options: RunOptions): Promise<RunResult> {
  const result: RunResult = { failures: [], done: 0, stopped: new Map(), restarted: [], written: [] };
  const steps = runnable(plan, ctx);
  // a plan that mints keys checks what minting needs before its first step (the policy) is written
  if (steps.some((s) => s.kind === 'mint-keys')) {
    try {
      await ctx.tailnet.keysPreflight();
    } catch (error) {
      result.failures.push(error as Error);
      return result;
    }
  }
  const ended = new Map<string, Promise<Ended>>();
  const settle = new Map<string, (e: Ended) => void>();
  for (const s of steps) ended.set(s.id, new Promise<Ended>((resolve) => settle.set(s.id, resolve)));
  const wait = (ids: string[] = []) => Promise.all(ids.filter((id) => ended.has(id)).map((id) => ended.get(id)!));

  const task = (step: Step): ListrTask => {
    const executor = executorFor(step)!;
    const title = stepTitle(step.kind as RunKind);
    const where = step.machine ?? 'tailnet';
    const emit = (status: 'start' | 'done' | 'failed' | 'skipped', extra: { error?: string; reason?: string } = {}) => {
      if (status === 'done') result.done++;
      if ((status === 'failed' || status === 'skipped') && !result.stopped.has(where))
        result.stopped.set(where, `${status === 'failed' ? 'at' : 'before'} ${title}`);
      options.events.emit({ event: 'step', machine: where, step: title, id: step.id, status, ...extra });
    };
    return {
      // the machine on every step line: a CI log (one line per event) has no tree to say whose step it is
      title: `${where}: ${title}`,
      task: async (_, wrapper) => {
        const [needs] = await Promise.all([wait(step.needs), wait(step.after)]);
        // interrupted first: a Ctrl-C at a terminal also stops the running step's ssh, whose failure is the signal's
        const skip = interrupted() ? 'skipped: interrupted' : needs.some((e) => e !== 'done') ? 'skipped: an earlier step failed' : undefined;
        if (skip) {
          settle.get(step.id)!('skipped');
          emit('skipped', { reason: skip });
          wrapper.skip(skip);
          return;
        }
        emit('start');
        try {
          const outcome = await executor.run(step as never, ctx);
          if (outcome.written) result.written.push(`${where} ${outcome.written}`);
          if (outcome.restarted) result.restarted.push(where);
          settle.get(step.id)!('done');
          emit('done');
        } catch (error) {
          result.failures.push(error as Error);
          settle.get(step.id)!('failed');
          emit('failed', { error: (error as Error).message });
          throw error;
        }
      },
    };
  };
  // A group's steps go on past a failure (each decides to skip on its own), then a last, untitled task fails the
  // group when one of them failed or was skipped: a machine that stopped short ends with ✖, never ✔.
  const group = (where: string, title: string, members: Step[]): ListrTask => ({
    title,
    task: (_, wrapper) =>
      wrapper.newListr(
        [
          ...members.map((s) => ({ ...task(s), exitOnError: false })),
          {
            task: () => {
              const at = result.stopped.get(where);
              if (!at) return;
              wrapper.report(new Error(`${where} stopped ${at}`), ListrErrorTypes.HAS_FAILED); // the group's own line says why
              throw new Error(''); // (fails the group; an untitled task with no message prints no line of its own)
            },
          },
        ],
        { concurrent: false, exitOnError: true },
      ),
  });
  const tailnetSteps = steps.filter((s) => !s.machine);
  const groups = [
    ...(tailnetSteps.length ? [group('tailnet', 'tailnet', tailnetSteps)] : []),
    ...[...ctx.runs.values()]
      .map((run) => [run, steps.filter((s) => s.machine === run.machine.name)] as const)
      .filter(([, members]) => members.length > 0)
      .map(([run, members]) => group(run.machine.name, `${run.machine.name} (${describeTarget(run.machine.ssh)})`, members)),
  ];
  await new Listr(groups, { ...(listrOptions(options.renderer) as object), concurrent: true }).run().catch(() => undefined); // failures are collected above
  return result;
}
