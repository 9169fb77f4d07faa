// Spec + observations -> Plan. Pure: no I/O, no clock, no randomness; the same input gives the same plan.
import { sha256 } from '../model/hash.js';
import { nodeWithTags } from '../observe/tailscale-status.js';
import type { MachineObservation, MachineState, PolicyObservation } from '../observe/types.js';
import type { Spec } from '../peer-yaml/types.js';
import { machinePreconditions } from './blockers/preconditions.js';
import { describeNode, downBlockers, duplicateMachines, tailscaledBlockers, upBlockers } from './blockers/safety.js';
import { weakTokenBlockers } from './blockers/tokens.js';
import type { Desired } from './gateway.js';
import { downNotes, planMachineDown } from './machine-down.js';
import { planMachineUp } from './machine-up.js';
import { type NodeKeys, nodeKeyPlan } from './node-keys.js';
import type { JoinWith } from './step-kinds.js';
import { type FriendKeys, planTailnet } from './tailnet.js';
import {
  allSteps,
  type Blocker,
  describeTarget,
  type MachinePlan,
  machineBlockers,
  type Plan,
  type PlanBasis,
  type PlanBlocker,
  type Step,
  summarise,
} from './types.js';

export interface PlanInput {
  spec: Spec;
  command: 'up' | 'down';
  /** By machine name; a missing entry counts as offline. */
  machines: Map<string, MachineObservation>;
  /** The tailnet policy as observe read it, or why not. */
  policy: PolicyObservation;
  /** Machines counted as joined for the tailnet's plan although they are not (--machine leaves them out: no key). */
  countAsJoined?: string[];
  /** By machine name; see Desired. */
  desired?: Map<string, Desired>;
  /** up: node key expiry against this time and window (rotate: re-key); absent: nothing said about node keys. */
  nodeKeys?: Omit<NodeKeys, 'provider'>;
  /** Blockers found on this side (a secret, the Pulumi CLI, credentials, the state): they come first. */
  localBlockers?: PlanBlocker[];
  /** up: the keys of friends with a pending invite, and those this run mints (invite). */
  friendKeys?: FriendKeys;
}

export function plan(input: PlanInput): Plan {
  const { spec, command } = input;
  const observed = spec.machines.flatMap((m) => {
    const o = input.machines.get(m.name);
    return o?.status === 'observed' ? [{ machine: m.name, state: o.state }] : [];
  });
  const duplicates = duplicateMachines(observed);
  const keys = command === 'up' && input.nodeKeys ? { ...input.nodeKeys, provider: spec.tailnet.provider } : undefined;
  const joinWith = joinWithOf(spec);
  const machines = spec.machines.map((machine): MachinePlan => {
    const observation = input.machines.get(machine.name) ?? { status: 'offline' as const };
    const actions =
      command === 'up' ? planMachineUp(machine, observation, input.desired?.get(machine.name) ?? {}, joinWith, keys) : planMachineDown(machine, observation);
    const blockers: Blocker[] = [];
    const duplicate = duplicates.get(machine.name);
    if (duplicate) blockers.push(duplicate);
    if (observation.status === 'observed') blockers.push(...tailscaledBlockers(machine, observation.state));
    if (command === 'up' && observation.status === 'observed') {
      blockers.push(
        ...upBlockers(machine, observation.state),
        ...machinePreconditions(machine, observation.state, actions),
        ...weakTokenBlockers(machine, observation.state),
        ...friendEntryBlockers(machine.name, observation.state, input.desired?.get(machine.name)),
      );
    }
    if (command === 'down' && observation.status === 'observed') blockers.push(...downBlockers(spec.name, observation.state));
    const keyNote = keys && observation.status === 'observed' ? nodeKeyPlan(machine, observation.state, keys).note : undefined;
    const notes =
      observation.status !== 'observed'
        ? []
        : command === 'up'
          ? [describeNode(observation.state), ...(keyNote ? [keyNote] : [])]
          : downNotes(machine, observation);
    return {
      machine: machine.name,
      target: describeTarget(machine.ssh),
      observed: observation.status,
      reason: observation.status === 'unreachable' ? observation.reason : undefined,
      actions,
      ...(blockers.length ? { blockers } : {}),
      ...(notes.length ? { notes } : {}),
    };
  });
  const joins = machines.flatMap((m) => m.actions.flatMap((a) => (a.kind === 'join' ? [a] : [])));
  const joining = joins.map((a) => a.machine!);
  // a node being re-keyed is on the tailnet already: its policy tests stay
  const onTailnet = (n: string) => !joining.includes(n) || joins.some((a) => a.machine === n && a.input.rekey);
  const joined = new Set([...observed.map((o) => o.machine).filter(onTailnet), ...(input.countAsJoined ?? [])]);
  const tailnet = planTailnet({
    spec,
    command,
    joined,
    joining,
    policy: input.policy,
    friendKeys: input.friendKeys,
    friendsJoined: friendsJoined(spec, observed),
  });
  const linked = link(command, tailnet.actions, machines);
  return {
    format: 'peer-provision/plan@2',
    command,
    stack: spec.name,
    file: spec.file,
    tailnet: { provider: spec.tailnet.provider, actions: tailnet.actions, notes: tailnet.notes },
    machines: linked,
    blockers: [...(input.localBlockers ?? []), ...machineBlockers(linked)],
    summary: summarise(allSteps({ tailnet: { provider: spec.tailnet.provider, ...tailnet }, machines: linked })),
    basis: basis(spec, input),
  };
}

