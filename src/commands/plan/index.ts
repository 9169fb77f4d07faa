import type { CommonOptions } from '../../cli.js';
import { EXIT, UsageError } from '../../errors.js';
import { prepareDown } from '../../apply/down.js';
import { prepareUp } from '../../apply/prepare.js';
import { printJson, stdout } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import { plan, withBlockers } from '../../plan/index.js';
import { offlineTailnetActions } from '../../plan/tailnet.js';
import type { Plan } from '../../plan/types.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { Spec } from '../../peer-yaml/types.js';
import { Transport } from '../../transport/remote.js';
import { newTokens, rotateNodeKeys } from '../rotate/index.js';
import { DEFAULT_REKEY_WINDOW_SECONDS, type NodeKeys } from '../../plan/machine.js';
import { refuseBadInput, localBlockers, planTailnet, specForPlanning } from '../readiness.js';
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
}

/**
 * Exit codes a CI gate can trust: 1 when the plan cannot be trusted or applied (a machine unreachable, a
 * blocking problem), otherwise 0; with --detailed-exitcode 3 only for real pending changes.
 */
export async function run(options: PlanOptions): Promise<number> {
  if (options.rekeyWithin !== undefined && options.for !== 'rotate') {
    throw new UsageError('--rekey-within is for --for rotate', 'add --for rotate (what rotate would re-key), or drop --rekey-within');
  }
  if (options.for !== 'rotate') {
    // up: a node key near expiry is shown as a note suggesting rotate
    const keys = options.for === 'up' ? { now: Date.now(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false } : undefined;
    return planFor(loadSpec(options.file), options, options.for, keys);
  }
  // what rotate would do: up's plan with new tokens (made here, shown only as "(sensitive value)", then thrown away)
  // and the nodes it would re-key
  const keys = rotateNodeKeys(options, Date.now());
  const rotation = newTokens(loadSpec(options.file));
  try {
    return await planFor(rotation.spec, options, 'up', keys);
  } finally {
    rotation.cleanup();
  }
}

async function planFor(spec: Spec, options: PlanOptions, command: 'up' | 'down', nodeKeys?: Omit<NodeKeys, 'provider'>): Promise<number> {
  if (options.offline && options.detailedExitcode) {
    throw new UsageError(
      '--detailed-exitcode cannot be answered with --offline: nothing is observed, so whether changes are pending is unknown',
      'drop --offline (plan observes the machines read-only), or drop --detailed-exitcode',
    );
  }
  const local = await localBlockers(spec, {
    pulumi: options.offline ? 'path' : 'version',
    secrets: command === 'up',
    ciState: command === 'up' ? { allowLocalState: Boolean(options.allowLocalState) } : undefined,
  });
  if (!options.offline) refuseBadInput(spec, local); // offline connects to nothing: a missing secret is only shown
  const only = targetSet(spec, options.machine);
  const whole = withBlockers(
    options.offline
      ? plan({ spec, command, machines: new Map(), tailnet: offlineTailnetActions(spec, command) })
      : await observedPlan(specForPlanning(spec, local), command, local, Boolean(options.acceptNewHostKeys), outsideOf(spec, only), nodeKeys),
    local,
  );
  const result = restrictPlan(whole, only);
  if (options.json) printJson(result);
  else stdout(renderPlan(result, { offline: options.offline }));
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
  local: Parameters<typeof planTailnet>[1],
  acceptNewHostKeys: boolean,
  outside: string[],
  nodeKeys?: Omit<NodeKeys, 'provider'>,
): Promise<Plan> {
  const transport = new Transport(spec, { acceptNewHostKeys });
  try {
    if (command === 'down') return (await prepareDown(spec, transport)).plan;
    // machines outside --machine get no key: they count as joined for the tailnet plan
    const tailnet = (joined: Set<string>, rekey: Set<string>) =>
      planTailnet(spec, local, new Set([...joined, ...outside]), new Set([...rekey].filter((m) => !outside.includes(m))));
    return (await prepareUp(spec, transport, tailnet, nodeKeys)).plan;
  } finally {
    await transport.close();
  }
}
