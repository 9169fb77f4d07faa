// `peer-provision tailnet init`: the first run of provider pulumi, made possible. An OAuth client with the auth_keys
// scope must carry tags, the keys it mints must carry exactly its tags or only tags they own, never a mix
// (tailscale.com/kb/1215; tailscale/tailscale#12402), and those tags must be in tagOwners before the client can be
// created with them: so the client gets the stack's owner tag, which owns the tags the keys carry. So: tagOwners first (printed, or written with
// an admin's API key), then the OAuth client (scopes, tags), then the next command. What init writes is the user's:
// it is not recorded as added by the stack, and `down` never removes it.

import type { Spec } from '../peer-yaml/types.js';
import type { TailscaleApi } from './devices.js';
import { TailnetError } from './errors.js';
import { renderInline } from './policy/hujson.js';
import { ownedEntries, TAG_OWNER } from './policy/owned.js';
import { addTagOwners, tagOwnerLines } from './policy/tag-owners.js';

/** The scopes the OAuth client needs: mint keys, list and remove devices, read and write the policy file. */
export const OAUTH_SCOPES = ['auth_keys', 'devices:core', 'policy_file'] as const;

export function initInstructions(spec: Spec, wrote: 'written' | 'present' | undefined): string {
  const t = spec.tailnet;
  const creds = t.credentials ?? {};
  const ref = (r: unknown) => (r && typeof r === 'object' && 'name' in r ? `$${(r as { name: string }).name}` : 'the secret peer.yaml names');
  const step1 =
    wrote === 'written'
      ? '1. tagOwners: written to the tailnet policy (these entries are yours now; `down` keeps them):'
      : wrote === 'present'
        ? '1. tagOwners: already in the tailnet policy, nothing to write:'
        : '1. Add these entries to "tagOwners" in the tailnet policy (admin console, Access controls), or run\n' +
          '   `peer-provision tailnet init --write` with an admin API key in TAILSCALE_API_KEY:';
  return [
    `First run of stack ${spec.name} (tailnet ${t.tailnet === '-' ? 'of the credentials' : t.tailnet}):`,
    '',
    step1,
    '',
    '    "tagOwners": {',
    ...tagOwnerLines(spec).map((l) => `      ${l}`),
    '    },',
    '',
    '2. Create an OAuth client (admin console, Settings, Trust credentials / OAuth clients):',
    `     scopes: ${OAUTH_SCOPES.map((s) => `${s} (write)`).join(', ')}`,
    `     tags:   ${t.ownerTag}`,
    `   Keys it mints carry ${t.stackTag} and a machine tag, all owned by ${t.ownerTag} and never the client's own tag`,
    "   beside them (Tailscale refuses a key that mixes the two). No machine carries the client's tag.",
    '',
    '3. Give peer-provision the client (never in argv or in peer.yaml):',
    `     export ${creds.oauthClientId ? ref(creds.oauthClientId).slice(1) : 'TS_OAUTH_CLIENT_ID'}=<client id>`,
    `     export ${creds.oauthClientSecret ? ref(creds.oauthClientSecret).slice(1) : 'TS_OAUTH_CLIENT_SECRET'}=<client secret>`,
    '',
    '4. Then:',
    `     peer-provision plan -f ${spec.file}`,
    `     peer-provision up -f ${spec.file}`,
    '',
    'See docs/tailnet.md for each error you can meet on the way.',
    '',
  ].join('\n');
}

/** Writes the stack's tagOwners entries (those absent, and owners missing from those present) with If-Match. 'present' when nothing was missing. */
export async function writeInitTagOwners(spec: Spec, api: TailscaleApi): Promise<'written' | 'present'> {
  const entries = ownedEntries(spec).tagOwners;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const { text, etag } = await api.getPolicy();
    const next = addTagOwners(text, entries);
    if (next === text) return 'present';
    if ((await api.setPolicy(next, etag)).result === 'written') return 'written';
  }
  throw new TailnetError(
    'the tailnet policy changed while peer-provision was writing it, 3 times in a row: nothing was overwritten',
    'Run again once nobody else is editing the policy.',
  );
}

/** The tags each machine's own auth key must give its node, with provider: provided (join checks them after). */
export const providedKeyTags = (spec: Spec): Record<string, string[]> => Object.fromEntries(spec.machines.map((m) => [m.name, m.tags]));

/**
 * provider: provided: peer-provision mints no key and writes no policy, so the user makes both; this says exactly
 * which keys (their tags, per machine) and which policy entries let the peers reach each other's gateways.
 */
export function providedInstructions(spec: Spec): string {
  const ref = (m: Spec['machines'][number]) => {
    const r = m.tailscale.authKey;
    return !r
      ? 'not set in peer.yaml yet'
      : r.kind === 'env'
        ? `env:${r.name}`
        : r.kind === 'file'
          ? `file:${r.path}`
          : r.kind === 'given'
            ? r.from
            : 'generate';
  };
  const width = Math.max(...spec.machines.map((m) => m.name.length));
  const tags = [...new Set(spec.machines.flatMap((m) => m.tags))];
  const { grants } = ownedEntries(spec);
  const keys =
    spec.tailnet.controlUrl !== undefined
      ? [
          `1. On your control server (${spec.tailnet.controlUrl}), one key per machine, carrying its tags (headscale`,
          '   refuses --advertise-tags with a pre-auth key, so the key must carry them):',
          ...spec.machines.map((m) => `     headscale preauthkeys create --tags ${m.tags.join(',')} --expiration 1h`),
        ]
      : [
          '1. In the admin console (Settings, Keys, Generate auth key), one key per machine: one-off (not reusable),',
          '   pre-approved, with its tags. An OAuth client secret (tskey-client-…) also works as the key: up then asks',
          '   for the tags with --advertise-tags, and the client must own them.',
        ];
  return [
    `Stack ${spec.name} uses tailnet.provider: provided: you make the auth keys and the policy; peer-provision mints no key`,
    'and writes no policy. Each machine joins with its own key, which must give its node these tags (up checks them',
    'after the join, and logs out a node without them):',
    '',
    ...spec.machines.map((m) => `  ${m.name.padEnd(width)}  ${m.tags.join(',')}   (machines.${m.name}.tailscale.authKey: ${ref(m)})`),
    '',
    ...keys,
    '',
    "2. The tags must be defined, and the peers allowed to reach each other's gateway port. In the policy:",
    '',
    '    "tagOwners": {',
    ...tags.map((t) => `      ${JSON.stringify(t)}: ${renderInline([TAG_OWNER])},`),
    '    },',
    '    "grants": [',
    ...grants.map((g) => `      ${renderInline(g)},`),
    '    ],',
    '',
    '3. Then:',
    `     peer-provision plan -f ${spec.file}`,
    `     peer-provision up -f ${spec.file}`,
    '',
  ].join('\n');
}
