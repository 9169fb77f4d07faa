// The OpenClaw settings peer-provision manages, in one place: their paths, the values up sets (the patch), what
// "someone else edited the config" ignores, and what down undoes (the reverse patch). The planner's field changes
// (src/plan/gateway.ts) name the same paths.
//
// Peers talk through OpenClaw's own A2A channel (docs/channels/a2a.md in the openclaw package): each machine lists
// each of its peers under channels.a2a.peers.<peer> with `token` (what that peer presents here), `url` (the peer's
// JSON-RPC endpoint over the tailnet) and `outboundToken` (what the peer expects from here). The gateway token
// (gateway.auth.token) is the owner's alone: no peer ever receives it.
import { isDeepStrictEqual } from 'node:util';

export const OWNED_GATEWAY_KEYS = ['mode', 'bind', 'port'] as const;
/** The A2A channel's own settings peer-provision sets (beside the peers of this stack). */
export const OWNED_A2A_KEYS = ['enabled', 'rateLimitPerMinute', 'exposeAgents'] as const;
/**
 * What the previous version of peer-provision added to gateway.tools.allow (peers then called /tools/invoke with the
 * owner's gateway token). up removes it where peer-provision added it; down removes it in any case it added it.
 */
export const LEGACY_TOOL = 'sessions_send';
/** OpenClaw stamps every write it makes here (meta.lastTouchedVersion, meta.migrations): not a user's edit. */
const WRITER_STAMP = 'meta';

/**
 * gateway.controlUi.allowedOrigins, set only where the config has none: bound beyond loopback, OpenClaw's Control UI
 * needs explicit origins (its security audit rates their absence critical), and the owner's own browser reaches it on
 * loopback (or through an ssh tunnel), never a peer's.
 */
export const loopbackOrigins = (port: number) => [`http://127.0.0.1:${port}`, `http://localhost:${port}`];

/** OpenClaw's A2A endpoint on a gateway: `url` of an outbound peer. */
export const a2aUrl = (ip: string, port: number) => `http://${ip}:${port}/a2a/v1`;
/** How an agent (and `openclaw message send`) addresses a peer on the A2A channel. */
export const a2aTarget = (peer: string) => `a2a:${peer}`;

/** What a machine's config must hold for one peer (secrets: only ever in memory and in that 0600 config). */
export interface PeerLink {
  /** The token this peer presents to this machine. */
  token: string;
  /** The peer's A2A endpoint; absent: none (a friend's machine not joined yet: it can send here, not be sent to). */
  url?: string;
  /** The token this machine presents to the peer. */
  outboundToken: string;
}

export interface TargetSettings {
  port: number;
  /**
   * The owner's gateway token to set; undefined: keep what gateway.auth.token holds. A config may hold a reference
   * there (`${OPENCLAW_GATEWAY_TOKEN}`, a SecretRef): writing the value it resolves to would put the secret in a file
   * its owner kept it out of.
   */
  token?: string;
  /** undefined: leave gateway.tools.allow alone; otherwise the list it gets (the legacy entry taken out). */
  toolsAllow?: string[] | null;
  /** gateway.controlUi.allowedOrigins to set (the config has none); undefined: leave them alone. */
  allowedOrigins?: string[];
  rateLimitPerMinute: number;
  exposeAgents?: string[];
  /** This machine's peers (the stack's machines and its friends), by name. */
  peers: Record<string, PeerLink>;
  /** Peers of this stack (machines, recorded friends) the config lists that are no longer this machine's peers: removed. */
  dropPeers: string[];
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});

/** The JSON merge patch up applies with `openclaw config patch`: peer-provision's settings, nothing else. */
export function settingsPatch(target: TargetSettings): Json {
  const peers: Json = Object.fromEntries(target.dropPeers.map((name) => [name, null]));
  for (const [name, link] of Object.entries(target.peers)) peers[name] = { token: link.token, url: link.url ?? null, outboundToken: link.outboundToken };
  return {
    gateway: {
      mode: 'local',
      bind: 'tailnet',
      port: target.port,
      auth: { mode: 'token', ...(target.token !== undefined ? { token: target.token } : {}) },
      ...(target.toolsAllow !== undefined ? { tools: { allow: target.toolsAllow } } : {}),
      ...(target.allowedOrigins ? { controlUi: { allowedOrigins: target.allowedOrigins } } : {}),
    },
    channels: {
      a2a: {
        enabled: true,
        rateLimitPerMinute: target.rateLimitPerMinute,
        ...(target.exposeAgents ? { exposeAgents: target.exposeAgents } : {}),
        peers,
      },
    },
  };
}

/** The config without what peer-provision owns: the stack's peers (`stackPeers`, machine names) and the settings above. */
export function withoutOwnedSettings(config: Json, stackPeers: readonly string[]): Json {
  const copy = structuredClone(config);
  delete copy[WRITER_STAMP];
  const gateway = object(copy.gateway);
  for (const key of OWNED_GATEWAY_KEYS) delete gateway[key];
  const auth = object(gateway.auth);
  delete auth.mode;
  delete auth.token;
  if (Object.keys(auth).length === 0) delete gateway.auth;
  const tools = object(gateway.tools);
  if (Array.isArray(tools.allow)) tools.allow = tools.allow.filter((t) => t !== LEGACY_TOOL);
  if (Array.isArray(tools.allow) && tools.allow.length === 0) delete tools.allow;
  if ('tools' in gateway && Object.keys(tools).length === 0) delete gateway.tools;
  const controlUi = object(gateway.controlUi);
  if (Array.isArray(controlUi.allowedOrigins) && controlUi.allowedOrigins.every((o) => /^http:\/\/(127\.0\.0\.1|localhost):\d+$/.test(String(o))))
    delete controlUi.allowedOrigins;
  if ('controlUi' in gateway && Object.keys(controlUi).length === 0) delete gateway.controlUi;
  if ('gateway' in copy && Object.keys(gateway).length === 0) delete copy.gateway;
  const channels = object(copy.channels);
  const a2a = object(channels.a2a);
  for (const key of OWNED_A2A_KEYS) delete a2a[key];
  const peers = object(a2a.peers);
  for (const name of stackPeers) delete peers[name];
  if ('peers' in a2a && Object.keys(peers).length === 0) delete a2a.peers;
  if ('a2a' in channels && Object.keys(a2a).length === 0) delete channels.a2a;
  if ('channels' in copy && Object.keys(channels).length === 0) delete copy.channels;
  return copy;
}

