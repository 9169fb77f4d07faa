// The pure planner for one machine's up: install Tailscale, join (or re-key), patch the gateway config, restart the
// gateway, write the peer files; each only when what was observed differs from what the spec wants.
import { loopbackOrigins } from '../model/gateway-settings.js';
import type { MachineObservation, MachineState } from '../observe/types.js';
import type { MachineSpec } from '../peer-yaml/types.js';
import { type Desired, droppedPeers, gatewayChanges, legacyToolsAllow, needsRestart, originsToSet, RESTART_FIELDS } from './gateway.js';
import { unguardStep } from './machine-down.js';
import { hasStackTags, isJoined } from './node.js';
import { type NodeKeys, nodeKeyPlan } from './node-keys.js';
import { chain, makeStep, unknownStep } from './step.js';
import type { JoinWith } from './step-kinds.js';
import type { Step } from './types.js';

export function planMachineUp(machine: MachineSpec, observation: MachineObservation, desired: Desired, joinWith: JoinWith, keys?: NodeKeys): Step[] {
  if (observation.status === 'offline') return offlineUp(machine);
  if (observation.status === 'unreachable') return [unknownStep(machine.name, 'tailnet-node', 'machine state', observation.reason)];
  const state = observation.state;
  const name = machine.name;
  const steps: Step[] = [];
  if (!state.tailscale.installed) {
    const installUrl = machine.tailscale.installUrl;
    steps.push(
      makeStep('install-tailscale', name, {
        op: 'add',
        summary: state.os === 'darwin' ? 'install Tailscale with Homebrew' : `install Tailscale from ${installUrl}`,
        input: { os: state.os, installUrl },
      }),
    );
  }
  steps.push(...guardSteps(machine, state));
  const joined = isJoined(machine, state);
  const rekey = keys ? nodeKeyPlan(machine, state, keys).rekey : undefined;
  if (rekey) {
    // same hostname, tags and address: a fresh key and --force-reauth (a logged-in node ignores a new key without it)
    steps.push(
      makeStep('join', name, {
        op: 'change',
        summary: rekey,
        input: { hostname: machine.tailscale.hostname, tags: machine.tags, forceReauth: true, rekey: true, ...joinWith },
      }),
    );
  } else if (!joined && !state.tailscale.daemonError) {
    // (tailscaled not answering: a blocker asks for it; a join planned over an unknown node would be a guess)
    const running = state.tailscale.backendState === 'Running';
    // A node logged in elsewhere ignores a new auth key unless told to re-authenticate (takeOver only: the
    // planner's blockers refuse it otherwise).
    const takeOver = state.tailscale.loggedIn && !hasStackTags(machine, state) && machine.tailscale.takeOver;
    steps.push(
      makeStep('join', name, {
        op: running ? 'change' : 'add',
        summary: `${takeOver ? `log out of ${state.tailscale.tailnet ?? 'its tailnet'}, then join` : running ? 'rejoin' : 'join'} the tailnet as ${machine.tailscale.hostname}`,
        changes: [
          { field: 'hostname', from: state.tailscale.hostname, to: machine.tailscale.hostname },
          { field: 'tags', from: state.tailscale.tags, to: machine.tags },
        ].filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to)),
        input: { hostname: machine.tailscale.hostname, tags: machine.tags, forceReauth: takeOver, rekey: false, ...joinWith },
      }),
    );
  }
  const changes = gatewayChanges(machine, state, desired);
  if (changes.length > 0 && state.gateway.configPath) {
    const toolsAllow = legacyToolsAllow(state);
    const allowedOrigins = originsToSet(machine, state);
    steps.push(
      makeStep('patch-config', name, {
        op: state.gateway.configExists ? 'change' : 'add',
        summary: `${state.gateway.backupExists ? 'patch' : 'back up, then patch'} ${state.gateway.configPath}`,
        changes,
        input: {
          configPath: state.gateway.configPath,
          port: machine.gateway.port,
          token: changes.some((c) => c.field === 'gateway.auth.token') ? 'set' : 'keep',
          ...(toolsAllow !== undefined ? { toolsAllow } : {}),
          ...(allowedOrigins ? { allowedOrigins } : {}),
          a2a: {
            peers: desired.peers ?? [],
            friends: Object.entries(desired.friends ?? {}).map(([friend, link]) => ({ name: friend, ...(link.url ? { url: link.url } : {}) })),
            dropPeers: droppedPeers(state, desired),
            rateLimitPerMinute: machine.gateway.a2a.rateLimitPerMinute,
            ...(machine.gateway.a2a.exposeAgents ? { exposeAgents: machine.gateway.a2a.exposeAgents } : {}),
          },
          edited: Boolean(state.gateway.editedSinceApplied),
        },
      }),
    );
  } else if (changes.length > 0) {
    steps.push(unknownStep(name, 'gateway-config', 'patch the OpenClaw config', 'OpenClaw did not say where its config is', { changes }));
  }
  const listensOnTailnet = joined && state.tailscale.ip !== undefined && state.gateway.listening.includes(state.tailscale.ip);
  const restartReason = needsRestart(state, changes)
    ? state.gateway.reloadMode === 'off' && !changes.some((c) => RESTART_FIELDS.has(c.field))
      ? 'the config changed and gateway.reload.mode is off'
      : 'bind, port or auth changed'
    : !listensOnTailnet
      ? 'the gateway is not listening on the tailnet address'
      : undefined;
  if (restartReason) {
    steps.push(
      makeStep('restart', name, {
        op: 'change',
        summary: `restart the gateway (${restartReason})`,
        input: {
          serviceManager: state.gateway.serviceManager,
          command: machine.gateway.restart,
          oldPid: state.gateway.pid,
          port: machine.gateway.port,
          listen: 'tailnet',
        },
      }),
    );
  }
  if (desired.peerFilesHash === undefined || desired.peerFilesHash !== state.peerFilesHash) {
    steps.push(
      makeStep('write-peer-files', name, {
        op: state.peerFilesHash ? 'change' : 'add',
        summary: 'write peer-config and the peer-messaging skill',
        reason: desired.peerFilesHash === undefined ? 'content known after every peer has joined' : undefined,
        input: {
          peers: desired.peers ?? [],
          ...(desired.friendFiles?.length ? { friends: desired.friendFiles } : {}),
          ...(desired.peerFilesHash ? { digest: desired.peerFilesHash } : {}),
        },
      }),
    );
  }
  return chain(steps);
}

