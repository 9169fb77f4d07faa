// The Pulumi inline program: one single-use key per machine that still has to join. The policy is not a Pulumi
// resource: tailscale.Acl writes the whole file without If-Match (terraform-provider-tailscale resource_acl.go), so an
// admin's edit made between our read and its write would be lost silently. index.ts writes it with If-Match instead.
// Loaded lazily (it pulls in @pulumi/pulumi and @pulumi/tailscale): import it with `await import('./program.js')`.

import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as tailscale from '@pulumi/tailscale';
import type { Spec } from '../peer-yaml/types.js';
import { type FriendKey, friendKeyOutput } from '../plan/step-kinds.js';
import { TailnetError } from './errors.js';

export interface ProgramInput {
  /** Names of the machines that still have to join or are re-keyed: only these get a key (see index.ts for why). */
  needKeys: string[];
  /** Friends with a pending invite: each one's key, kept while the invite is pending (see docs/friend.md). */
  friendKeys?: FriendKey[];
}

export type ProgramOutputs = {
  /** machine name → auth key; a secret output. */
  keys: pulumi.Output<Record<string, string>>;
  /** machine name → key id (not secret; lets a human find the key in the admin console). */
  keyIds: pulumi.Output<Record<string, string>>;
};

/** Tailscale limits a key's description to 50 characters. Stable per (stack, machine): changing it replaces the key. */
export function keyDescription(stack: string, machine: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9-]/g, '-');
  const full = `peer-provision ${clean(stack)} ${clean(machine)}`;
  if (full.length <= 50) return full;
  const hash = createHash('sha256').update(`${stack}\0${machine}`).digest('hex').slice(0, 6);
  return `pp ${clean(stack)} ${clean(machine)}`.slice(0, 50 - hash.length - 1) + ` ${hash}`;
}

export function tailnetProgram(spec: Spec, input: ProgramInput): () => Promise<ProgramOutputs> {
  return async () => {
    const keys: Record<string, pulumi.Output<string>> = {};
    const ids: Record<string, pulumi.Output<string>> = {};
    for (const name of input.needKeys) {
      const m = spec.machines.find((x) => x.name === name);
      if (!m) throw new TailnetError(`no machine named ${name} in the spec`);
      const key = new tailscale.TailnetKey(
        `key-${name}`,
        {
          reusable: false,
          preauthorized: true,
          ephemeral: spec.tailnet.keys.ephemeral,
          tags: m.tags,
          expiry: spec.tailnet.keys.expirySeconds,
          description: keyDescription(spec.name, name),
          // Only machines that still have to join (or are re-keyed) have a key here, so an expired or used key of such
          // a machine is replaced on the next `up --refresh` (a re-key's spent key among them); joined machines' keys
          // are simply not declared any more.
          recreateIfInvalid: 'always',
        },
        // The tags are in tagOwners already: index.ts writes the policy before this program runs.
        { additionalSecretOutputs: ['key'] },
      );
      keys[name] = key.key;
      ids[name] = key.id;
    }
    for (const f of input.friendKeys ?? []) {
      const friend = spec.friends.find((x) => x.name === f.friend);
      if (!friend) throw new TailnetError(`no friend named ${f.friend} in the spec`);
      // named by the invite: a new invite replaces (revokes) the key of the one before
      const key = new tailscale.TailnetKey(
        `key-friend-${f.friend}-${f.invite.slice(0, 8)}`,
        {
          reusable: false,
          preauthorized: true,
          ephemeral: false, // the friend's machine stays his, whether or not it is online
          tags: friend.tags,
          expiry: f.expirySeconds,
          description: keyDescription(spec.name, `friend-${f.friend}`),
          // an invite's key is never re-minted: a new key needs a new invite (the old file holds the old key)
        },
        { additionalSecretOutputs: ['key'] },
      );
      keys[friendKeyOutput(f.friend)] = key.key;
      ids[friendKeyOutput(f.friend)] = key.id;
    }
    return {
      keys: pulumi.secret(pulumi.all(keys)),
      keyIds: pulumi.all(ids),
    };
  };
}
