// Each peer pair of peer.yaml as the machines show it (pure: observations in, one row per pair out). What can be
// known read-only: whether both machines were reached and joined the tailnet, whether each one's OpenClaw config
// has an A2A entry for the other (channels.a2a.peers.<other>) pointing at the other's current tailnet address, and
// whether the tokens of the two sides agree (what one presents is what the other accepts; compared here, never
// shown). Whether a message gets through is verify's (peers --check probes the tokens; no verify result is kept).
import { a2aSecrets, a2aUrl } from '../../model/gateway-settings.js';
import type { Observed } from '../../observe/index.js';
import { nodeWithTags } from '../../observe/tailscale-status.js';
import type { Spec } from '../../peer-yaml/types.js';
import { isJoined } from '../../plan/node.js';

/** One machine's side of a pair: its entry for the other machine. */
export interface PairSide {
  machine: string;
  reachable: boolean;
  /** Why it could not be observed (reachable false). */
  reason?: string;
  joined: boolean | null;
  tailnetIp: string | null;
  /** channels.a2a.peers.<other> is in its config, with both tokens set. */
  entry: boolean | null;
  /** The entry's url is the other machine's A2A endpoint at its current tailnet address (null: cannot tell). */
  urlCurrent: boolean | null;
}

export type PairState = 'peered' | 'incomplete' | 'not peered' | 'unknown';

export interface PairRow {
  pair: [string, string];
  state: PairState;
  sides: [PairSide, PairSide];
  /** What one side presents is what the other accepts, both ways (null: a side's tokens are not both there). */
  tokensAgree: boolean | null;
  /** What is missing, one line each (empty when peered). */
  problems: string[];
}

const side = (spec: Spec, observed: Map<string, Observed>, machine: string, other: string): PairSide => {
  const o = observed.get(machine);
  if (o?.observation.status !== 'observed')
    return {
      machine,
      reachable: false,
      reason: o?.observation.status === 'unreachable' ? o.observation.reason : 'not observed',
      joined: null,
      tailnetIp: null,
      entry: null,
      urlCurrent: null,
    };
  const state = o.observation.state;
  const entry = state.gateway.a2a.peers[other];
  const otherState = observed.get(other)?.observation;
  const otherIp = otherState?.status === 'observed' ? otherState.state.tailscale.ip : undefined;
  const otherPort = spec.machines.find((m) => m.name === other)!.gateway.port;
  return {
    machine,
    reachable: true,
    joined: isJoined(spec.machines.find((m) => m.name === machine)!, state),
    tailnetIp: state.tailscale.ip ?? null,
    entry: Boolean(entry?.token && entry.outboundToken),
    urlCurrent: !entry?.url ? false : otherIp ? entry.url === a2aUrl(otherIp, otherPort) : null,
  };
};

/** Whether a's outbound token for b is b's inbound token for a, and the other way (the values never leave here). */
function tokensAgree(observed: Map<string, Observed>, a: string, b: string): boolean | null {
  const secrets = (machine: string, peer: string) => a2aSecrets(observed.get(machine)?.private?.config).find((p) => p.peer === peer);
  const ab = secrets(a, b);
  const ba = secrets(b, a);
  if (!ab?.token || !ab.outboundToken || !ba?.token || !ba.outboundToken) return null;
  return ab.outboundToken === ba.token && ba.outboundToken === ab.token;
}

export function pairRows(spec: Spec, observed: Map<string, Observed>): PairRow[] {
  return spec.peers.map(([a, b]) => {
    const sides: [PairSide, PairSide] = [side(spec, observed, a, b), side(spec, observed, b, a)];
    const agree = tokensAgree(observed, a, b);
    const problems: string[] = [];
    for (const [s, other] of [
      [sides[0], b],
      [sides[1], a],
    ] as const) {
      if (!s.reachable) problems.push(`${s.machine} is unreachable: ${s.reason}`);
      else {
        if (!s.joined) problems.push(`${s.machine} has not joined the tailnet`);
        if (!s.entry) problems.push(`${s.machine}'s OpenClaw config has no A2A entry for ${other} (channels.a2a.peers.${other})`);
        else if (s.urlCurrent === false) problems.push(`${s.machine}'s A2A entry for ${other} does not point at ${other}'s current tailnet address`);
      }
    }
    if (agree === false) problems.push(`the A2A tokens of ${a} and ${b} do not agree (one side presents a token the other does not accept)`);
    const state: PairState = sides.some((s) => !s.reachable)
      ? 'unknown'
      : problems.length === 0
        ? 'peered'
        : sides.every((s) => !s.entry)
          ? 'not peered'
          : 'incomplete';
    return { pair: [a, b], state, sides, tokensAgree: agree, problems };
  });
}

/** A friend's machine and one of yours in its `with`: only your side can be read (the friend's machine is theirs). */
export interface FriendRow {
  friend: string;
  hostname: string;
  machine: string;
  /** peered: joined, and your machine's entry for it has both tokens and its current url; waiting: not joined yet. */
  state: 'peered' | 'waiting' | 'incomplete' | 'unknown';
  /** Your machine sees the friend's node on the tailnet with the friend's tags (null: your machine was not reached). */
  joined: boolean | null;
  tailnetIp: string | null;
  /** channels.a2a.peers.<hostname> is in your machine's config, with both tokens set. */
  entry: boolean | null;
  urlCurrent: boolean | null;
  problems: string[];
}

export function friendRows(spec: Spec, observed: Map<string, Observed>): FriendRow[] {
  return spec.friends.flatMap((f) =>
    f.with.map((machine): FriendRow => {
      const base = { friend: f.name, hostname: f.hostname, machine };
      const o = observed.get(machine)?.observation;
      if (o?.status !== 'observed') {
        const reason = o?.status === 'unreachable' ? o.reason : 'not observed';
        return { ...base, state: 'unknown', joined: null, tailnetIp: null, entry: null, urlCurrent: null, problems: [`${machine} is unreachable: ${reason}`] };
      }
      const node = nodeWithTags(o.state.tailscale, f.tags);
      const entry = o.state.gateway.a2a.peers[f.hostname];
      const hasEntry = Boolean(entry?.token && entry.outboundToken);
      const urlCurrent = !entry?.url ? false : node?.ip ? entry.url === a2aUrl(node.ip, f.port) : null;
      const problems = [
        ...(node
          ? []
          : [`${f.name}'s machine is not on the tailnet as ${machine} sees it: not invited, not accepted yet, or left (\`peer-provision invite ${f.name}\`)`]),
        ...(hasEntry ? [] : [`${machine}'s OpenClaw config has no A2A entry for ${f.hostname} (channels.a2a.peers.${f.hostname}): run up`]),
        ...(node && hasEntry && urlCurrent === false ? [`${machine}'s A2A entry for ${f.hostname} does not point at its current tailnet address: run up`] : []),
      ];
      return {
        ...base,
        state: problems.length === 0 ? 'peered' : !node && hasEntry ? 'waiting' : 'incomplete',
        joined: Boolean(node),
        tailnetIp: node?.ip ?? null,
        entry: hasEntry,
        urlCurrent,
        problems,
      };
    }),
  );
}
