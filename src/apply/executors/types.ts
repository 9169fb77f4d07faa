// One executor per step kind: it carries out exactly what its step's input says, on the step's machine or the
// tailnet, and reports what it wrote. It decides nothing the plan did not.
import { StepError } from '../../errors.js';
import type { StepKind } from '../../plan/step-kinds.js';
import type { StepOf } from '../../plan/types.js';
import type { ApplyContext, MachineRun } from '../context.js';

export interface Outcome {
  /** What was written where, for the result: "gateway-config", "peer-files". */
  written?: string;
  restarted?: boolean;
}

/** (Its title, resource and template are its kind's row in plan/step-kinds.ts.) */
export interface Executor<K extends StepKind> {
  run(step: StepOf<K>, ctx: ApplyContext): Promise<Outcome>;
}

/** The machine a step runs on, as apply knows it. */
export function runOf(step: StepOf<StepKind>, ctx: ApplyContext): MachineRun {
  const run = step.machine ? ctx.runs.get(step.machine) : undefined;
  if (!run) throw new StepError(step.machine ?? 'tailnet', step.id, 'the machine was not observed in this run');
  return run;
}
