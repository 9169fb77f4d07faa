// Turns observe.sh's result values into a MachineState, plus what must stay private (the config text, the token).
import JSON5 from 'json5';
import { a2aSecrets, editedOutsideOwnedSettings, readA2a } from '../model/gateway-settings.js';
import { sha256 } from '../model/hash.js';
import { tokenProblem } from '../peer-yaml/token-rule.js';
import { decoded, parseResult } from '../transport/result.js';
import { tailscaleState } from './tailscale-status.js';
import type { ConfigKind, MachineState, RecordedConfig, ServiceManager } from './types.js';

export interface Private {
  /** The OpenClaw config as it is on the machine (may hold secrets: never printed). */
  configText?: string;
  config?: Record<string, unknown>;
  /** Per recorded config (down only): what it holds now and peer-provision's backup of the original. */
  records: Map<string, { current?: string; orig?: string }>;
  /** The gateway token now in the config, when it is written there (not a reference). */
  token?: string;
  /** The config names its gateway token by reference (isTokenReference): it is kept as it is, never resolved. */
  tokenRef?: boolean;
  /** Every secret found in what observe read (the token now, the originals' tokens): observe/index.ts registers them. */
  secrets: string[];
  home: string;
}

/**
 * OpenClaw resolves these where a token goes (docs/gateway/config-secrets-env.md in the openclaw package): the whole
 * string `${VAR}` (upper-case names only), or a SecretRef object `{ source, provider, id }`. The secret itself is
 * elsewhere, where its owner keeps it.
 */
export const isTokenReference = (value: unknown): boolean =>
  (typeof value === 'string' && /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(value)) ||
  (Boolean(value) &&
    typeof value === 'object' &&
    typeof (value as { source?: unknown }).source === 'string' &&
    typeof (value as { id?: unknown }).id === 'string');

const get = (object: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), object);

/** Someone else's edit since peer-provision's last write (applied: that write's text, when the config differs). */
function editedSince(config: Record<string, unknown> | undefined, appliedText: string | undefined, stackPeers: readonly string[]): boolean | undefined {
  if (!appliedText?.trim()) return undefined;
  try {
    return config === undefined || editedOutsideOwnedSettings(config, JSON5.parse(appliedText), stackPeers);
  } catch {
    return true; // what peer-provision wrote cannot be read back: assume the worst, keep every change on down
  }
}

/** The "record.ID.*" values: every config peer-provision patched, with its current and original text. */
function parseRecords(values: Record<string, string>, secrets: string[]): { recorded: RecordedConfig[]; records: Private['records'] } {
  const recorded: RecordedConfig[] = [];
  const records: Private['records'] = new Map();
  for (const key of Object.keys(values)) {
    const id = /^record\.([0-9a-f]+)\.path$/.exec(key)?.[1];
    if (!id) continue;
    const f = (name: string) => values[`record.${id}.${name}`];
    const current = decoded(values, `record.${id}.current_b64`) || undefined;
    const orig = decoded(values, `record.${id}.orig_b64`) || undefined;
    records.set(id, { current, orig });
    let origPort: number | undefined;
    let origUnreadable = false;
    for (const text of [orig, current]) {
      try {
        const parsed = text ? JSON5.parse(text) : undefined;
        secrets.push(...secretsOf(parsed)); // the original's tokens are as secret as the current ones
        const port = get(parsed, 'gateway', 'port');
        if (text === orig && typeof port === 'number') origPort = port;
      } catch {
        // not JSON5: nothing to learn from it; an unreadable original cannot say which settings to put back
        if (text === orig) origUnreadable = true;
      }
    }
    recorded.push({
      id,
      path: f('path') ?? '',
      kind: (f('kind') as ConfigKind) ?? 'absent',
      absent: f('absent') === '1',
      edited: f('edited') === '1',
      appliedSame: f('applied_same') === '1',
      origSame: f('orig_same') === '1',
      origPort,
      ...(origUnreadable ? { origUnreadable } : {}),
    });
  }
  return { recorded, records };
}

/**
 * Every token a config holds that could be used (the gateway's and each A2A peer's): one outside the token rule is
 * never kept, sent or printed by peer-provision, and redacting it (a token "gateway") would blank ordinary words.
 */
function secretsOf(config: unknown): string[] {
  const token = get(config, 'gateway', 'auth', 'token');
  const peers = a2aSecrets(config as Record<string, unknown> | undefined).flatMap((p) => [p.token, p.outboundToken]);
  return [token, ...peers].filter((t): t is string => typeof t === 'string' && !tokenProblem(t));
}

/** gateway.tools.allow of the original config (peer-provision's backup), when it can be read. */
function origToolsAllow(origText: string | undefined): string[] | undefined {
  if (origText === undefined) return undefined;
  try {
    const allow = get(origText.trim() ? JSON5.parse(origText) : {}, 'gateway', 'tools', 'allow');
    return Array.isArray(allow) ? allow.map(String) : [];
  } catch {
    return undefined;
  }
}

