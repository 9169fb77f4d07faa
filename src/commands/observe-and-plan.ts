// What plan, up and down share before anything is changed: observe every machine (and, for up, the tailnet
// policy), decide each gateway's token, work out the peer files each machine should have, and hand the pure
// planner hashes and verdicts (never a secret). The MachineRuns keep what apply needs that a plan may not hold.
import { type MachineRun, peerInfos } from '../apply/context.js';
import { peerFilesFor } from '../apply/executors/write-peer-files.js';
import { formerFriends, friendKeysOf, keysToRevoke, pendingInvites, type RecordedInvite, readInvites } from '../friend/pending.js';
import { a2aUrl } from '../model/gateway-settings.js';
import { sha256 } from '../model/hash.js';
import { decideA2aTokens, type FixedPeers, tokensInPlace } from '../observe/a2a-tokens.js';
import { type Observed as ObservedMachine, observeAll } from '../observe/index.js';
import { observePolicy } from '../observe/tailnet.js';
import { nodeWithTags } from '../observe/tailscale-status.js';
import { assertTokenReferencesUsable, decideToken } from '../observe/tokens.js';
import type { PolicyObservation } from '../observe/types.js';
import type { Spec } from '../peer-yaml/types.js';
import { peersOf } from '../peer-yaml/types.js';
import type { Desired } from '../plan/gateway.js';
import { friendsJoined, plan } from '../plan/index.js';
import { isJoined } from '../plan/node.js';
import type { NodeKeys } from '../plan/node-keys.js';
import type { FriendKeys } from '../plan/tailnet.js';
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
  /** invite: the invite this run makes (its friend's key is minted now). */
  invite?: RecordedInvite;
  /** accept: the inviter's machines as the invite gives them (address and tokens), by name. */
  fixedPeers?: FixedPeers;
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
  const a2aTokens = command === 'up' ? decideA2aTokens(spec, observed, options.newA2aTokens, options.fixedPeers) : undefined;
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
    const friends = friendLinks(spec, run, observed.get(name), options.fixedPeers);
    desired.get(name)!.friends = Object.fromEntries(
      [...friends].map(([f, link]) => [f, { ...(link.url ? { url: link.url } : {}), tokensInPlace: link.tokensInPlace }]),
    );
    run.friends = new Map([...friends].flatMap(([f, link]) => (link.ip ? [[f, { ip: link.ip, port: link.port }]] : [])));
    desired.get(name)!.friendFiles = [...run.friends].map(([f, { ip, port }]) => ({ name: f, hostname: f, ip, port }));
  }
  // Peer files are known only where every peer has joined already (otherwise: after they join).
  for (const [name, run] of runs) {
    const machines = run.state.gateway.configPath ? peerInfos(runs, peersOf(spec, name)) : undefined;
    if (machines) desired.get(name)!.peerFilesHash = peerFilesFor(run, [...machines, ...(desired.get(name)!.friendFiles ?? [])]).digest;
  }
  // (accept: the inviter's machines are its friends, and their keys are not this side's)
  const friendKeys = command === 'up' && !options.fixedPeers ? friendKeysFor(spec, observed, options.invite) : undefined;
  const planWith = (localBlockers: PlanBlocker[]) =>
    plan({
      friendKeys,
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

/** The keys of the stack's pending invites (the recorded ones still pending, and the one this run makes). */
function friendKeysFor(spec: Spec, observed: Map<string, ObservedMachine>, invite: RecordedInvite | undefined): FriendKeys {
  const states = [...observed.values()].flatMap((o) => (o.observation.status === 'observed' ? [{ state: o.observation.state }] : []));
  const joined = friendsJoined(spec, states);
  const recorded = readInvites(spec);
  const now = Date.now();
  const friends = spec.friends.map((f) => f.name);
  const pending = pendingInvites(recorded, now, friends, joined).filter((i) => i.friend !== invite?.friend);
  // someone no longer a friend: a Pulumi run drops an unexpired invite's key, then their device goes
  const revoke = keysToRevoke(recorded, now, friends);
  const former = formerFriends(recorded, friends);
  return {
    pending: friendKeysOf(invite ? [...pending, invite] : pending),
    mint: invite ? [invite.friend] : [],
    ...(revoke.length ? { revoke } : {}),
    ...(former.length ? { former } : {}),
  };
}

/**
 * This machine's friends: the URL of a friend's machine once this node sees it on the tailnet with the friend's tags
 * (the tags only the friend's key gives; a hostname may be taken), and whether the config holds the pair's tokens.
 */
function friendLinks(
  spec: Spec,
  run: MachineRun,
  observed: Parameters<typeof tokensInPlace>[0],
  fixed: FixedPeers = new Map(),
): Map<string, { ip?: string; port: number; url?: string; tokensInPlace: boolean }> {
  const links = new Map<string, { ip?: string; port: number; url?: string; tokensInPlace: boolean }>();
  for (const friend of spec.friends.filter((f) => f.with.includes(run.machine.name))) {
    const ip = fixed.get(friend.hostname)?.ip ?? nodeWithTags(run.state.tailscale, friend.tags)?.ip;
    links.set(friend.hostname, {
      ...(ip ? { ip, url: a2aUrl(ip, friend.port) } : {}),
      port: friend.port,
      tokensInPlace: tokensInPlace(observed, friend.hostname, run.a2a.get(friend.hostname)!),
    });
  }
  return links;
}
