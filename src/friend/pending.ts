// The invites a stack has made: stacks/<name>/invites.json (0600, beside the Pulumi state), the latest per friend (a new
// invite replaces the one before). It holds no secret: the id, the friend, the times. While an invite is pending (not
// expired, the friend's machine not seen on the tailnet), every Pulumi run declares its key, so an `up` between invite
// and accept keeps it; once it is not, the next run drops the key (Pulumi deletes it: revoked) and marks it settled.
// A record stays while its friend is in peer.yaml: it is how the `up` after the friend is taken out (or `unfriend`)
// knows whose device to remove; that run forgets it, and `down` forgets them all.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { stackDir } from '../model/stack-dir.js';
import { writeWhole } from '../peer-yaml/write-whole.js';
import type { FriendKey } from '../plan/step-kinds.js';

export interface RecordedInvite {
  id: string;
  friend: string;
  created: string;
  expires: string;
  /** The key's lifetime from its creation (Pulumi's TailnetKey expiry): fixed, so declaring it again changes nothing. */
  expirySeconds: number;
  /** A Pulumi run no longer declared its key (accepted, expired or no longer a friend): the key is gone, never pending again. */
  settled?: true;
}

const file = (spec: { file: string; name: string }) => join(stackDir(spec), 'invites.json');

/** The stack's recorded invites; none when the file is not there. A file that does not parse is said, not guessed. */
export function readInvites(spec: { file: string; name: string }): RecordedInvite[] {
  let text: string;
  try {
    text = readFileSync(file(spec), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`cannot read ${file(spec)}: ${(error as Error).message}`);
  }
  const body = (() => {
    try {
      return JSON.parse(text) as { invites?: unknown };
    } catch {
      return undefined;
    }
  })();
  if (!Array.isArray(body?.invites) || !body.invites.every(isRecordedInvite))
    throw new UsageError(`${file(spec)} is not a list of invites this version reads`, 'remove it: pending invites are then forgotten (their keys expire)');
  return body.invites;
}

const isRecordedInvite = (x: unknown): x is RecordedInvite => {
  const i = x as RecordedInvite;
  return (
    typeof i?.id === 'string' &&
    /^[0-9a-f]{32}$/.test(i.id) &&
    typeof i.friend === 'string' &&
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(i.friend) && // a friend's name as peer.yaml takes it: it names a tag and a device
    typeof i.created === 'string' &&
    typeof i.expires === 'string' &&
    Number.isInteger(i.expirySeconds) &&
    (i.settled === undefined || i.settled === true)
  );
};

/** Pending: not settled, not expired at `now`, its friend still in peer.yaml, and the friend's machine not seen joined. */
export const pendingInvites = (invites: RecordedInvite[], now: number, friends: string[], joined: ReadonlySet<string>): RecordedInvite[] =>
  invites.filter((i) => !i.settled && Date.parse(i.expires) > now && friends.includes(i.friend) && !joined.has(i.friend));

/** Friends recorded here and no longer in peer.yaml: their device is removed and their record forgotten by the next `up`. */
export const formerFriends = (invites: RecordedInvite[], friends: string[]): string[] => [
  ...new Set(invites.filter((i) => !friends.includes(i.friend)).map((i) => i.friend)),
];

/** Of those, the ones whose key a Pulumi run may still declare (not settled, not expired): the next run revokes it. */
export const keysToRevoke = (invites: RecordedInvite[], now: number, friends: string[]): string[] => [
  ...new Set(invites.filter((i) => !i.settled && Date.parse(i.expires) > now && !friends.includes(i.friend)).map((i) => i.friend)),
];

/** The keys Pulumi keeps declaring for these invites. */
export const friendKeysOf = (invites: RecordedInvite[]): FriendKey[] =>
  invites.map((i) => ({ friend: i.friend, invite: i.id, expirySeconds: i.expirySeconds }));

/** A new invite for `friend`, valid for `seconds` from `now`. */
export function newInvite(friend: string, now: number, seconds: number): RecordedInvite {
  return {
    id: randomBytes(16).toString('hex'),
    friend,
    created: new Date(now).toISOString(),
    expires: new Date(now + seconds * 1000).toISOString(),
    expirySeconds: seconds,
  };
}

/** After a Pulumi run that declared exactly these invites' keys: the others' keys are gone (settled), their records kept. */
export function settleInvites(spec: { file: string; name: string }, declared: readonly { invite: string }[]): void {
  const recorded = readInvites(spec);
  const settled = recorded.map((i): RecordedInvite => (i.settled || declared.some((d) => d.invite === i.id) ? i : { ...i, settled: true }));
  if (settled.some((i, n) => i !== recorded[n])) writeInvites(spec, settled);
}

/** Forgets these friends' invites (their device is gone); all of them when `friends` is not given (down). */
export function forgetInvites(spec: { file: string; name: string }, friends?: readonly string[]): void {
  const recorded = readInvites(spec);
  const kept = friends ? recorded.filter((i) => !friends.includes(i.friend)) : [];
  if (kept.length !== recorded.length) writeInvites(spec, kept);
}

/** Writes the stack's invites (atomic, 0600 in a 0700 folder): `invite` replaces its friend's, the rest as they were. */
export function writeInvites(spec: { file: string; name: string }, invites: RecordedInvite[]): void {
  const dir = stackDir(spec);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeWhole(file(spec), `${JSON.stringify({ version: 1, invites }, null, 2)}\n`, 0o600);
}