/**
 * observe.sh's stdout. A missing or cut result line throws, without quoting the output (it holds the config).
 * stackPeers: the stack's machine names (the A2A peers peer-provision owns in any config, beside the friends it recorded).
 */
export function parseObservation(stdout: string, stackPeers: readonly string[] = []): { state: MachineState; private: Private } {
  const facts = parseResult(stdout, 'observe.sh').values;

  const configText = decoded(facts, 'config_b64') || undefined;
  let config: Record<string, unknown> | undefined;
  let configError: string | undefined;
  if (configText?.trim()) {
    try {
      config = JSON5.parse(configText);
    } catch (error) {
      configError = (error as Error).message;
    }
  }
  const secrets: string[] = [];
  const { recorded, records } = parseRecords(facts, secrets);
  // what the file holds is the machine's word: only names a peer could have are taken
  const friendPeers = (facts.friends ?? '').split(/\s+/).filter((name) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name));
  const token = get(config, 'gateway', 'auth', 'token');
  const tokenRef = isTokenReference(token);
  secrets.push(...secretsOf(config));
  const origText = facts.backup_orig_b64 === undefined ? undefined : decoded(facts, 'backup_orig_b64');
  try {
    if (origText?.trim()) secrets.push(...secretsOf(JSON5.parse(origText)));
  } catch {
    // not JSON5: no token to learn from it
  }
  const allow = get(config, 'gateway', 'tools', 'allow');
  const port = get(config, 'gateway', 'port');

  const state: MachineState = {
    os: facts.os ?? 'unknown',
    arch: facts.arch ?? 'unknown',
    user: facts.user ?? 'unknown',
    machineId: facts.machine_id || undefined,
    sshClient: facts.ssh_client || undefined,
    root:
      facts.sudo === undefined
        ? { via: 'root' }
        : facts.sudo === 'ok'
          ? { via: 'sudo' }
          : { via: 'refused', reason: facts.sudo.replace(/^refused: ?/, '') || 'sudo -n failed' },
    curl: 'curl' in facts ? Boolean(facts.curl) : undefined,
    tailscale: {
      ...tailscaleState(decoded(facts, 'tailscale_status_b64') ?? '', Boolean(facts.tailscale)),
      ...(facts.tailscale_error !== undefined ? { daemonError: facts.tailscale_error.trim() || '`tailscale status` failed' } : {}),
    },
    gateway: {
      installed: Boolean(facts.openclaw),
      configPath: facts.config || undefined,
      configKind: (facts.config_kind as ConfigKind | undefined) || undefined,
      configExists: facts.config_exists === '1',
      configError,
      mode: get(config, 'gateway', 'mode') as string | undefined,
      bind: get(config, 'gateway', 'bind') as string | undefined,
      port: typeof port === 'number' ? port : undefined,
      authMode: get(config, 'gateway', 'auth', 'mode') as string | undefined,
      // a reference is a token that is set: its hash is the reference's, which changes when the reference does
      tokenHash: tokenRef ? sha256(JSON.stringify(token)) : typeof token === 'string' ? sha256(token) : undefined,
      tokenProblem: typeof token === 'string' && !tokenRef ? tokenProblem(token) : undefined,
      toolsAllow: Array.isArray(allow) ? allow.map(String) : [],
      origToolsAllow: origToolsAllow(origText),
      a2a: readA2a(config),
      ...(friendPeers.length ? { friendPeers } : {}),
      allowedOrigins: ((o) => (Array.isArray(o) ? o.map(String) : []))(get(config, 'gateway', 'controlUi', 'allowedOrigins')),
      reloadMode: (get(config, 'gateway', 'reload', 'mode') as string | undefined) ?? undefined,
      version: facts.openclaw_version || undefined,
      a2aChannel: facts.a2a_channel === undefined ? undefined : facts.a2a_channel === '1',
      backupExists: facts.backup === '1',
      editedSinceApplied: editedSince(config, decoded(facts, 'applied_b64'), [...stackPeers, ...friendPeers]),
      serviceManager: (['systemd', 'systemd-system', 'launchd', 'supervisor'].includes(facts.service) ? facts.service : 'none') as ServiceManager,
      lingering: facts.linger === undefined ? undefined : facts.linger === 'yes',
      pid: facts.pid ? Number(facts.pid) : undefined,
      listening: (facts.listening ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((address) => address.replace(/[:.]\d+$/, '').replace(/^\[|\]$/g, '')),
    },
    ...(facts.guard_table
      ? { guard: { nft: facts.nft === '1', table: facts.guard_table, ...(/^\d+$/.test(facts.guard_port ?? '') ? { port: Number(facts.guard_port) } : {}) } }
      : {}),
    peerFilesHash: facts.peer_files || undefined,
    recorded: recorded.length ? recorded : undefined,
  };
  return {
    state,
    private: {
      configText,
      config,
      records,
      token: typeof token === 'string' && !tokenRef ? token : undefined,
      ...(tokenRef ? { tokenRef } : {}),
      secrets,
      home: facts.home ?? '~',
    },
  };
}
