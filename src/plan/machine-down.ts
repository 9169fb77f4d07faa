// The pure planner for one machine's down: each config put back (byte for byte unless edited since), the gateway
// restarted on loopback, the peer files removed, this stack's node logged out last; and what down leaves alone.
import type { MachineObservation, MachineState } from '../observe/types.js';
import { DEFAULT_GATEWAY_PORT, type MachineSpec } from '../peer-yaml/types.js';
import { isTailnetAddress, stackNodeTags } from './node.js';
import { chain, makeStep, unknownStep } from './step.js';
import type { RestoreDecision } from './step-kinds.js';
import type { Step } from './types.js';

export function planMachineDown(machine: MachineSpec, observation: MachineObservation): Step[] {
  const name = machine.name;
  if (observation.status === 'offline') {
    const reason = 'not observed (--offline)';
    return [
      unknownStep(name, 'gateway-config', 'put each OpenClaw config back (byte for byte unless edited since)', reason),
      unknownStep(name, 'gateway-restart', 'restart the gateway', reason),
      unknownStep(name, 'peer-files', 'remove peer files', reason),
      unknownStep(name, 'tailnet-node', "leave the tailnet (only this stack's node)", reason),
    ];
  }
  if (observation.status === 'unreachable') return [unknownStep(name, 'tailnet-node', 'machine state', observation.reason)];
  const { state } = observation;
  const steps: Step[] = [];
  // Order: the config back and the gateway restarted first, the tailnet left last (leaving may cut the
  // connection down came over; everything else is done by then).
  const restore = (state.recorded ?? []).map((r): RestoreDecision => ({ id: r.id, path: r.path, mode: restoreMode(r) }));
  if (restore.length > 0) {
    const words = { bytes: 'put back byte for byte', patch: "remove peer-provision's keys (edited since)", none: 'already the original' };
    steps.push(
      makeStep('restore-config', name, {
        op: 'change',
        summary: restore.map((r) => `${r.path}: ${words[r.mode]}`).join('; '),
        input: { records: restore },
      }),
    );
  }
  const active = (state.recorded ?? []).find((r) => r.path === state.gateway.configPath) ?? state.recorded?.[0];
  if (restore.some((r) => r.mode !== 'none')) {
    const port = active?.origPort ?? DEFAULT_GATEWAY_PORT;
    steps.push(
      makeStep('restart', name, {
        op: 'change',
        summary: `restart the gateway (it listens on 127.0.0.1:${port} again)`,
        // the restored config decides the bind and port; loopback answers for every bind but custom
        input: { serviceManager: state.gateway.serviceManager, command: machine.gateway.restart, oldPid: state.gateway.pid, port, listen: 'loopback' },
      }),
    );
  }
  if (state.peerFilesHash) steps.push(makeStep('remove-peer-files', name, { op: 'destroy', summary: 'remove peer files', input: {} }));
  if (state.guard?.port !== undefined) {
    steps.push(unguardStep(name, state.guard.table));
  }
  const tags = stackNodeTags(machine, state);
  if (state.tailscale.loggedIn && tags) {
    const overTailscale = isTailnetAddress(state.sshClient);
    if (!overTailscale || machine.tailscale.takeOver) {
      steps.push(
        makeStep('leave', name, {
          op: 'destroy',
          summary: `leave the tailnet (${state.tailscale.hostname ?? machine.tailscale.hostname})${overTailscale ? ', in the background: this connection runs over it' : ''}`,
          input: { detach: overTailscale, tags },
        }),
      );
    }
  }
  return chain(steps);
}

/** The inbound guard's table removed (down; up when the guard is no longer wanted). */
export const unguardStep = (machine: string, table: string): Step =>
  makeStep('unguard', machine, { op: 'destroy', summary: `remove the inbound guard (nftables table inet ${table})`, input: { table } });

/** Byte for byte only when nobody but peer-provision changed the config; otherwise only its own keys go. */
export function restoreMode(r: NonNullable<MachineState['recorded']>[number]): RestoreDecision['mode'] {
  if (r.origSame) return 'none';
  if (r.appliedSame && !r.edited) return 'bytes';
  return 'patch';
}

/** What down leaves alone on purpose, said in the plan. */
export function downNotes(machine: MachineSpec, observation: MachineObservation): string[] {
  if (observation.status !== 'observed') return [];
  const { state } = observation;
  if (!state.tailscale.loggedIn) return [];
  if (!stackNodeTags(machine, state)) return [`the node is not this stack's (${state.tailscale.tags.join(',') || 'no tags'}): it stays on its tailnet`];
  if (isTailnetAddress(state.sshClient) && !machine.tailscale.takeOver) {
    return [
      `the node stays on the tailnet: peer-provision reaches it over Tailscale (ssh from ${state.sshClient}), and leaving would lock you out; run \`tailscale logout\` on it yourself, or set machines.${machine.name}.tailscale.takeOver: true`,
    ];
  }
  return [];
}
