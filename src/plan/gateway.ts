// The gateway settings peer-provision owns, planned: what changes in a machine's OpenClaw config (never a secret:
// a token is "(sensitive)"), and whether the running gateway must restart to take it.
import { LEGACY_TOOL, loopbackOrigins } from '../model/gateway-settings.js';
import type { MachineState } from '../observe/types.js';
import type { MachineSpec } from '../peer-yaml/types.js';
import type { FieldChange } from './types.js';

/** What the caller worked out beforehand (hashes only: the planner never sees a secret). */
export interface Desired {
  /** sha256 of the token this machine's gateway must have; undefined: keep the token it has (generate). */
  tokenHash?: string;
  /** sha256 of the peer files this machine must have; undefined: not known until every peer has joined. */
  peerFilesHash?: string;
  /** The peers its peer files name. */
  peers?: string[];
  /** The friends' machines its peer files name too: those whose address is known (joined, or given by an invite). */
  friendFiles?: { name: string; hostname: string; ip: string; port: number }[];
  /** Per peer: its A2A URL (undefined: known once it has joined) and whether this config holds the pair's tokens already. */
  a2a?: Record<string, { url?: string; tokensInPlace: boolean }>;
  /** The stack's machine names: a peer of this stack the config lists that is no longer this machine's peer is removed. */
  stackMachines?: string[];
  /**
   * This machine's friends (peer.yaml `friends`, by hostname: their A2A peer name): their URL once their machine is on
   * this one's tailnet with the friend's tags (until then none, and that is converged), and whether the tokens are in place.
   */
  friends?: Record<string, { url?: string; tokensInPlace: boolean }>;
}

/** Settings whose change only a new gateway process applies (see docs: bind and port are fixed at start). */
export const RESTART_FIELDS = new Set([
  'gateway.mode',
  'gateway.bind',
  'gateway.port',
  'gateway.auth.mode',
  'gateway.auth.token',
  'gateway.controlUi.allowedOrigins',
]);
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
export const originsToSet = (machine: MachineSpec, state: MachineState) =>
  state.gateway.allowedOrigins.length === 0 ? loopbackOrigins(machine.gateway.port) : undefined;

/** Peers peer-provision wrote (the stack's machines, the friends it recorded) that the config lists and this machine no longer has. */
export const droppedPeers = (state: MachineState, desired: Desired) =>
  Object.keys(state.gateway.a2a.peers).filter(
    (p) =>
      (desired.stackMachines?.includes(p) || state.gateway.friendPeers?.includes(p)) && !(desired.peers ?? []).includes(p) && !(p in (desired.friends ?? {})),
  );

/** A pair's two tokens, to be written: never their values. */
const pairTokenChanges = (field: string, have: { token: boolean; outboundToken: boolean } | undefined): FieldChange[] => [
  { field: `${field}.token`, sensitive: true, from: have?.token ? '(set)' : undefined, to: '(sensitive)' },
  { field: `${field}.outboundToken`, sensitive: true, from: have?.outboundToken ? '(set)' : undefined, to: '(sensitive)' },
];

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
    if (!link?.tokensInPlace) changes.push(...pairTokenChanges(field, have));
  }
  for (const [friend, link] of Object.entries(desired.friends ?? {})) {
    const have = a2a.peers[friend];
    const field = `channels.a2a.peers.${friend}`;
    want(`${field}.url`, have?.url, link.url);
    if (!link.tokensInPlace) changes.push(...pairTokenChanges(field, have));
  }
  for (const peer of droppedPeers(state, desired)) changes.push({ field: `channels.a2a.peers.${peer}`, from: '(set)', to: undefined });
  return changes;
}

/** A change the running gateway does not take on its own: bind, port and auth always; any, when its config reload is off. */
export const needsRestart = (state: MachineState, changes: FieldChange[]) =>
  changes.some((c) => RESTART_FIELDS.has(c.field) || (state.gateway.reloadMode === 'off' && c.field.startsWith('channels.')));
