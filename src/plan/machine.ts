// The pure planner for one machine: what `up` or `down` has to do there, from the spec and what was observed.

import { LEGACY_TOOL, loopbackOrigins } from '../model/gateway-settings.js';
import type { MachineObservation, MachineState } from '../observe/types.js';
import { DEFAULT_GATEWAY_PORT, type MachineSpec } from '../peer-yaml/types.js';
import { isJoined, isOwnNode, isStackNode, isTailnetAddress, keyExpiresIn, roughDuration, stackNodeTags } from './node.js';
import { chain, makeStep, unknownStep } from './step.js';
import type { JoinWith, RestoreDecision } from './step-kinds.js';
import type { FieldChange, Step } from './types.js';

export { isJoined } from './node.js';

/** What the caller worked out beforehand (hashes only: the planner never sees a secret). */
export interface Desired {
  /** sha256 of the token this machine's gateway must have; undefined: keep the token it has (generate). */
  tokenHash?: string;
  /** sha256 of the peer files this machine must have; undefined: not known until every peer has joined. */
  peerFilesHash?: string;
  /** The peers its peer files name. */
  peers?: string[];
  /** Per peer: its A2A URL (undefined: known once it has joined) and whether this config holds the pair's tokens already. */
  a2a?: Record<string, { url?: string; tokensInPlace: boolean }>;
  /** The stack's machine names: a peer of this stack the config lists that is no longer this machine's peer is removed. */
  stackMachines?: string[];
}

/**
 * Node key expiry, judged against `now` (the caller reads the clock: the planner never does). Without it the plan
 * says nothing about node keys (plan --offline, down).
 */
export interface NodeKeys {
  /** Milliseconds since the epoch. */
  now: number;
  /** A key that expires within this many seconds counts as near expiry. */
  windowSeconds: number;
  /** rotate: re-key nodes whose key is near expiry (provider pulumi). up: only say so in a note. */
  rekey: boolean;
  provider: 'pulumi' | 'provided';
}

/** The default of rotate --rekey-within, and the window within which up suggests rotate. */
export const DEFAULT_REKEY_WINDOW_SECONDS = 7 * 86400;

/**
 * What this run does about a node's key: a re-key (the tailnet-node action's summary) and/or a note. An expired key
 * is always re-keyed (the node is offline on the tailnet: up has to join it again anyway, and a logged-in node needs
 * --force-reauth for a new key); a key near expiry only by rotate with provider pulumi (it mints the new key).
 */
export function nodeKeyPlan(machine: MachineSpec, state: MachineState, keys: NodeKeys): { rekey?: string; note?: string } {
  if (!isOwnNode(machine, state)) return {};
  const window = roughDuration(keys.windowSeconds);
  const left = keyExpiresIn(state, keys.now);
  if (left === undefined) {
    if (!keys.rekey) return {};
    return state.tailscale.keyExpiry === undefined
      ? { note: 'node key expiry disabled (the default for a tagged node): nothing to re-key' }
      : { note: `node key expiry not readable (${JSON.stringify(state.tailscale.keyExpiry)}): not re-keyed` };
  }
  const yourKey = `re-keying needs a new auth key from you (tailnet.provider: provided): put an unused one in machines.${machine.name}.tailscale.authKey and run \`tailscale up --force-reauth --auth-key=file:PATH\` on the machine, or use provider pulumi`;
  if (left <= 0) {
    return {
      rekey: `re-key (node key expired ${roughDuration(left)} ago: the node is offline on the tailnet)`,
      ...(keys.provider === 'provided'
        ? { note: `node key expired: the re-key joins with machines.${machine.name}.tailscale.authKey, which must be a new, unused key` }
        : {}),
    };
  }
  const expires = `node key expires in ${roughDuration(left)}`;
  if (left > keys.windowSeconds) return keys.rekey ? { note: `${expires}: not re-keyed (not within ${window})` } : {};
  if (keys.provider === 'provided') return { note: `${expires}: ${yourKey}` };
  return keys.rekey ? { rekey: `re-key (${expires})` } : { note: `${expires}: \`peer-provision rotate\` re-keys it` };
}

/** Settings whose change only a new gateway process applies (see docs: bind and port are fixed at start). */
const RESTART_FIELDS = new Set(['gateway.mode', 'gateway.bind', 'gateway.port', 'gateway.auth.mode', 'gateway.auth.token', 'gateway.controlUi.allowedOrigins']);
/** What a plan shows for a value apply knows only once a peer has joined. */
const AFTER_JOIN = '(known after join)';

