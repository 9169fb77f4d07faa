// An invite: what a friend's machine needs to join the inviter's tailnet and peer with her machines over OpenClaw's
// A2A channel, sealed to the friend's age key (age-encryption: X25519 and ChaCha20-Poly1305; no scheme of ours).
// Only the holder of that key can open it, and a file changed after sealing fails age's authentication. age does not
// say who sealed it: the fingerprint does. Both read it aloud (or compare it over a channel they trust); it is the
// SHA-256 of the whole sealed file (its bytes, not the armor's line breaks, which a mailer may change), so a file
// someone else sealed to the friend's public key shows a different one.
// It never holds the inviter's gateway token: only the A2A tokens of the pairs it makes.
import { createHash, randomBytes } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { UsageError } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { TOKEN_PATTERN } from '../peer-yaml/token-rule.js';
import type { Identity } from './identity.js';

const name = { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' } as const;
const token = { type: 'string', pattern: TOKEN_PATTERN.source } as const;
const time = { type: 'string', format: 'date-time' } as const;
const tag = { type: 'string', pattern: '^tag:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$' } as const;

export const inviteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'id', 'created', 'expires', 'from', 'to', 'tailnet', 'peers'],
  properties: {
    format: { const: 'peer-provision/invite@1' },
    id: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'random: what accept records, so the same invite is not accepted twice' },
    created: time,
    expires: time,
    from: {
      type: 'object',
      additionalProperties: false,
      required: ['stack'],
      properties: { stack: { type: 'string', pattern: '^(?!.*--)[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$' } },
    },
    to: {
      type: 'object',
      additionalProperties: false,
      required: ['friend', 'publicKey', 'machine'],
      properties: {
        friend: name,
        publicKey: { type: 'string', pattern: '^age1[02-9ac-hj-np-z]{58}$' },
        machine: { ...name, description: "the friend's machine: its tailnet hostname and its A2A peer name on the inviter's machines" },
        port: { type: 'integer', minimum: 1, maximum: 65535, description: "the friend's gateway port the inviter's policy opens (friends.NAME.port)" },
      },
    },
    tailnet: {
      type: 'object',
      additionalProperties: false,
      required: ['authKey', 'tags'],
      properties: {
        authKey: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,256}$', description: 'single use, pre-authorized, tagged, short expiry' },
        controlUrl: { type: 'string', pattern: '^https?://[^\\u0000-\\u0020\\u007f]+$', description: "the inviter's own control server (headscale)" },
        tags: { type: 'array', items: tag, minItems: 1, maxItems: 8, description: 'the tags the key gives the node' },
      },
    },
    peers: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      description: "the inviter's machines the friend's machine peers with",
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'tailnetIp', 'url', 'token', 'inboundToken'],
        properties: {
          name,
          tailnetIp: { type: 'string', pattern: '^100\\.(?:[0-9]{1,3}\\.){2}[0-9]{1,3}$' },
          url: { type: 'string', pattern: '^http://100\\.(?:[0-9]{1,3}\\.){2}[0-9]{1,3}:[0-9]{1,5}/a2a/v1$' },
          token: { ...token, description: 'what the friend presents to this peer (its outboundToken)' },
          inboundToken: { ...token, description: "what this peer presents to the friend (the friend's channels.a2a.peers.<name>.token)" },
        },
      },
    },
  },
} as const;

export type Invite = FromSchema<typeof inviteSchema>;

let validate: ValidateFunction | undefined;
const isInvite = (value: unknown): value is Invite => {
  validate ??= new Ajv({ allErrors: true, strict: true, formats: { 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) } }).compile(inviteSchema);
  return validate(value) === true;
};

/** A new invite's id: random, so two invites never share one. */
export const newInviteId = (): string => randomBytes(16).toString('hex');

/** Four groups of four hex digits (64 bits of the sealed file's SHA-256): short enough to read aloud. */
export function fingerprint(sealed: Uint8Array): string {
  return (createHash('sha256').update(sealed).digest('hex').slice(0, 16).match(/.{4}/g) ?? []).join('-');
}

/** The invite, sealed to its friend's public key: the armored text of the file, and its fingerprint. */
export async function sealInvite(invite: Invite): Promise<{ file: string; fingerprint: string }> {
  if (!isInvite(invite)) throw new Error(`an invite that does not meet its schema: ${JSON.stringify(validate?.errors)}`);
  const { Encrypter, armor } = await import('age-encryption');
  const encrypter = new Encrypter();
  encrypter.addRecipient(invite.to.publicKey);
  const sealed = await encrypter.encrypt(JSON.stringify(invite));
  return { file: armor.encode(sealed), fingerprint: fingerprint(sealed) };
}

/** Why an invite is refused: exit 2, before anything is touched. */
export class InviteRefused extends UsageError {}

/**
 * Opens an invite file with the friend's identity and checks it: sealed to this key, unchanged, a peer-provision
 * invite addressed to this key, not expired at `now`. Each refusal says which, and what to ask for.
 */
export async function openInvite(path: string, file: string, identity: Identity, now: Date): Promise<{ invite: Invite; fingerprint: string }> {
  const { Decrypter, armor } = await import('age-encryption');
  let sealed: Uint8Array;
  try {
    sealed = armor.decode(file);
  } catch {
    throw new InviteRefused(`${path} is not an invite file (an armored age file, BEGIN AGE ENCRYPTED FILE)`);
  }
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity.secret);
  let text: string;
  try {
    text = await decrypter.decrypt(sealed, 'text');
  } catch (error) {
    if (/no identity matched/.test((error as Error).message))
      throw new InviteRefused(
        `${path} was sealed to another key, not to yours (${identity.publicKey})`,
        'send the inviter this public key and ask for a new invite',
      );
    throw new InviteRefused(`${path} was changed after it was sealed (it fails age's authentication)`, 'ask the inviter for a new invite');
  }
  let invite: unknown;
  try {
    invite = JSON.parse(text);
  } catch {
    throw new InviteRefused(`${path} opens, but holds no peer-provision invite`);
  }
  if (!isInvite(invite)) throw new InviteRefused(`${path} opens, but holds no peer-provision invite this version reads (${describeErrors()})`);
  // registered before anything can print them: an error below quotes the file's fields
  for (const secret of [invite.tailnet.authKey, ...invite.peers.flatMap((p) => [p.token, p.inboundToken])]) registerSecret(secret);
  if (invite.to.publicKey !== identity.publicKey)
    throw new InviteRefused(`${path} is addressed to ${invite.to.friend} (${invite.to.publicKey}), not to your key (${identity.publicKey})`);
  if (Date.parse(invite.expires) <= now.getTime())
    throw new InviteRefused(`${path} expired at ${invite.expires}`, `ask for a new invite (the inviter runs \`peer-provision invite ${invite.to.friend}\`)`);
  return { invite, fingerprint: fingerprint(sealed) };
}

const describeErrors = () =>
  (validate?.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
