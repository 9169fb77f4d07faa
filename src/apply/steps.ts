// Runs one script from templates/ on a step's machine and fails with a StepError naming the machine, the step
// and the remote error (redacted by value).
import { StepError } from '../errors.js';
import { redact } from '../model/redact.js';
import { type MachineKind, type RunKind, STEP_KINDS, stepTitle } from '../plan/step-kinds.js';
import type { StepOf } from '../plan/types.js';
import { lastLines, UnreachableError } from '../transport/remote.js';
import { parseResult, type ScriptResult, ScriptResultError } from '../transport/result.js';
import { runScript } from '../transport/run-script.js';
import type { Vars } from '../transport/script.js';
import type { MachineRun } from './context.js';

/** Runs one template; its parsed result line (src/transport/result.ts) once it exits 0. */
export async function remoteStep(run: MachineRun, step: string, template: string, vars: Vars): Promise<ScriptResult> {
  try {
    const result = await runScript(run.remote, template, vars);
    if (result.exitCode !== 0) {
      throw new StepError(run.machine.name, step, redact(lastLines(result.stderr || result.stdout) || `exit code ${result.exitCode}`));
    }
    return parseResult(result.stdout, `${template}.sh`);
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof ScriptResultError) throw new StepError(run.machine.name, step, redact(error.message));
    throw error;
  }
}

/** Runs a step's own script (its kind's template), failing under its kind's title. */
export const stepScript = (run: MachineRun, step: StepOf<MachineKind>, vars: Vars): Promise<ScriptResult> =>
  remoteStep(run, stepTitle(step.kind), STEP_KINDS[step.kind].template, vars);

/** A step that cannot go on: the error names the machine and the step's kind by its title. */
export const stepFailed = (run: MachineRun, kind: RunKind, message: string): StepError => new StepError(run.machine.name, stepTitle(kind), message);
