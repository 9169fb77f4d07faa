// What this stack owns in the tailnet policy (ACL): its tags and their owners, one grant and one test per machine that
// has peers, all derived from the spec alone; the types and constants the other policy modules share. Pure: no I/O.

import type { MachineSpec, Spec } from '../../peer-yaml/types.js';
import { legacyMachineTag, MACHINE_TAG_SEPARATOR, machineTag, peersOf } from '../../peer-yaml/types.js';

export interface Grant {
  src: string[];
  dst: string[];
  ip: string[];
}
export interface PolicyTest {
  src: string;
  accept: string[];
  deny: string[];
}
export interface OwnedEntries {
  /** tag → owners, in a stable order (owner tag, stack tag, machine tags in spec order, then friends' tags). */
  tagOwners: [string, string[]][];
  /** One grant per machine that has peers (friends' machines too): its peers may reach its gateway port, nothing else. */
  grants: Grant[];
  /** One test per machine that has peers: its peers' gateway ports accepted, port 22 on them denied. */
  tests: PolicyTest[];
}

export type PolicySection = 'grants' | 'tagOwners' | 'tests';
export interface PolicyChange {
  op: '+' | '~' | '-';
  section: PolicySection;
  summary: string;
}

/** What to do about a rule that lets every device reach every port (this stack's policy tests fail under it). */
export const ALLOW_ALL_FIX =
  'Narrow or remove that rule in the policy file (admin console, Access controls) so that it no longer reaches every ' +
  'port of every device, or set tailnet.acl: skip and manage the policy yourself. New tailnets ship such a rule.';

/**
 * Who owns this stack's tags. `autogroup:admin` lets an admin's API key mint keys with them and lets an admin create
 * the OAuth client. The owner tag (spec.tailnet.ownerTag, which no machine carries) owns the stack tag and the machine
 * tags, so an OAuth client created with the owner tag mints keys carrying the stack and machine tags, all tags it
 * owns and none its own (Tailscale refuses a key that mixes the two, tailscale/tailscale#12402), and nothing outside
 * this stack. A machine's own tags own nothing: a node cannot advertise its way into another machine's tag.
 */
export const TAG_OWNER = 'autogroup:admin';

/** The port the policy tests expect to be denied (another port if a gateway listens on 22). */
export const denyPortFor = (gatewayPort: number) => (gatewayPort === 22 ? 23 : 22);

/** Whether a tag lies in this stack's tag namespace (tag:peer-<name> and tag:peer-<name>--…). */
export const inNamespace = (spec: Spec, tag: string) => tag === spec.tailnet.stackTag || tag.startsWith(`${spec.tailnet.stackTag}${MACHINE_TAG_SEPARATOR}`);

/**
 * A device this stack joined: it carries the stack tag and one of this stack's machine tags (or a machine's 0.1 tag).
 * The stack tag alone is not enough: in 0.1's scheme machine eu of stack prod carried tag:peer-prod-eu, the stack tag
 * of a stack named prod-eu, whose down would have deleted it.
 */
export function isStackDevice(spec: Spec, tags: readonly string[]): boolean {
  if (!tags.includes(spec.tailnet.stackTag)) return false;
  const legacy = new Set(spec.machines.map((m) => legacyMachineTag(spec.name, m.name)));
  return tags.some((t) => (t !== spec.tailnet.stackTag && inNamespace(spec, t)) || legacy.has(t));
}

/** The tag that addresses a machine in grants and tests. */
export const addressTag = (spec: Spec, m: MachineSpec): string => machineTag(spec.name, m.name);

/** A machine's peers, in peer.yaml's machine order. */
function peerMachines(spec: Spec, name: string): MachineSpec[] {
  const names = new Set(peersOf(spec, name));
  return spec.machines.filter((m) => names.has(m.name));
}

export interface MergeOptions {
  /**
   * The tagOwners entries this stack added (recorded beside the state when it added them). Only these are ever
   * changed or removed; an entry the user wrote (for example from `peer-provision tailnet init`) stays as written.
   * Undefined: every entry of an owned tag counts as ours (pure callers and tests).
   */
  ours?: ReadonlySet<string>;
  /**
   * The grants and tests this stack wrote (as `entryId`s, recorded beside the state). Only these are ever changed or
   * removed: a grant or test of the user's between this stack's tags (another port, say) stays as written. Undefined:
   * nothing recorded yet (a stack from before the record, pure callers): every entry of the stack's shape counts.
   */
  oursGrants?: ReadonlySet<string>;
  oursTests?: ReadonlySet<string>;
  /**
   * Machines whose policy tests may be written: those already joined. A test naming a tag no device carries yet is
   * rejected by Tailscale-compatible engines (headscale) and undocumented for Tailscale, so a first `up`, before any
   * machine has joined, writes none; the next `up` adds them. Undefined: every machine.
   */
  testsFor?: ReadonlySet<string>;
}

/** The entries this stack wants in the policy, derived from the spec alone. */
export function ownedEntries(spec: Spec, testsFor?: ReadonlySet<string>): OwnedEntries {
  const { stackTag, ownerTag } = spec.tailnet;
  const tagOwners: [string, string[]][] = [[ownerTag, [TAG_OWNER]]];
  const seen = new Set([ownerTag]);
  for (const t of [stackTag, ...spec.machines.flatMap((m) => [...m.tags, addressTag(spec, m)]), ...spec.friends.flatMap((f) => f.tags)]) {
    // Tags outside our namespace (if a spec ever adds some) belong to the user: we neither own nor remove them.
    if (seen.has(t) || !inNamespace(spec, t)) continue;
    seen.add(t);
    tagOwners.push([t, [TAG_OWNER, ownerTag]]);
  }
  const grants: Grant[] = [];
  const tests: PolicyTest[] = [];
  for (const m of spec.machines) {
    const peers = peerMachines(spec, m.name);
    const friends = spec.friends.filter((f) => f.with.includes(m.name)).map((f) => machineTag(spec.name, f.name));
    if (peers.length + friends.length === 0) continue;
    grants.push({ src: [...peers.map((p) => addressTag(spec, p)), ...friends], dst: [addressTag(spec, m)], ip: [`tcp:${m.gateway.port}`] });
    if (testsFor && !testsFor.has(m.name)) continue;
    const tested = testsFor ? peers.filter((p) => testsFor.has(p.name)) : peers;
    if (tested.length === 0) continue;
    tests.push({
      src: addressTag(spec, m),
      accept: tested.map((p) => `${addressTag(spec, p)}:${p.gateway.port}`),
      deny: tested.map((p) => `${addressTag(spec, p)}:${denyPortFor(p.gateway.port)}`),
    });
  }
  // A friend's machine: the machines it peers with may reach its gateway port, nothing else. (Its policy test waits
  // for the accept flow, which knows when it has joined.)
  for (const f of spec.friends) {
    const machines = spec.machines.filter((m) => f.with.includes(m.name));
    grants.push({ src: machines.map((m) => addressTag(spec, m)), dst: [machineTag(spec.name, f.name)], ip: [`tcp:${f.port}`] });
  }
  return { tagOwners, grants, tests };
}
