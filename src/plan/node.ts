// Facts about a machine's Tailscale node that both the planner and its safety rules read.
import type { MachineState } from '../observe/types.js';
import type { MachineSpec } from '../peer-yaml/types.js';

/** Joined as this stack wants: running, with the machine's hostname and every one of its tags. */
export function isJoined(machine: MachineSpec, state: MachineState): boolean {
  const ts = state.tailscale;
  return ts.backendState === 'Running' && ts.hostname === machine.tailscale.hostname && hasStackTags(machine, state);
}

/** This stack's node: it carries the stack's tag and the machine's own tag (whatever its hostname). */
export const hasStackTags = (machine: MachineSpec, state: MachineState) => carries(state, machine.tags);

/**
 * This stack's node as peer-provision 0.1 joined it, with the machine tag that could equal another stack's tags:
 * down leaves it, up asks for down first (no tag of the old scheme is ever written again). A machine with no 0.1 tags
 * (accept's: it never had a 0.1 past) has no such node: every node carries none of no tags.
 */
export const isLegacyNode = (machine: MachineSpec, state: MachineState) =>
  machine.legacyTags.length > 0 && !hasStackTags(machine, state) && carries(state, machine.legacyTags);

/** The tags that make the node this stack's (the current ones, or 0.1's), or undefined: another's, or none. */
export function stackNodeTags(machine: MachineSpec, state: MachineState): string[] | undefined {
  if (hasStackTags(machine, state)) return machine.tags;
  return isLegacyNode(machine, state) ? machine.legacyTags : undefined;
}

const carries = (state: MachineState, tags: string[]) => tags.every((t) => state.tailscale.tags.includes(t));

/**
 * Tailscale's address ranges, 100.64.0.0/10 and fd7a:115c:a1e0::/48, also written IPv4-mapped (::ffff:100.64.1.2, as
 * sshd reports an IPv4 client on a dual-stack socket): an ssh client there reaches the machine over Tailscale.
 */
export function isTailnetAddress(address: string | undefined): boolean {
  const text = (address ?? '').split('%')[0]!.toLowerCase();
  const v4 = ipv4(text);
  if (v4) return v4[0] === 100 && v4[1]! >= 64 && v4[1]! <= 127;
  const h = hextets(text);
  if (!h) return false;
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return isTailnetAddress(`${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`);
  return h[0] === 0xfd7a && h[1] === 0x115c && h[2] === 0xa1e0;
}

const ipv4 = (text: string): number[] | undefined => {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)?.slice(1).map(Number);
  return parts?.every((p) => p <= 255) ? parts : undefined;
};

/** An IPv6 address as its eight 16-bit groups (a trailing dotted IPv4 counts as two), or undefined. */
function hextets(text: string): number[] | undefined {
  const [head, tail, ...more] = text.split('::');
  if (more.length || head === undefined) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      const v4 = ipv4(g);
      if (v4) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      else if (/^[0-9a-f]{1,4}$/.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  if (!left || !right) return undefined;
  if (tail === undefined) return left.length === 8 ? left : undefined;
  const zeros = 8 - left.length - right.length;
  return zeros >= 1 ? [...left, ...Array<number>(zeros).fill(0), ...right] : undefined;
}

/** This stack's node as the machine's own: logged in (even with an expired key), its hostname, its tags. */
export const isLoggedInAsItself = (machine: MachineSpec, state: MachineState) =>
  state.tailscale.loggedIn && state.tailscale.hostname === machine.tailscale.hostname && hasStackTags(machine, state);

/** Seconds until the node key expires (negative: expired that long ago); undefined: it never expires, or unreadable. */
export function keyExpiresIn(state: MachineState, now: number): number | undefined {
  const at = state.tailscale.keyExpiry === undefined ? NaN : Date.parse(state.tailscale.keyExpiry);
  return Number.isNaN(at) ? undefined : Math.floor((at - now) / 1000);
}

/** "3d", "5h", "12m", "40s": the largest whole unit, rounded down (for "expires in 3d"). */
export function roughDuration(seconds: number): string {
  const s = Math.abs(seconds);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (s >= size) return `${Math.floor(s / size)}${unit}`;
  return `${s}s`;
}
