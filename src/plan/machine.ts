// The pure planner for one machine: what `up` or `down` has to do there, from the spec and what was observed.
import type { MachineObservation, MachineState } from '../observe/types.js';
import type { MachineSpec } from '../spec/types.js';
import type { Action, FieldChange } from './types.js';

/** What the caller worked out beforehand (hashes only: the planner never sees a secret). */
export interface Desired {
  /** sha256 of the token this machine's gateway must have; undefined: keep the token it has (generate). */
  tokenHash?: string;
  /** sha256 of the peer files this machine must have; undefined: not known until every peer has joined. */
  peerFilesHash?: string;
}

const TOOL_FOR_PEERS = 'sessions_send';
/** Settings whose change only a new gateway process applies (see docs: bind and port are fixed at start). */
const RESTART_FIELDS = new Set(['gateway.mode', 'gateway.bind', 'gateway.port', 'gateway.auth.mode', 'gateway.auth.token']);

export function isJoined(machine: MachineSpec, state: MachineState): boolean {
  const ts = state.tailscale;
  return ts.backendState === 'Running' && ts.hostname === machine.tailscale.hostname && machine.tags.every((t) => ts.tags.includes(t));
}

/** The gateway settings peer-provision owns, compared with what the machine has. */
export function gatewayChanges(machine: MachineSpec, state: MachineState, desired: Desired): FieldChange[] {
  const g = state.gateway;
  const changes: FieldChange[] = [];
  const want = (field: string, from: unknown, to: unknown) => {
    if (from !== to) changes.push({ field, from, to });
  };
  want('gateway.mode', g.mode, 'local');
  want('gateway.bind', g.bind, 'tailnet');
  want('gateway.port', g.port, machine.gateway.port);
  want('gateway.auth.mode', g.authMode, 'token');
  const keepExisting = desired.tokenHash === undefined && g.tokenHash !== undefined;
  if (!keepExisting && g.tokenHash !== desired.tokenHash) {
    changes.push({ field: 'gateway.auth.token', sensitive: true, from: g.tokenHash ? '(set)' : undefined, to: '(sensitive)' });
  }
  if (!g.toolsAllow.includes(TOOL_FOR_PEERS)) {
    changes.push({ field: 'gateway.tools.allow', from: g.toolsAllow, to: [...g.toolsAllow, TOOL_FOR_PEERS] });
  }
  return changes;
}

export function planMachineUp(machine: MachineSpec, observation: MachineObservation, desired: Desired): Action[] {
  if (observation.status === 'offline') return offlineUp(machine);
  if (observation.status === 'unreachable') {
    return [{ op: 'unknown', resource: 'tailnet-node', summary: 'machine state', reason: observation.reason }];
  }
  const state = observation.state;
  const actions: Action[] = [];
  if (!state.tailscale.installed) {
    actions.push({
      op: 'add',
      resource: 'tailscale-install',
      summary: state.os === 'darwin' ? 'install Tailscale with Homebrew' : `install Tailscale from ${machine.tailscale.installUrl}`,
    });
  }
  const joined = isJoined(machine, state);
  if (!joined) {
    const running = state.tailscale.backendState === 'Running';
    actions.push({
      op: running ? 'change' : 'add',
      resource: 'tailnet-node',
      summary: `${running ? 'rejoin' : 'join'} the tailnet as ${machine.tailscale.hostname}`,
      changes: [
        { field: 'hostname', from: state.tailscale.hostname, to: machine.tailscale.hostname },
        { field: 'tags', from: state.tailscale.tags, to: machine.tags },
      ].filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to)),
    });
  }
  const changes = gatewayChanges(machine, state, desired);
  if (changes.length > 0) {
    actions.push({
      op: state.gateway.configExists ? 'change' : 'add',
      resource: 'gateway-config',
      summary: `${state.gateway.backupExists ? 'patch' : 'back up, then patch'} ${state.gateway.configPath ?? 'the OpenClaw config'}`,
      changes,
    });
  }
  const listensOnTailnet = joined && state.tailscale.ip !== undefined && state.gateway.listening.includes(state.tailscale.ip);
  const restartReason = changes.some((c) => RESTART_FIELDS.has(c.field))
    ? 'bind, port or auth changed'
    : !listensOnTailnet
      ? 'the gateway is not listening on the tailnet address'
      : undefined;
  if (restartReason) {
    actions.push({ op: 'change', resource: 'gateway-restart', summary: `restart the gateway (${restartReason})` });
  }
  if (desired.peerFilesHash === undefined || desired.peerFilesHash !== state.peerFilesHash) {
    actions.push({
      op: state.peerFilesHash ? 'change' : 'add',
      resource: 'peer-files',
      summary: 'write peer-config, peer token files and the peer-messaging skill',
      reason: desired.peerFilesHash === undefined ? 'content known after every peer has joined' : undefined,
    });
  }
  return actions;
}

function offlineUp(machine: MachineSpec): Action[] {
  const reason = 'not observed (--offline)';
  return [
    { op: 'unknown', resource: 'tailscale-install', summary: `install Tailscale if missing (${machine.tailscale.installUrl})`, reason },
    { op: 'unknown', resource: 'tailnet-node', summary: `join the tailnet as ${machine.tailscale.hostname} with ${machine.tags.join(',')}`, reason },
    {
      op: 'unknown',
      resource: 'gateway-config',
      summary: 'patch the OpenClaw config (backed up once)',
      reason,
      changes: [
        { field: 'gateway.mode', to: 'local' },
        { field: 'gateway.bind', to: 'tailnet' },
        { field: 'gateway.port', to: machine.gateway.port },
        { field: 'gateway.auth.mode', to: 'token' },
        { field: 'gateway.auth.token', to: '(sensitive)', sensitive: true },
        { field: 'gateway.tools.allow', to: `(existing entries) + ${TOOL_FOR_PEERS}` },
      ],
    },
    { op: 'unknown', resource: 'gateway-restart', summary: 'restart the gateway if bind, port or auth changed', reason },
    { op: 'unknown', resource: 'peer-files', summary: 'write peer-config, peer token files and the peer-messaging skill', reason },
  ];
}

export function planMachineDown(machine: MachineSpec, observation: MachineObservation): Action[] {
  if (observation.status === 'offline') {
    const reason = 'not observed (--offline)';
    return [
      { op: 'unknown', resource: 'tailnet-node', summary: 'leave the tailnet', reason },
      { op: 'unknown', resource: 'gateway-config', summary: 'restore the OpenClaw config from the backup', reason },
      { op: 'unknown', resource: 'gateway-restart', summary: 'restart the gateway', reason },
      { op: 'unknown', resource: 'peer-files', summary: 'remove peer files', reason },
    ];
  }
  if (observation.status === 'unreachable') {
    return [{ op: 'unknown', resource: 'tailnet-node', summary: 'machine state', reason: observation.reason }];
  }
  const { state } = observation;
  const actions: Action[] = [];
  if (state.tailscale.backendState === 'Running') {
    actions.push({ op: 'destroy', resource: 'tailnet-node', summary: `leave the tailnet (${state.tailscale.hostname ?? machine.tailscale.hostname})` });
  }
  if (state.gateway.backupExists) {
    actions.push({ op: 'change', resource: 'gateway-config', summary: `restore ${state.gateway.configPath} from the backup` });
    actions.push({ op: 'change', resource: 'gateway-restart', summary: 'restart the gateway' });
  }
  if (state.peerFilesHash) actions.push({ op: 'destroy', resource: 'peer-files', summary: 'remove peer files' });
  return actions;
}
