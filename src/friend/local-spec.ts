// The friend's side as a Spec, so that accept is an `up` and leave a `down` of one machine, this one (ssh: local),
// through the same observe, plan, apply and verify as any machine: no peer.yaml. The inviter's machines are its
// friends in the Spec's sense (peers it has no ssh to), at the addresses and with the tokens the invite gives.
import { join } from 'node:path';
import type { FixedPeers } from '../observe/a2a-tokens.js';
import { DEFAULT_A2A_RATE_LIMIT, DEFAULT_INSTALL_URL, machineTag, ownerTag, type Spec, stackTag } from '../peer-yaml/types.js';
import type { AcceptedInvite } from './accepted.js';
import { configDir } from './identity.js';
import type { Invite } from './invite.js';

/**
 * This machine, joining the inviter's tailnet with the invite's key (accept; leave needs none), its gateway on the port
 * the inviter's policy opens; takeOver: the opt-in to leave another tailnet for it, as up's; guard: accept --guard.
 */
export function localSpec(record: AcceptedInvite, options: { authKey?: string; takeOver?: boolean; installUrl?: string; guard?: boolean } = {}): Spec {
  const stack = record.stack;
  return {
    // not a file: where this side keeps its lock and state (stacks/<stack>/ beside it), under the friend's config folder
    file: join(configDir(), 'friends', stack, 'invite'),
    version: 1,
    name: stack,
    tailnet: {
      provider: 'provided',
      tailnet: '-',
      keys: { expirySeconds: 0, ephemeral: false },
      acl: 'skip', // the inviter's policy is hers: this side never writes one
      ...(record.controlUrl ? { controlUrl: record.controlUrl } : {}),
      stackTag: stackTag(stack),
      ownerTag: ownerTag(stack),
    },
    machines: [
      {
        name: record.machine,
        ssh: { kind: 'local' },
        tags: record.tags,
        legacyTags: [],
        tailscale: {
          hostname: record.machine,
          ...(options.authKey ? { authKey: { kind: 'given' as const, value: options.authKey, from: "the invite's auth key" } } : {}),
          installUrl: options.installUrl ?? DEFAULT_INSTALL_URL,
          takeOver: options.takeOver ?? false,
          takeOverOptIn: 'run accept again with --take-over',
          ...(options.guard ? { guard: true } : {}),
        },
        gateway: { port: record.port, token: { kind: 'generate' }, a2a: { rateLimitPerMinute: DEFAULT_A2A_RATE_LIMIT } },
      },
    ],
    peers: [],
    friends: record.peers.map((p) => ({
      name: p.name,
      publicKey: '',
      hostname: p.name,
      port: p.port,
      with: [record.machine],
      tags: [stackTag(stack), machineTag(stack, p.name)],
    })),
  };
}

/** The inviter's machines as the invite gives them: address and the pair's tokens seen from this side. */
export function fixedPeers(invite: Invite): FixedPeers {
  return new Map(
    invite.peers.map((p) => [
      p.name,
      // the invite's token is what this machine presents (its outboundToken); its inboundToken what that machine presents here
      { ip: p.tailnetIp, token: p.inboundToken, outboundToken: p.token },
    ]),
  );
}
