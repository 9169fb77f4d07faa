// What plan, up and down share before anything is changed: observe every machine (and, for up, the tailnet
// policy), decide each gateway's token, work out the peer files each machine should have, and hand the pure
// planner hashes and verdicts (never a secret). The MachineRuns keep what apply needs that a plan may not hold.
import { type MachineRun, peerInfos } from '../apply/context.js';
import { peerFilesFor } from '../apply/executors/write-peer-files.js';
import { a2aUrl } from '../model/gateway-settings.js';
import { sha256 } from '../model/hash.js';
import { decideA2aTokens, tokensInPlace } from '../observe/a2a-tokens.js';
import { observeAll } from '../observe/index.js';
import { observePolicy } from '../observe/tailnet.js';
import { assertTokenReferencesUsable, decideToken } from '../observe/tokens.js';
import type { PolicyObservation } from '../observe/types.js';
import type { Spec } from '../peer-yaml/types.js';
import { peersOf } from '../peer-yaml/types.js';
import type { Desired } from '../plan/gateway.js';
import { plan } from '../plan/index.js';
import { isJoined } from '../plan/node.js';
import type { NodeKeys } from '../plan/node-keys.js';
import type { Plan, PlanBlocker } from '../plan/types.js';
import type { Transport } from '../transport/remote.js';
import { pulumiBlockers } from './preflight.js';

/** What observing and planning found: the plan of every machine, and how to reach each. */
export interface Observed {
  plan: Plan;
  runs: Map<string, MachineRun>;
}

export interface PrepareOptions {
  /** Found on this side before observing: shown first in the plan; while one is there, Tailscale is not read. */
  local: PlanBlocker[];
  /** Machines --machine leaves out: they get no key (counted as joined for the tailnet's plan). */
  outside?: string[];
  /** up: node key expiry against this time and window (rotate: re-key); absent: nothing said about node keys. */
  nodeKeys?: Omit<NodeKeys, 'provider'>;
  /** rotate: every A2A token new (up keeps the ones both configs of a pair agree on). */
  newA2aTokens?: boolean;
}

export async function observeAndPlan(spec: Spec, command: 'up' | 'down', transport: Transport, options: PrepareOptions): Promise<Observed> {
  if (command === 'up') assertTokenReferencesUsable(spec); // an env:/file: token outside the token rule: exit 2, before any connection
  const [observed, policy] = await Promise.all([
    observeAll(spec, transport, command === 'down'),
    observePolicy(spec, { command, blocked: options.local.some((b) => b.kind !== 'machine') }) as Promise<PolicyObservation>,
  ]);
  const runs = new Map<string, MachineRun>();
  const desired = new Map<string, Desired>();
  // down needs no token: it removes them
  const a2aTokens = command === 'up' ? decideA2aTokens(spec, observed, options.newA2aTokens) : undefined;
  for (const machine of spec.machines) {
    const o = observed.get(machine.name)!;
    if (o.observation.status !== 'observed') continue;
    const state = o.observation.state;
    const { token, keepExisting } = command === 'up' ? decideToken(machine, o.private) : { token: '', keepExisting: true };
    runs.set(machine.name, {
      spec,
      machine,
      remote: transport.for(machine),
      state,
      private: o.private!,
      token,
      a2a: a2aTokens?.get(machine.name) ?? new Map(),
      ip: isJoined(machine, state) ? state.tailscale.ip : undefined,
    });
    desired.set(machine.name, {
      tokenHash: keepExisting ? undefined : sha256(token),
      peers: peersOf(spec, machine.name),
      stackMachines: spec.machines.map((m) => m.name),
    });
  }
  // A peer's A2A URL is known once it has joined; tokens are compared here, so that the plan holds only a verdict.
  for (const [name, run] of command === 'up' ? runs : []) {
    desired.get(name)!.a2a = Object.fromEntries(
      peersOf(spec, name).map((peer) => {
        const p = runs.get(peer);
        const url = p?.ip ? a2aUrl(p.ip, p.machine.gateway.port) : undefined;
        return [peer, { ...(url ? { url } : {}), tokensInPlace: tokensInPlace(observed.get(name), peer, run.a2a.get(peer)!) }];
      }),
    );
  }
  // Peer files are known only where every peer has joined already (otherwise: after they join).
  for (const [name, run] of runs) {
    const infos = run.state.gateway.configPath ? peerInfos(runs, peersOf(spec, name)) : undefined;
    if (infos) desired.get(name)!.peerFilesHash = peerFilesFor(run, infos).digest;
  }
  const planWith = (localBlockers: PlanBlocker[]) =>
    plan({
      spec,
      command,
      machines: new Map([...observed].map(([name, o]) => [name, o.observation])),
      policy,
      desired,
      countAsJoined: options.outside,
      nodeKeys: command === 'up' ? options.nodeKeys : undefined,
      localBlockers,
    });
  let result = planWith(options.local);
  // A tool only a planned step needs (the Pulumi CLI to mint or revoke keys) is checked now that the steps are known;
  // the pure planner is asked again with what that check found.
  const late = await pulumiBlockers(spec, result);
  if (late.length > 0) result = planWith([...options.local, ...late]);
  return { plan: result, runs };
}
