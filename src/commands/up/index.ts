// peer-provision up [PLAN]: converge the machines on peer.yaml (see converge.ts), or apply a saved plan exactly.
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { DEFAULT_REKEY_WINDOW_SECONDS } from '../../plan/node-keys.js';
import { converge, type UpOptions } from '../converge.js';
import { savedPlanArgs } from '../saved-plan.js';

export type { UpOptions } from '../converge.js';

/** `planFile`: a plan saved with `plan --out`; the fresh plan runs (without asking: it was reviewed) when it is still that one. */
export async function run(options: UpOptions & { planFile?: string }, view: View): Promise<number> {
  const { saved, machine } = savedPlanArgs(options.planFile, 'up', options.machine);
  return converge(loadSpec(options.file), { ...options, machine }, 'up', view, {
    saved,
    // up re-keys only an expired node (it has to join again anyway); a key near expiry is a note suggesting rotate
    nodeKeys: { now: Date.now(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false },
  });
}
