// Which A2A tokens each pair of peers ends up with: one per direction (what A presents to B is not what B presents
// to A), 256-bit random, made here. A re-run keeps the token both configs already agree on (a second up changes
// nothing); rotate (fresh) makes every one new. A token lives only in the two OpenClaw configs it links and in memory.
import { a2aSecrets } from '../model/gateway-settings.js';
import { tokenProblem } from '../peer-yaml/token-rule.js';
import type { Spec } from '../peer-yaml/types.js';
import type { Observed } from './index.js';
import { newToken } from './tokens.js';

/** Per machine, per peer (a machine's name, or a friend's hostname): the token that peer presents here, and the one this machine presents to it. */
export type A2aTokens = Map<string, Map<string, { token: string; outboundToken: string }>>;

type Found = Map<string, Map<string, { token?: string; outboundToken?: string }>>;

function found(observed: Map<string, Observed>): Found {
  const out: Found = new Map();
  for (const [machine, o] of observed) {
    out.set(machine, new Map(a2aSecrets(o.private?.config).map((p) => [p.peer, p])));
  }
  return out;
}

const usable = (t: string | undefined) => (t !== undefined && !tokenProblem(t) ? t : undefined);

/** The token `from` presents to `to`: what both configs agree on, else what one of them holds, else a new one. */
function directional(configs: Found, from: string, to: string, fresh: boolean): string {
  if (fresh) return newToken();
  const atReceiver = usable(configs.get(to)?.get(from)?.token);
  const atSender = usable(configs.get(from)?.get(to)?.outboundToken);
  if (atReceiver && atSender) return atReceiver === atSender ? atReceiver : newToken();
  return atReceiver ?? atSender ?? newToken();
}

/** A friend's side of a pair as its invite gives it (accept): the address and the tokens are the inviter's, not made here. */
export type FixedPeers = Map<string, { ip: string; token: string; outboundToken: string }>;

export function decideA2aTokens(spec: Spec, observed: Map<string, Observed>, fresh = false, fixed: FixedPeers = new Map()): A2aTokens {
  const configs = found(observed);
  const out: A2aTokens = new Map(spec.machines.map((m) => [m.name, new Map()]));
  for (const [a, b] of spec.peers) {
    const ab = directional(configs, a, b, fresh);
    const ba = directional(configs, b, a, fresh);
    out.get(a)!.set(b, { token: ba, outboundToken: ab });
    out.get(b)!.set(a, { token: ab, outboundToken: ba });
  }
  // A friend's pair has one side here: the tokens this machine's config holds are kept, else made (the invite carries
  // them to the friend). rotate keeps them too: the friend's machine takes new ones only from a new invite.
  for (const friend of spec.friends) {
    for (const machine of friend.with) {
      const given = fixed.get(friend.hostname);
      const have = configs.get(machine)?.get(friend.hostname);
      out
        .get(machine)!
        .set(
          friend.hostname,
          given
            ? { token: given.token, outboundToken: given.outboundToken }
            : { token: usable(have?.token) ?? newToken(), outboundToken: usable(have?.outboundToken) ?? newToken() },
        );
    }
  }
  return out;
}

/** The machine's config holds exactly these tokens for the peer already. */
export function tokensInPlace(observed: Observed | undefined, peer: string, want: { token: string; outboundToken: string }): boolean {
  const have = a2aSecrets(observed?.private?.config).find((p) => p.peer === peer);
  return have?.token === want.token && have.outboundToken === want.outboundToken;
}