/**
 * The needs between machines and the tailnet: up joins with the minted keys, patches a machine's config once its peers
 * have joined (their A2A URLs are their tailnet addresses) and writes its peer files once its peers are done; down's
 * tailnet side waits for every machine.
 */
function link(command: 'up' | 'down', tailnet: Step[], machines: MachinePlan[]): MachinePlan[] {
  const mint = tailnet.find((s) => s.kind === 'mint-keys');
  const own = (name: string) => machines.find((m) => m.machine === name)?.actions.filter((s) => s.op !== 'unknown' && s.kind !== 'write-peer-files') ?? [];
  // a peer's A2A URL is its tailnet address: known once it has joined
  const joinedBy = (name: string) => own(name).filter((s) => s.kind === 'install-tailscale' || s.kind === 'join');
  if (command === 'down') {
    const first = tailnet.find((s) => s.op !== 'unknown');
    if (first) first.after = machines.flatMap((m) => m.actions.filter((s) => s.op !== 'unknown').map((s) => s.id));
    return machines;
  }
  return machines.map((m) => ({
    ...m,
    actions: m.actions.map((s): Step => {
      if (s.kind === 'join' && mint) return { ...s, needs: [...s.needs, mint.id] };
      if (s.kind === 'patch-config') return { ...s, needs: [...new Set([...s.needs, ...s.input.a2a.peers.flatMap((p) => joinedBy(p).map((x) => x.id))])] };
      if (s.kind === 'write-peer-files') return { ...s, needs: [...new Set([...s.needs, ...s.input.peers.flatMap((p) => own(p).map((x) => x.id))])] };
      return s;
    }),
  }));
}

/** What the plan saw, for the stale-plan check of a saved plan (no secret: a token is only "set" or not). */
function basis(spec: Spec, input: PlanInput): PlanBasis {
  const machines: PlanBasis['machines'] = {};
  for (const m of spec.machines) {
    const o = input.machines.get(m.name);
    if (o?.status !== 'observed') {
      machines[m.name] = o?.status === 'unreachable' ? 'unreachable' : 'offline';
      continue;
    }
    // (a saved plan is an artifact others read: the machine id, an identifier, stays out, as a token's hash does)
    const { machineId: _id, ...state } = o.state;
    const { tokenHash, ...gateway } = o.state.gateway;
    machines[m.name] = { ...state, gateway: { ...gateway, tokenSet: tokenHash !== undefined } };
  }
  const { file: _file, ...declared } = spec;
  return {
    specDigest: sha256(JSON.stringify(declared)),
    machines,
    ...('text' in input.policy ? { policyHash: sha256(input.policy.text) } : {}),
  };
}

/**
 * A friend's A2A name that the config already lists for a peer of its owner's own (not recorded as peer-provision's):
 * writing it would take that entry over, and removing the friend would delete it.
 */
function friendEntryBlockers(machine: string, state: MachineState, desired: Desired | undefined): Blocker[] {
  return Object.keys(desired?.friends ?? {})
    .filter((name) => name in state.gateway.a2a.peers && !state.gateway.friendPeers?.includes(name))
    .map((name) => ({
      reason: `${machine}'s OpenClaw config already lists an A2A peer ${name} of its own (channels.a2a.peers.${name}), not written by peer-provision`,
      fix: `give the friend's machine another name (friends.<name>.hostname; on the friend's side, ask for it), or remove that entry from the config`,
    }));
}

/** The friends whose machine one of the stack's machines sees with the friend's tags (only the friend's key gives them). */
export function friendsJoined(spec: Spec, observed: { state: MachineState }[]): Set<string> {
  const seen = (tags: string[]) => observed.some(({ state }) => nodeWithTags(state.tailscale, tags));
  return new Set(spec.friends.filter((f) => seen(f.tags)).map((f) => f.name));
}

/** Decided once, here: where each join's key comes from and which control server it names (apply only reads it). */
function joinWithOf(spec: Spec): JoinWith {
  return { key: spec.tailnet.provider === 'pulumi' ? 'minted' : 'provided', ...(spec.tailnet.controlUrl ? { loginServer: spec.tailnet.controlUrl } : {}) };
}