/** gateway.tools.allow without the sessions_send the previous version added (the user's original did not have it); undefined: nothing to take out. */
export function legacyToolsAllow(state: MachineState): string[] | null | undefined {
  const g = state.gateway;
  if (!g.toolsAllow.includes(LEGACY_TOOL) || !g.backupExists || g.origToolsAllow === undefined || g.origToolsAllow.includes(LEGACY_TOOL)) return undefined;
  const kept = g.toolsAllow.filter((t) => t !== LEGACY_TOOL);
  return kept.length > 0 ? kept : null;
}

/** The Control UI's origins when the config has none (OpenClaw requires them once bound beyond loopback). */
const originsToSet = (machine: MachineSpec, state: MachineState) =>
  state.gateway.allowedOrigins.length === 0 ? loopbackOrigins(machine.gateway.port) : undefined;

/** Stack peers the config lists that are no longer this machine's peers. */
const droppedPeers = (state: MachineState, desired: Desired) =>
  Object.keys(state.gateway.a2a.peers).filter((p) => desired.stackMachines?.includes(p) && !(desired.peers ?? []).includes(p));

/** The gateway settings peer-provision owns (src/model/gateway-settings.ts), compared with what the machine has. */
export function gatewayChanges(machine: MachineSpec, state: MachineState, desired: Desired): FieldChange[] {
  const g = state.gateway;
  const changes: FieldChange[] = [];
  const want = (field: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) !== JSON.stringify(to)) changes.push({ field, from, to });
  };
  want('gateway.mode', g.mode, 'local');
  want('gateway.bind', g.bind, 'tailnet');
  want('gateway.port', g.port, machine.gateway.port);
  want('gateway.auth.mode', g.authMode, 'token');
  const keepExisting = desired.tokenHash === undefined && g.tokenHash !== undefined;
  if (!keepExisting && g.tokenHash !== desired.tokenHash) {
    changes.push({ field: 'gateway.auth.token', sensitive: true, from: g.tokenHash ? '(set)' : undefined, to: '(sensitive)' });
  }
  const allow = legacyToolsAllow(state);
  if (allow !== undefined) changes.push({ field: 'gateway.tools.allow', from: g.toolsAllow, to: allow ?? undefined });
  const origins = originsToSet(machine, state);
  if (origins) changes.push({ field: 'gateway.controlUi.allowedOrigins', from: undefined, to: origins });
  const a2a = g.a2a;
  want('channels.a2a.enabled', a2a.enabled, true);
  want('channels.a2a.rateLimitPerMinute', a2a.rateLimitPerMinute, machine.gateway.a2a.rateLimitPerMinute);
  if (machine.gateway.a2a.exposeAgents) want('channels.a2a.exposeAgents', a2a.exposeAgents, machine.gateway.a2a.exposeAgents);
  for (const peer of desired.peers ?? []) {
    const have = a2a.peers[peer];
    const link = desired.a2a?.[peer];
    const field = `channels.a2a.peers.${peer}`;
    if (link?.url === undefined) changes.push({ field: `${field}.url`, from: have?.url, to: AFTER_JOIN });
    else want(`${field}.url`, have?.url, link.url);
    if (!link?.tokensInPlace) {
      changes.push({ field: `${field}.token`, sensitive: true, from: have?.token ? '(set)' : undefined, to: '(sensitive)' });
      changes.push({ field: `${field}.outboundToken`, sensitive: true, from: have?.outboundToken ? '(set)' : undefined, to: '(sensitive)' });
    }
  }
  for (const peer of droppedPeers(state, desired)) changes.push({ field: `channels.a2a.peers.${peer}`, from: '(set)', to: undefined });
  return changes;
}

/** A change the running gateway does not take on its own: bind, port and auth always; any, when its config reload is off. */
const needsRestart = (state: MachineState, changes: FieldChange[]) =>
  changes.some((c) => RESTART_FIELDS.has(c.field) || (state.gateway.reloadMode === 'off' && c.field.startsWith('channels.')));

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
    const takeOver = state.tailscale.loggedIn && !isStackNode(machine, state) && machine.tailscale.takeOver;
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
        input: { peers: desired.peers ?? [], ...(desired.peerFilesHash ? { digest: desired.peerFilesHash } : {}) },
      }),
    );
  }
  return chain(steps);
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
