// Everything up needs before it can show a plan: observe the machines, decide each gateway's token, work
// out the peer files each machine should have, and hand the planner hashes (never secrets).
import { observeAll } from '../observe/index.js';
import { sha256 } from '../observe/parse.js';
import { plan, type PlanInput } from '../plan/index.js';
import { isJoined, nodeKeyPlan, type Desired, type NodeKeys } from '../plan/machine.js';
import type { Action, Plan } from '../plan/types.js';
import type { Spec } from '../peer-yaml/types.js';
import type { Transport } from '../transport/remote.js';
import { peerInfos, type MachineRun } from './context.js';
import { addTokenBlockers, assertTokenReferencesUsable, decideToken } from './tokens.js';
import { peerFilesFor } from './steps.js';

export interface Prepared {
  plan: Plan;
  runs: Map<string, MachineRun>;
}

/** joined: machines on the tailnet as this stack wants; rekey: those of them that get a fresh key (rotate). */
export type TailnetPlanner = (joined: Set<string>, rekey: Set<string>) => Promise<{ actions: Action[]; notes: string[] }>;

export async function prepareUp(spec: Spec, transport: Transport, tailnet: TailnetPlanner, nodeKeys?: Omit<NodeKeys, 'provider'>): Promise<Prepared> {
  assertTokenReferencesUsable(spec); // an env:/file: token outside the token rule: exit 2, before any connection
  const observed = await observeAll(spec, transport);
  const runs = new Map<string, MachineRun>();
  const desired = new Map<string, Desired>();
  for (const machine of spec.machines) {
    const o = observed.get(machine.name)!;
    if (o.observation.status !== 'observed') continue;
    const state = o.observation.state;
    const { token, keepExisting } = decideToken(machine, o.private);
    runs.set(machine.name, {
      spec,
      machine,
      remote: transport.for(machine),
      state,
      private: o.private!,
      actions: [],
      token,
      ip: isJoined(machine, state) ? state.tailscale.ip : undefined,
    });
    desired.set(machine.name, { tokenHash: keepExisting ? undefined : sha256(token) });
  }
  // Peer files are known only where every peer has joined already (otherwise: after they join).
  for (const [name, run] of runs) {
    const infos = run.state.gateway.configPath ? peerInfos(spec, runs, name) : undefined;
    if (infos) desired.get(name)!.peerFilesHash = peerFilesFor(run, infos).digest;
  }
  const joined = new Set([...runs.values()].filter((r) => r.ip).map((r) => r.machine.name));
  // A joined node being re-keyed needs a key too (an expired one is not joined: it gets one anyway).
  const keys = nodeKeys && { ...nodeKeys, provider: spec.tailnet.provider };
  const rekey = new Set([...joined].filter((name) => keys && nodeKeyPlan(runs.get(name)!.machine, runs.get(name)!.state, keys).rekey));
  const input: PlanInput = {
    spec,
    command: 'up',
    machines: new Map([...observed].map(([name, o]) => [name, o.observation])),
    tailnet: await tailnet(joined, rekey),
    desired,
    nodeKeys,
  };
  const result = plan(input);
  addTokenBlockers(result, spec, observed); // a weak token in a config is replaced only with the user's consent
  for (const m of result.machines) {
    const run = runs.get(m.machine);
    if (run) run.actions = m.actions;
  }
  return { plan: result, runs };
}