/** The inbound guard: added (or its port put right) when wanted, removed when it is there and no longer wanted. */
function guardSteps(machine: MachineSpec, state: MachineState): Step[] {
  if (!state.guard) return []; // not wanted, and never set up here
  const { table, port: now } = state.guard;
  const port = machine.gateway.port;
  if (machine.tailscale.guard && now !== port) {
    return [
      makeStep('guard', machine.name, {
        op: now === undefined ? 'add' : 'change',
        summary: `let in on the tailnet interface only tcp/${port} (nftables table inet ${table})`,
        changes: [{ field: 'inbound-guard', from: now === undefined ? undefined : `tcp/${now}`, to: `tcp/${port}` }],
        input: { table, port },
      }),
    ];
  }
  if (!machine.tailscale.guard && now !== undefined) {
    return [unguardStep(machine.name, table)];
  }
  return [];
}

function offlineUp(machine: MachineSpec): Step[] {
  const reason = 'not observed (--offline)';
  const name = machine.name;
  return [
    unknownStep(name, 'tailscale-install', `install Tailscale if missing (${machine.tailscale.installUrl})`, reason),
    unknownStep(name, 'tailnet-node', `join the tailnet as ${machine.tailscale.hostname} with ${machine.tags.join(',')}`, reason),
    unknownStep(name, 'gateway-config', 'patch the OpenClaw config (backed up once)', reason, {
      changes: [
        { field: 'gateway.mode', to: 'local' },
        { field: 'gateway.bind', to: 'tailnet' },
        { field: 'gateway.port', to: machine.gateway.port },
        { field: 'gateway.auth.mode', to: 'token' },
        { field: 'gateway.auth.token', to: '(sensitive)', sensitive: true },
        { field: 'gateway.controlUi.allowedOrigins', to: `(when none) ${JSON.stringify(loopbackOrigins(machine.gateway.port))}` },
        { field: 'channels.a2a.enabled', to: true },
        { field: 'channels.a2a.rateLimitPerMinute', to: machine.gateway.a2a.rateLimitPerMinute },
        ...(machine.gateway.a2a.exposeAgents ? [{ field: 'channels.a2a.exposeAgents', to: machine.gateway.a2a.exposeAgents }] : []),
        { field: 'channels.a2a.peers.<each peer>', to: '(url, token, outboundToken: sensitive)', sensitive: true },
      ],
    }),
    unknownStep(name, 'gateway-restart', 'restart the gateway if bind, port or auth changed', reason),
    unknownStep(name, 'peer-files', 'write peer-config and the peer-messaging skill', reason),
  ];
}
