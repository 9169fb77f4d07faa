// peer-provision invite FRIEND: Alice's side of the friend flow (docs/friend.md). An `up` that also mints the friend's
// key (provider pulumi; provided: --auth-key) and writes her side of each pair with the friend's machine, then, once
// every step and check passed, seals the invite to the friend's public key and writes it (0600). The invite is then
// recorded as pending (stacks/<name>/invites.json), so that later runs keep its key until the friend accepts.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { type Invite, sealInvite } from '../../friend/invite.js';
import { newInvite, type RecordedInvite, readInvites, writeInvites } from '../../friend/pending.js';
import { a2aUrl } from '../../model/gateway-settings.js';
import type { View } from '../../output/view.js';
import { durationSeconds, formatDuration } from '../../peer-yaml/duration.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { resolveSecret } from '../../peer-yaml/secrets.js';
import type { FriendSpec, SecretRef, Spec } from '../../peer-yaml/types.js';
import { writeWhole } from '../../peer-yaml/write-whole.js';
import { DEFAULT_REKEY_WINDOW_SECONDS } from '../../plan/node-keys.js';
import type { Planned } from '../change-pipeline.js';
import { converge, type UpOptions } from '../converge.js';

export interface InviteOptions extends Omit<UpOptions, 'machine'> {
  friend: string;
  /** Where the invite file goes; default ./FRIEND.invite. */
  out?: string;
  /** How long the invite (and its key) is valid: a duration; default 24h. */
  expires?: string;
  /** provider provided: the friend's auth key, env:NAME or file:PATH (never the key itself). */
  authKey?: string;
}

const DEFAULT_EXPIRY = '24h';
/** Tailscale's longest key expiry. */
const MAX_EXPIRY_SECONDS = 90 * 86400;
const MIN_EXPIRY_SECONDS = 300;

export async function run(options: InviteOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const friend = friendOf(spec, options.friend);
  const seconds = expirySeconds(options.expires ?? DEFAULT_EXPIRY);
  const keyRef = providedKeyRef(spec, options.authKey);
  const out = resolve(options.out ?? `${friend.name}.invite`);
  checkWritable(out);
  readInvites(spec); // a file this version cannot read stops the run here, before anything is touched
  const now = Date.now();
  const invite = newInvite(friend.name, now, seconds);
  return converge(spec, { ...options, machine: undefined }, 'invite', view, {
    invite,
    nodeKeys: { now, windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false },
    async finish(planned) {
      const authKey = keyRef ? resolveSecret(keyRef, '--auth-key') : planned.friendKeys.get(friend.name);
      if (!authKey) return { problems: [`invite: no auth key was minted for ${friend.name}; no invite written`], text: '' };
      const missing = friend.with.filter((m) => !planned.runs.get(m)?.ip);
      if (missing.length) return { problems: [`invite: ${missing.join(', ')} has no tailnet address; no invite written`], text: '' };
      const { file, fingerprint } = await sealInvite(inviteBody(spec, friend, invite, authKey, planned));
      const unwritten = writePrivate(out, file);
      if (unwritten) return { problems: [`invite: cannot write ${out}: ${unwritten}; no invite written (re-run invite)`], text: '' };
      // read again: the run's Pulumi step settled the invites whose keys it no longer declares (the records stay)
      writeInvites(spec, [...readInvites(spec).filter((r) => r.friend !== friend.name), invite]);
      view.emit({ event: 'invite', friend: friend.name, file: out, fingerprint, expires: invite.expires });
      return {
        problems: [],
        text: [
          '',
          `Invite for ${friend.name} written to ${out} (valid ${formatDuration(seconds)}, until ${invite.expires}).`,
          `Fingerprint: ${fingerprint}`,
          '',
          `Send the file to ${friend.name} (it opens only with their key), and read them the fingerprint: \`peer-provision accept\``,
          'shows it too, and they accept only when both match. Your next `up` completes your side once their machine has joined.',
          '',
        ].join('\n'),
      };
    },
  });
}

function friendOf(spec: Spec, name: string): FriendSpec {
  const friend = spec.friends.find((f) => f.name === name);
  if (friend) return friend;
  const known = spec.friends.map((f) => f.name);
  throw new UsageError(
    `${spec.file}: no friend named ${JSON.stringify(name)} under friends:${known.length ? ` (there are ${known.join(', ')})` : ' (there is none)'}`,
    `add them first: friends.${/^[a-z0-9-]{1,63}$/.test(name) ? name : 'NAME'}.publicKey, as \`peer-provision keygen\` printed it on their machine`,
  );
}

function expirySeconds(text: string): number {
  let seconds: number;
  try {
    seconds = durationSeconds(text);
  } catch {
    throw new UsageError(`--expires ${JSON.stringify(text)}: not a duration`, 'write a number and a unit: 30m, 24h or 7d');
  }
  if (seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS)
    throw new UsageError(`--expires ${text}: an invite is valid between 5m and 90d (Tailscale's longest key expiry)`);
  return seconds;
}

/** provider provided: the key Alice made for the friend, by reference; provider pulumi mints it (and takes none). */
function providedKeyRef(spec: Spec, ref: string | undefined): SecretRef | undefined {
  if (spec.tailnet.provider === 'pulumi') {
    if (ref !== undefined) throw new UsageError("--auth-key: provider pulumi mints the friend's key; --auth-key is for provider provided");
    return undefined;
  }
  if (ref === undefined)
    throw new UsageError(
      "provider provided: give the friend's auth key with --auth-key env:NAME or --auth-key file:PATH",
      "make a single-use, pre-authorized key tagged with the friend's tags (see `peer-provision validate`)",
    );
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(ref);
  if (env) return { kind: 'env', name: env[1] };
  const file = /^file:(.+)$/su.exec(ref);
  if (file && !/\p{Cc}/u.test(file[1])) return { kind: 'file', path: resolve(file[1]) };
  // never quoted back: what was given may be the key itself
  throw new UsageError('--auth-key: write env:NAME or file:PATH (a reference to the key, never the key itself: argv is visible to every user)');
}

/** What the friend's machine needs (docs/friend.md, "The invite file"): never Alice's gateway token. */
function inviteBody(spec: Spec, friend: FriendSpec, invite: RecordedInvite, authKey: string, planned: Planned): Invite {
  return {
    format: 'peer-provision/invite@1',
    id: invite.id,
    created: invite.created,
    expires: invite.expires,
    from: { stack: spec.name },
    to: { friend: friend.name, publicKey: friend.publicKey, machine: friend.hostname, port: friend.port },
    tailnet: { authKey, tags: friend.tags, ...(spec.tailnet.controlUrl ? { controlUrl: spec.tailnet.controlUrl } : {}) },
    peers: friend.with.map((name) => {
      const run = planned.runs.get(name)!;
      const tokens = run.a2a.get(friend.hostname)!;
      return {
        name,
        tailnetIp: run.ip!,
        url: a2aUrl(run.ip!, run.machine.gateway.port),
        // Alice's config: token is what the friend presents to her machine, outboundToken what hers presents to him
        token: tokens.token,
        inboundToken: tokens.outboundToken,
      };
    }),
  };
}

/** Before anything is touched: the invite's folder is there and writable, and the path is no folder. */
function checkWritable(path: string): void {
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch {
    throw new UsageError(`--out ${path}: its folder ${dirname(path)} is not there or not writable`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--out ${path}: is a folder; name the invite file`);
}

/** The sealed file, 0600, written whole (temp file, then rename: a file at that path is replaced, never written through). Why not, or undefined. */
function writePrivate(path: string, text: string): string | undefined {
  try {
    writeWhole(path, text, 0o600);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
