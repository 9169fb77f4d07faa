// Spec + observations -> Plan. Pure: no I/O, no clock, no randomness; the same input gives the same plan.
import type { MachineObservation } from '../observe/types.js';
import type { Spec } from '../peer-yaml/types.js';
import { downNotes, nodeKeyPlan, planMachineDown, planMachineUp, type Desired, type NodeKeys } from './machine.js';
import { machinePreconditions } from './preconditions.js';
import { describeNode, duplicateMachines, upBlockers } from './safety.js';
import { describeTarget, machineBlockers, summarise, type Action, type Blocker, type Plan, type PlanBlocker } from './types.js';

export interface PlanInput {
  spec: Spec;
  command: 'up' | 'down';
  /** By machine name; a missing entry counts as offline. */
  machines: Map<string, MachineObservation>;
  tailnet: { actions: Action[]; notes: string[] };
  /** By machine name; see Desired. */
  desired?: Map<string, Desired>;
  /** up: node key expiry against this time and window (rotate: re-key); absent: nothing said about node keys. */
  nodeKeys?: Omit<NodeKeys, 'provider'>;
}

export function plan(input: PlanInput): Plan {
  const { spec, command } = input;
  const observed = spec.machines.flatMap((m) => {
    const o = input.machines.get(m.name);
    return o?.status === 'observed' ? [{ machine: m.name, state: o.state }] : [];
  });
  const duplicates = duplicateMachines(observed);
  const keys = command === 'up' && input.nodeKeys ? { ...input.nodeKeys, provider: spec.tailnet.provider } : undefined;
  const machines = spec.machines.map((machine) => {
    const observation = input.machines.get(machine.name) ?? { status: 'offline' as const };
    const actions =
      command === 'up'
        ? planMachineUp(machine, observation, input.desired?.get(machine.name) ?? {}, keys)
        : planMachineDown(machine, observation);
    const blockers: Blocker[] = [];
    const duplicate = duplicates.get(machine.name);
    if (duplicate) blockers.push(duplicate);
    if (command === 'up' && observation.status === 'observed') {
      blockers.push(...upBlockers(machine, observation.state), ...machinePreconditions(machine, observation.state, actions));
    }
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
  const all = [...input.tailnet.actions, ...machines.flatMap((m) => m.actions)];
  return {
    format: 'peer-provision/plan@1',
    command,
    stack: spec.name,
    file: spec.file,
    tailnet: { provider: spec.tailnet.provider, actions: input.tailnet.actions, notes: input.tailnet.notes },
    machines,
    blockers: machineBlockers(machines),
    summary: summarise(all),
  };
}

/** The plan with blockers found outside the planner (secrets, tools, credentials, the state) put first. */
export const withBlockers = (plan: Plan, local: PlanBlocker[]): Plan => ({ ...plan, blockers: [...local, ...plan.blockers] });
