// plan --out FILE writes the plan; up FILE / down FILE read it back. A plan holds no secret (they are resolved
// again at apply), so the file may be a CI artifact; it is written whole or not at all.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PeerProvisionError, UsageError } from '../errors.js';
import { FileRefused, MiB, readRegularFile } from '../peer-yaml/read-file.js';
import { writeWhole } from '../peer-yaml/write-whole.js';
import { staleness } from '../plan/stale.js';
import type { Plan } from '../plan/types.js';

/** A plan saved with `plan --out`, given to up or down, and the file it came from. */
export interface SavedPlan {
  plan: Plan;
  file: string;
}

/**
 * up PLAN / down PLAN: the saved plan, and the machines it acts on (those it names: --machine cannot be given
 * beside it). Without a plan file: --machine as given.
 */
export function savedPlanArgs(planFile: string | undefined, command: 'up' | 'down', machine?: string[]): { saved?: SavedPlan; machine?: string[] } {
  if (!planFile) return { machine };
  const plan = readPlanFile(planFile, command);
  if (machine?.length) throw new UsageError('--machine cannot be given with a saved plan: the plan names its machines', 'make the plan with --machine instead');
  return { saved: { plan, file: planFile }, machine: plan.targets };
}

/** A plan of many machines is kilobytes; anything near this is not one (and is not read into memory whole). */
const MAX_PLAN_BYTES = 16 * MiB;

/** Refuses --out naming the peer.yaml the plan reads (by path, or the same file through a link). */
export function checkPlanOut(out: string, specFile: string): void {
  const same = (() => {
    if (resolve(out) === resolve(specFile)) return true;
    try {
      const [a, b] = [statSync(out), statSync(specFile)];
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  })();
  if (same)
    throw new UsageError(`--out ${out} is the peer.yaml this plan reads: writing the plan there would replace it`, 'name another file, e.g. --out plan.json');
}

/** Written whole or not at all (model/write-whole.ts). */
export function writePlanFile(path: string, plan: Plan): void {
  try {
    writeWhole(path, `${JSON.stringify(plan, null, 2)}\n`, 0o644);
  } catch (error) {
    throw new PeerProvisionError(`cannot write the plan to ${path}: ${(error as Error).message}`);
  }
}

export function readPlanFile(path: string, command: 'up' | 'down'): Plan {
  let text: string;
  try {
    text = readRegularFile(path, MAX_PLAN_BYTES).text; // a FIFO or /dev/zero is refused at once, never read
  } catch (error) {
    if (!(error instanceof FileRefused)) throw error;
    throw new UsageError(`${path} ${error.reason}`, 'a saved plan is the file `peer-provision plan --out FILE` wrote');
  }
  let plan: Plan;
  try {
    plan = JSON.parse(text) as Plan;
  } catch (error) {
    throw new UsageError(`${path}: not a plan file: ${(error as Error).message}`, 'write one with `peer-provision plan --out FILE`');
  }
  if (plan?.format !== 'peer-provision/plan@2') {
    throw new UsageError(
      `${path}: not a plan of this peer-provision (format ${JSON.stringify(plan?.format)}, expected "peer-provision/plan@2")`,
      'make a new one with `peer-provision plan --out FILE`',
    );
  }
  if (plan.command !== command) {
    throw new UsageError(
      `${path}: a plan for ${plan.command}, not ${command}`,
      `run \`peer-provision ${plan.command} ${path}\`, or make one with \`peer-provision plan${command === 'down' ? ' --for down' : ''} --out FILE\``,
    );
  }
  return plan;
}

/**
 * The fresh plan, when the saved one is still what it would do; otherwise refuse, naming what moved. The saved plan
 * is only compared: its steps, blockers and machines never run (an edited file could hold anything).
 */
export function checkNotStale(saved: Plan, fresh: Plan, path: string): Plan {
  const moved = staleness(saved, fresh);
  if (moved.length > 0) {
    throw new PeerProvisionError(
      `the saved plan ${path} is stale, nothing was changed:\n${moved.map((m) => `  - ${m}`).join('\n')}`,
      `make a new plan (\`peer-provision plan${saved.command === 'down' ? ' --for down' : ''} --out ${path}\`), review it, and apply that`,
    );
  }
  return fresh;
}
