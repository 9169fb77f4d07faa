// The friend's record of the invites accepted on this machine: ${XDG_CONFIG_HOME:-~/.config}/peer-provision/accepted.json
// (0600, no secret). It lets `leave` undo what accept did (the stack, the machine, the inviter's machines: enough to
// plan a down of that one machine), and it refuses a replay: an invite accepted and then left is never accepted again
// (an invite is for one accept; a new one is asked for). An invite accepted and not left may be accepted again: a re-run
// after a failure or Ctrl-C finishes what the first began, and changes nothing once it is all in place.
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeWhole } from '../peer-yaml/write-whole.js';
import { configDir } from './identity.js';
import type { Invite } from './invite.js';
import { InviteRefused } from './invite.js';

export interface AcceptedInvite {
  id: string;
  /** The inviter's stack (its tags are tag:peer-<stack>...). */
  stack: string;
  /** This machine's tailnet hostname, and its A2A name on the inviter's machines. */
  machine: string;
  port: number;
  tags: string[];
  controlUrl?: string;
  /** The inviter's machines this one peers with (their tokens live only in the OpenClaw config). */
  peers: { name: string; ip: string; port: number }[];
  accepted: string;
  /** When `leave` undid it: the invite is spent. */
  left?: string;
}

export const acceptedFile = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), 'accepted.json');

export function readAccepted(file = acceptedFile()): AcceptedInvite[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const body = JSON.parse(text) as { accepted?: AcceptedInvite[] };
    if (Array.isArray(body.accepted) && body.accepted.every(isAccepted)) return body.accepted;
  } catch {
    // said below
  }
  throw new UsageError(`${file} is not a record of accepted invites this version reads`, 'move it aside; leave then knows of no invite');
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const port = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
/** Read back as accept wrote it: leave builds a Spec from it, so every name is a name and every port a port. */
const isAccepted = (a: AcceptedInvite): boolean =>
  typeof a?.id === 'string' &&
  LABEL.test(a.stack) &&
  LABEL.test(a.machine) &&
  port(a.port) &&
  Array.isArray(a.tags) &&
  a.tags.every((t) => typeof t === 'string' && /^tag:[a-z0-9-]{1,80}$/.test(t)) &&
  Array.isArray(a.peers) &&
  a.peers.every((p) => LABEL.test(p?.name) && /^100\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(p.ip) && port(p.port)) &&
  typeof a.accepted === 'string';

export function writeAccepted(records: AcceptedInvite[], file = acceptedFile()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  writeWhole(file, `${JSON.stringify({ version: 1, accepted: records }, null, 2)}\n`, 0o600);
}

/** An invite accepted here and then left: a replay, refused before anything is touched. */
export function refuseReplay(path: string, invite: Invite, records: AcceptedInvite[]): void {
  const spent = records.find((r) => r.id === invite.id && r.left);
  if (spent)
    throw new InviteRefused(
      `${path} was accepted on this machine at ${spent.accepted} and left at ${spent.left}: an invite is used once`,
      `ask for a new invite (the inviter runs \`peer-provision invite ${invite.to.friend}\`)`,
    );
}

/** What accept records before it changes anything (so that `leave` can undo a run stopped half-way). */
export function acceptedFrom(invite: Invite, now: Date): AcceptedInvite {
  // the schema gave the url's shape (http://100.x.y.z:PORT/a2a/v1); its address and port are checked here
  const port = (url: string) => Number(/:(\d{1,5})\/a2a\/v1$/.exec(url)?.[1] ?? 0);
  const bad = invite.peers.find((p) => port(p.url) < 1 || port(p.url) > 65535 || !p.url.startsWith(`http://${p.tailnetIp}:`));
  if (bad) throw new InviteRefused(`the invite's address for ${bad.name} (${bad.url}) is not its tailnet address with a port`, 'ask for a new invite');
  return {
    id: invite.id,
    stack: invite.from.stack,
    machine: invite.to.machine,
    port: invite.to.port ?? 18789,
    tags: invite.tailnet.tags,
    ...(invite.tailnet.controlUrl ? { controlUrl: invite.tailnet.controlUrl } : {}),
    peers: invite.peers.map((p) => ({ name: p.name, ip: p.tailnetIp, port: port(p.url) })),
    accepted: now.toISOString(),
  };
}

/** The record with `entry` in place of any earlier one of its stack that is not left (one active invite per stack). */
export const withAccepted = (records: AcceptedInvite[], entry: AcceptedInvite): AcceptedInvite[] => [
  ...records.filter((r) => r.left || r.stack !== entry.stack),
  entry,
];
