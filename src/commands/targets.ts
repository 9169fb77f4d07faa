// --machine NAME (repeatable): act on some machines only, as terraform's -target and ansible's --limit. The
// others are still read where their peers need them (addresses and tokens for peer files), never changed;
// pairs with a machine outside the set are left as they are, and verify checks the pairs inside it.
import { closest } from 'fastest-levenshtein';
import { UsageError } from '../errors.js';
import type { Spec } from '../peer-yaml/types.js';
import { machineBlockers, type Plan, summarise } from '../plan/types.js';

export const NOT_TARGETED = 'not targeted (--machine): left as it is';

/** The machines named with --machine, checked against peer.yaml; undefined when none was named (all of them). */
export function targetSet(spec: Spec, names: string[] | undefined): Set<string> | undefined {
  if (!names?.length) return undefined;
  const known = spec.machines.map((m) => m.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new UsageError(
      unknown.map((n) => `--machine ${n}: no such machine in ${spec.file}${known.length ? ` (did you mean ${closest(n, known)}?)` : ''}`).join('\n'),
      `the machines are: ${known.join(', ')}`,
    );
  }
  return new Set(names);
}

/** The machines --machine leaves out (none without it). */
export const outsideOf = (spec: Spec, only: Set<string> | undefined) => (only ? spec.machines.map((m) => m.name).filter((n) => !only.has(n)) : []);

/** The spec as verify sees it with --machine: the targeted machines and the pairs among them. */
export function restrictSpec(spec: Spec, only: Set<string> | undefined): Spec {
  if (!only) return spec;
  return { ...spec, machines: spec.machines.filter((m) => only.has(m.name)), peers: spec.peers.filter(([a, b]) => only.has(a) && only.has(b)) };
}

/**
 * The plan with --machine: a machine outside the set keeps what was observed but has no action, no blocker and a
 * note saying so; for down, the tailnet (the whole stack's keys, devices, policy) is left alone too.
 */
export function restrictPlan(plan: Plan, only: Set<string> | undefined): Plan {
  if (!only) return plan;
  const machines = plan.machines.map((m) =>
    only.has(m.machine) ? m : { ...m, actions: [], blockers: undefined, notes: [NOT_TARGETED], skipped: NOT_TARGETED },
  );
  const tailnet =
    plan.command === 'down'
      ? {
          ...plan.tailnet,
          actions: [],
          notes: [...plan.tailnet.notes, "left as it is: only a down of the whole stack revokes this stack's keys and removes its devices and policy entries"],
        }
      : plan.tailnet;
  const local = plan.blockers.filter((b) => b.kind !== 'machine');
  return {
    ...plan,
    targets: [...only],
    tailnet,
    machines,
    blockers: [...local, ...machineBlockers(machines)],
    summary: summarise([...tailnet.actions, ...machines.flatMap((m) => m.actions)]),
  };
}

/** The machines a command acts on (all without --machine). */
export const targeted = (plan: Plan) => plan.machines.filter((m) => !m.skipped);
