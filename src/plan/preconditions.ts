// Preconditions a machine must meet before any of its actions run (checked before anything is touched, as np does).
// Pure: from the observed state and the planned actions; each blocker says how to fix it.
import type { MachineState } from '../observe/types.js';
import type { Action, Blocker } from './types.js';

/** Actions that run a command as root on the machine (Tailscale; a system unit's restart). */
function needsRoot(state: MachineState, actions: Action[]): boolean {
  return actions.some(
    (a) =>
      a.op !== 'unknown' &&
      (a.resource === 'tailscale-install' ||
        a.resource === 'tailnet-node' ||
        (a.resource === 'gateway-restart' && state.gateway.serviceManager === 'systemd-system')),
  );
}

/** What stops up on this machine before anything is touched anywhere. */
export function preconditionBlockers(machine: string, state: MachineState, actions: Action[]): Blocker[] {
  const found: Blocker[] = [];
  if (actions.length > 0 && state.gateway.serviceManager === 'systemd' && state.gateway.lingering === false) {
    found.push({
      reason: `lingering is off for ${state.user}: the gateway's systemd user unit stops when ${state.user}'s last session ends`,
      fix: `sudo loginctl enable-linger ${state.user} (on ${machine}), then re-run`,
    });
  }
  if (state.root?.via === 'refused' && needsRoot(state, actions)) {
    found.push({
      reason: `${state.user} cannot run commands as root without a password (sudo -n: ${state.root.reason}); Tailscale needs root`,
      fix: `allow ${state.user} passwordless sudo on ${machine} (a file in /etc/sudoers.d), or connect as root`,
    });
  }
  return found;
}
