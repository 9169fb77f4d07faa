// The invites a stack has made and not yet seen accepted: stacks/<name>/invites.json (0600, beside the Pulumi state),
// one per friend (a new invite replaces the one before). It holds no secret: the id, the friend, the times. While an
// invite is pending (not expired, the friend's machine not seen on the tailnet), every Pulumi run declares its key, so
// an `up` between invite and accept keeps it; once it is not, the next run drops the key (Pulumi deletes it: revoked).
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
    typeof i.created === 'string' &&
    typeof i.expires === 'string' &&
    Number.isInteger(i.expirySeconds)
  );
};

/** Pending: not expired at `now`, its friend still in peer.yaml, and the friend's machine not seen joined. */
export const pendingInvites = (invites: RecordedInvite[], now: number, friends: string[], joined: ReadonlySet<string>): RecordedInvite[] =>
  invites.filter((i) => Date.parse(i.expires) > now && friends.includes(i.friend) && !joined.has(i.friend));

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

/** After a Pulumi run that declared exactly these invites' keys: the others' keys are gone, and so are they from the record. */
export function keepOnlyInvites(spec: { file: string; name: string }, declared: readonly { invite: string }[]): void {
  const recorded = readInvites(spec);
  const kept = recorded.filter((i) => declared.some((d) => d.invite === i.id));
  if (kept.length !== recorded.length) writeInvites(spec, kept);
}

/** Writes the stack's invites (atomic, 0600 in a 0700 folder): `invite` replaces its friend's, the rest as they were. */
export function writeInvites(spec: { file: string; name: string }, invites: RecordedInvite[]): void {
  const dir = stackDir(spec);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeWhole(file(spec), `${JSON.stringify({ version: 1, invites }, null, 2)}\n`, 0o600);
}
