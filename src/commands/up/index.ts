// peer-provision up [PLAN]: converge the machines on peer.yaml (see converge.ts), or apply a saved plan exactly.
import { UsageError } from '../../errors.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { DEFAULT_REKEY_WINDOW_SECONDS } from '../../plan/node-keys.js';
import { converge, type UpOptions } from '../converge.js';
import { readPlanFile } from '../saved-plan.js';

export type { UpOptions } from '../converge.js';

/** `planFile`: a plan saved with `plan --out`; the fresh plan runs (without asking: it was reviewed) when it is still that one. */
export async function run(options: UpOptions & { planFile?: string }, view: View): Promise<number> {
  const planFile = options.planFile;
  const saved = planFile ? readPlanFile(planFile, 'up') : undefined;
  if (saved && options.machine?.length)
    throw new UsageError('--machine cannot be given with a saved plan: the plan names its machines', 'make the plan with --machine instead');
  return converge(loadSpec(options.file), { ...options, machine: saved?.targets ?? options.machine }, 'up', view, {
    saved: saved && { plan: saved, file: planFile! },
    // up re-keys only an expired node (it has to join again anyway); a key near expiry is a note suggesting rotate
    nodeKeys: { now: Date.now(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false },
  });
}
