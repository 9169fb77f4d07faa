import { EXIT, UsageError } from '../../errors.js';
import { OFFLINE } from '../../observe/tailnet.js';
import { renderPlan } from '../../output/render-plan.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { Spec } from '../../peer-yaml/types.js';
import { plan } from '../../plan/index.js';
import { DEFAULT_REKEY_WINDOW_SECONDS, type NodeKeys } from '../../plan/node-keys.js';
import type { Plan, PlanBlocker } from '../../plan/types.js';
import type { CommonOptions } from '../../program.js';
import { Transport } from '../../transport/remote.js';
import { observeAndPlan } from '../observe-and-plan.js';
import { localBlockers, refuseBadInput, specForPlanning } from '../preflight.js';
import { rotateNodeKeys } from '../rotation.js';
import { checkPlanOut, writePlanFile } from '../saved-plan.js';
import { outsideOf, restrictPlan, targeted, targetSet } from '../targets.js';

interface PlanOptions extends CommonOptions {
  offline?: boolean;
  detailedExitcode?: boolean;
  for: 'up' | 'down' | 'rotate';
  acceptNewHostKeys?: boolean;
  allowLocalState?: boolean;
  machine?: string[];
  /** With --for rotate: re-key nodes whose key expires within this duration (default 7d). */
  rekeyWithin?: string;
  /** Write the plan to this file, for `up FILE` / `down FILE`. */
  out?: string;
}

/**
 * Exit codes a CI gate can trust: 1 when the plan cannot be trusted or applied (a machine unreachable, a
 * blocking problem), otherwise 0; with --detailed-exitcode 3 only for real pending changes.
 */
export async function run(options: PlanOptions, view: View): Promise<number> {
  if (options.rekeyWithin !== undefined && options.for !== 'rotate') {
    throw new UsageError('--rekey-within is for --for rotate', 'add --for rotate (what rotate would re-key), or drop --rekey-within');
  }
  if (options.for !== 'rotate') {
    // up: a node key near expiry is shown as a note suggesting rotate
    const keys = options.for === 'up' ? { now: Date.now(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false } : undefined;
    return planFor(loadSpec(options.file), options, options.for, view, keys);
  }
  if (options.out)
    throw new UsageError(
      '--out cannot save a rotate plan: its new tokens exist only for the run that makes them',
      'run `peer-provision rotate` (it shows the plan and asks)',
    );
  // what rotate would do: up's plan with new A2A tokens (made here, shown only as "(sensitive)", then thrown away)
  // and the nodes it would re-key
  const keys = rotateNodeKeys(options, Date.now());
  return planFor(loadSpec(options.file), options, 'up', view, keys, true);
}

async function planFor(
  spec: Spec,
  options: PlanOptions,
  command: 'up' | 'down',
  view: View,
  nodeKeys?: Omit<NodeKeys, 'provider'>,
  newA2aTokens = false,
): Promise<number> {
  if (options.offline && options.detailedExitcode) {
    throw new UsageError(
      '--detailed-exitcode cannot be answered with --offline: nothing is observed, so whether changes are pending is unknown',
      'drop --offline (plan observes the machines read-only), or drop --detailed-exitcode',
    );
  }
  const local = await localBlockers(spec, {
    secrets: command === 'up',
    ciState: command === 'up' ? { allowLocalState: Boolean(options.allowLocalState) } : undefined,
  });
  if (!options.offline) refuseBadInput(spec, local); // offline connects to nothing: a missing secret is only shown
  const only = targetSet(spec, options.machine);
  if (options.out && options.offline)
    throw new UsageError('--out cannot save an --offline plan: nothing was observed, so there is nothing to apply', 'drop --offline');
  if (options.out) checkPlanOut(options.out, spec.file);
  const whole = options.offline
    ? plan({ spec, command, machines: new Map(), policy: { unread: OFFLINE, offline: true }, localBlockers: local })
    : await observedPlan(specForPlanning(spec, local), command, local, Boolean(options.acceptNewHostKeys), outsideOf(spec, only), nodeKeys, newA2aTokens);
  const result = restrictPlan(whole, only);
  if (options.out) writePlanFile(options.out, result);
  view.document(result, () => renderPlan(result, { offline: options.offline }));
  if (options.offline) return EXIT.ok;
  // up would refuse, or something could not be looked at: a CI gate must not pass
  const unreachable = targeted(result).some((m) => m.observed === 'unreachable');
  const s = result.summary;
  if (unreachable || result.blockers.length > 0 || (options.detailedExitcode && s.unknown > 0)) return EXIT.failure;
  return options.detailedExitcode && s.add + s.change + s.destroy > 0 ? EXIT.changesPending : EXIT.ok;
}

/** Reads every machine (read-only) and, for pulumi with acl merge, the tailnet policy. Writes nothing. */
async function observedPlan(
  spec: Spec,
  command: 'up' | 'down',
  local: PlanBlocker[],
  acceptNewHostKeys: boolean,
  outside: string[],
  nodeKeys?: Omit<NodeKeys, 'provider'>,
  newA2aTokens = false,
): Promise<Plan> {
  const transport = new Transport(spec, { acceptNewHostKeys });
  try {
    return (await observeAndPlan(spec, command, transport, { local, outside, nodeKeys, newA2aTokens })).plan;
  } finally {
    await transport.close();
  }
}
