// Facts about a machine's Tailscale node that both the planner and its safety rules read.
import type { MachineState } from '../observe/types.js';
import type { MachineSpec } from '../peer-yaml/types.js';

/** Joined as this stack wants: running, with the machine's hostname and every one of its tags. */
export function isJoined(machine: MachineSpec, state: MachineState): boolean {
  const ts = state.tailscale;
  return ts.backendState === 'Running' && ts.hostname === machine.tailscale.hostname && isStackNode(machine, state);
}

/** This stack's node: it carries the stack's tag and the machine's own tag (whatever its hostname). */
export const isStackNode = (machine: MachineSpec, state: MachineState) => machine.tags.every((t) => state.tailscale.tags.includes(t));

/** 100.64.0.0/10, Tailscale's address range: an ssh client there reaches the machine over Tailscale. */
export function isTailnetAddress(address: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(address ?? '');
  return Boolean(m && Number(m[1]) === 100 && Number(m[2]) >= 64 && Number(m[2]) <= 127);
}

/** This stack's node as the machine's own: logged in (even with an expired key), its hostname, its tags. */
export const isOwnNode = (machine: MachineSpec, state: MachineState) =>
  state.tailscale.loggedIn && state.tailscale.hostname === machine.tailscale.hostname && isStackNode(machine, state);

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
