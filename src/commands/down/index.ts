// peer-provision down [PLAN]: the change pipeline (../change-pipeline.ts) with down's plan: each config put back,
// the gateways restarted on loopback, the tailnet left; then the stack's keys, devices and policy entries removed.
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { savedPlanArgs } from '../saved-plan.js';
import { targetSet } from '../targets.js';
import { type DownOptions, tearDown } from '../tear-down.js';

/** `planFile`: a plan saved with `plan --for down --out`; the fresh plan runs (without asking) when it is still that one. */
export async function run(options: DownOptions & { planFile?: string }, view: View): Promise<number> {
  const { saved, machine } = savedPlanArgs(options.planFile, 'down', options.machine);
  const spec = loadSpec(options.file);
  return tearDown(spec, options, view, { only: targetSet(spec, machine), saved });
}