/** Someone else changed the config since peer-provision wrote `applied` (the settings it owns do not count). */
export const editedOutsideOwnedSettings = (current: Json, applied: Json, stackPeers: readonly string[]) =>
  !isDeepStrictEqual(withoutOwnedSettings(current, stackPeers), withoutOwnedSettings(applied, stackPeers));

/**
 * down, for a config someone else edited since up: the merge patch that puts back what the original had at each
 * setting peer-provision owns (removing what it added), and keeps every other change. `original` absent: there was
 * no config. The patch may hold the original gateway token (observe registered it for redaction).
 */
export function reversePatch(current: Json | undefined, original: Json | undefined, stackPeers: readonly string[]): Json {
  const og = object(original?.gateway);
  const cur = object(current?.gateway);
  const gateway: Json = {};
  for (const key of OWNED_GATEWAY_KEYS) gateway[key] = og[key] ?? null;
  const oauth = object(og.auth);
  gateway.auth = { mode: oauth.mode ?? null, token: oauth.token ?? null };
  const origAllow = (object(og.tools).allow ?? []) as string[];
  const curAllow = (object(cur.tools).allow ?? []) as string[];
  const allow = origAllow.includes(LEGACY_TOOL) ? curAllow : curAllow.filter((t) => t !== LEGACY_TOOL);
  gateway.tools = { allow: allow.length > 0 || og.tools ? allow : null };
  const oui = object(og.controlUi);
  const cui = object(cur.controlUi);
  if ('allowedOrigins' in cui && !('allowedOrigins' in oui))
    gateway.controlUi = Object.keys(cui).length === 1 && !('controlUi' in og) ? null : { allowedOrigins: null };

  const oa2a = object(object(original?.channels).a2a);
  const ca2a = object(object(current?.channels).a2a);
  const a2a: Json = {};
  for (const key of OWNED_A2A_KEYS) a2a[key] = oa2a[key] ?? null;
  const opeers = object(oa2a.peers);
  const cpeers = object(ca2a.peers);
  const peers: Json = {};
  for (const name of stackPeers) if (name in cpeers || name in opeers) peers[name] = opeers[name] ?? null;
  a2a.peers = peers;
  // a section left empty once these go is removed too (the original had none, or down would not remove it)
  const channels: Json = { a2a: isEmpty(mergePatch(structuredClone(ca2a), a2a)) ? null : a2a };
  return { gateway, channels: isEmpty(mergePatch(structuredClone(object(current?.channels)), channels)) ? null : channels };
}

/** No value in it but empty objects: what a section holds once every key peer-provision added is gone. */
const isEmpty = (value: Json): boolean => Object.values(value).every((v) => v && typeof v === 'object' && !Array.isArray(v) && isEmpty(v as Json));

/** RFC 7386 (what `openclaw config patch` applies): null removes a key, objects merge, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (value && typeof value === 'object' && !Array.isArray(value)) target[key] = mergePatch(object(target[key]), value as Json);
    else target[key] = value;
  }
  return target;
}

/** The A2A settings of a config as peer-provision reads them: per listed peer, which of its keys are set (never the secrets). */
export interface A2aObserved {
  enabled?: boolean;
  rateLimitPerMinute?: number;
  exposeAgents?: string[];
  peers: Record<string, { url?: string; token: boolean; outboundToken: boolean }>;
}

export function readA2a(config: Json | undefined): A2aObserved {
  const a2a = object(object(config?.channels).a2a);
  const peers: A2aObserved['peers'] = {};
  for (const [name, value] of Object.entries(object(a2a.peers))) {
    const p = object(value);
    peers[name] = {
      ...(typeof p.url === 'string' ? { url: p.url } : {}),
      token: typeof p.token === 'string' && p.token !== '',
      outboundToken: typeof p.outboundToken === 'string' && p.outboundToken !== '',
    };
  }
  return {
    ...(typeof a2a.enabled === 'boolean' ? { enabled: a2a.enabled } : {}),
    ...(typeof a2a.rateLimitPerMinute === 'number' ? { rateLimitPerMinute: a2a.rateLimitPerMinute } : {}),
    ...(Array.isArray(a2a.exposeAgents) ? { exposeAgents: a2a.exposeAgents.map(String) } : {}),
    peers,
  };
}

/** The secrets of a config's A2A peers (registered for redaction when observed; never printed). */
export function a2aSecrets(config: Json | undefined): { peer: string; token?: string; outboundToken?: string }[] {
  const peers = object(object(object(config?.channels).a2a).peers);
  return Object.entries(peers).map(([peer, value]) => {
    const p = object(value);
    return {
      peer,
      ...(typeof p.token === 'string' && p.token ? { token: p.token } : {}),
      ...(typeof p.outboundToken === 'string' && p.outboundToken ? { outboundToken: p.outboundToken } : {}),
    };
  });
}

/** Security audit findings (openclaw security audit --json checkId) that peer-provision's own settings can cause. */
export const causedByOwnSettings = (checkId: string) => /^(gateway\.|channels\.a2a|a2a\.)/.test(checkId);
