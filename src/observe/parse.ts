// Turns observe.sh's sections into a MachineState, plus what must stay private (the config text, the token).
import { randomBytes } from 'node:crypto';
import JSON5 from 'json5';
import { sha256 } from '../model/hash.js';
import { registerSecret } from '../output/redact.js';
import { editedOutsideOwnedKeys } from './owned-keys.js';
import type { ConfigKind, MachineState, RecordedConfig, ServiceManager } from './types.js';

export const newMarker = () => `@@peer-provision-${randomBytes(6).toString('hex')}`;

export interface Private {
  /** The OpenClaw config as it is on the machine (may hold secrets: never printed). */
  configText?: string;
  config?: Record<string, unknown>;
  /** Per recorded config (down only): what it holds now and peer-provision's backup of the original. */
  records: Map<string, { current?: string; orig?: string }>;
  /** The gateway token now in the config (registered for redaction as soon as it is read). */
  token?: string;
  home: string;
}

export function sections(stdout: string, marker: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = stdout.split(`\n${marker} `);
  for (const part of parts.slice(1)) {
    const newline = part.indexOf('\n');
    const name = newline === -1 ? part : part.slice(0, newline);
    out.set(name.trim(), newline === -1 ? '' : part.slice(newline + 1));
  }
  return out;
}

const get = (object: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), object);

/** Someone else's edit since peer-provision's last write (applied: that write's text, when the config differs). */
function editedSince(config: Record<string, unknown> | undefined, appliedText: string | undefined): boolean | undefined {
  if (!appliedText?.trim()) return undefined;
  try {
    return config === undefined || editedOutsideOwnedKeys(config, JSON5.parse(appliedText));
  } catch {
    return true; // what peer-provision wrote cannot be read back: assume the worst, keep every change on down
  }
}

const keyValues = (text: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (text ?? '')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
  );

/** The "record ID" sections: every config peer-provision patched, with its current and original text. */
function parseRecords(s: Map<string, string>): { recorded: RecordedConfig[]; records: Private['records'] } {
  const recorded: RecordedConfig[] = [];
  const records: Private['records'] = new Map();
  for (const [name, body] of s) {
    const id = /^record ([0-9a-f]+)$/.exec(name)?.[1];
    if (!id) continue;
    const f = keyValues(body);
    const current = s.get(`record-current ${id}`) || undefined;
    const orig = s.get(`record-orig ${id}`) || undefined;
    records.set(id, { current, orig });
    let origPort: number | undefined;
    for (const text of [orig, current]) {
      try {
        const parsed = text ? JSON5.parse(text) : undefined;
        const token = get(parsed, 'gateway', 'auth', 'token');
        if (typeof token === 'string') registerSecret(token); // the original token is as secret as the current one
        const port = get(parsed, 'gateway', 'port');
        if (text === orig && typeof port === 'number') origPort = port;
      } catch {
        // not JSON5: nothing to learn from it (down then patches with OpenClaw, which reports the problem)
      }
    }
    recorded.push({
      id,
      path: f.path ?? '',
      kind: (f.kind as ConfigKind) ?? 'absent',
      absent: f.absent === '1',
      edited: f.edited === '1',
      appliedSame: f.applied_same === '1',
      origSame: f.orig_same === '1',
      origPort,
    });
  }
  return { recorded, records };
}

export function parseObservation(stdout: string, marker: string): { state: MachineState; private: Private } {
  const s = sections(stdout, marker);
  // Never quote the output itself: it holds the config (its token, provider keys) and is not parsed yet,
  // so no secret in it is known to redaction. Say what arrived instead.
  if (!s.has('end')) {
    const seen = [...s.keys()].filter((k) => /^[a-z-]{1,32}$/.test(k));
    throw new Error(`observe script output is incomplete: ${stdout.length} bytes, sections ${seen.length ? seen.join(', ') : 'none'}, no end marker`);
  }
  const facts = keyValues(s.get('facts'));

  let status: Record<string, unknown> | undefined;
  const statusText = (s.get('tailscale-status') ?? '').trim();
  if (statusText) {
    try {
      status = JSON.parse(statusText);
    } catch {
      status = undefined; // an old or broken client: treated as not joined
    }
  }
  const ips = (get(status, 'Self', 'TailscaleIPs') as string[] | undefined) ?? [];
  const running = get(status, 'BackendState') as string | undefined;

  const configText = s.get('config') || undefined;
  let config: Record<string, unknown> | undefined;
  let configError: string | undefined;
  if (configText?.trim()) {
    try {
      config = JSON5.parse(configText);
    } catch (error) {
      configError = (error as Error).message;
    }
  }
  const { recorded, records } = parseRecords(s);
  const token = get(config, 'gateway', 'auth', 'token');
  if (typeof token === 'string') registerSecret(token);
  const allow = get(config, 'gateway', 'tools', 'allow');
  const port = get(config, 'gateway', 'port');

  const userId = get(status, 'Self', 'UserID');
  const keyExpiry = get(status, 'Self', 'KeyExpiry');
  const state: MachineState = {
    os: facts.os ?? 'unknown',
    arch: facts.arch ?? 'unknown',
    user: facts.user ?? 'unknown',
    machineId: facts.machine_id || undefined,
    sshClient: facts.ssh_client || undefined,
    root: facts.sudo === undefined ? { via: 'root' } : facts.sudo === 'ok' ? { via: 'sudo' } : { via: 'refused', reason: facts.sudo.replace(/^refused: ?/, '') || 'sudo -n failed' },
    curl: 'curl' in facts ? Boolean(facts.curl) : undefined,
    tailscale: {
      installed: Boolean(facts.tailscale),
      backendState: running,
      loggedIn: get(status, 'HaveNodeKey') === true || running === 'Running' || running === 'Starting',
      tailnet: (get(status, 'CurrentTailnet', 'Name') as string | undefined) || undefined,
      login: userId === undefined ? undefined : ((get(status, 'User', String(userId), 'LoginName') as string | undefined) || undefined),
      hostname: (get(status, 'Self', 'HostName') as string | undefined) ?? undefined,
      tags: (get(status, 'Self', 'Tags') as string[] | undefined) ?? [],
      ip: running === 'Running' ? ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) : undefined,
      // ipnstate.PeerStatus.KeyExpiry is a *time.Time with omitempty: absent when the key never expires
      keyExpiry: typeof keyExpiry === 'string' && keyExpiry ? keyExpiry : undefined,
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
      tokenHash: typeof token === 'string' ? sha256(token) : undefined,
      toolsAllow: Array.isArray(allow) ? allow.map(String) : [],
      backupExists: facts.backup === '1',
      editedSinceApplied: editedSince(config, s.get('applied')),
      serviceManager: (['systemd', 'systemd-system', 'launchd', 'supervisor'].includes(facts.service) ? facts.service : 'none') as ServiceManager,
      lingering: facts.linger === undefined ? undefined : facts.linger === 'yes',
      pid: facts.pid ? Number(facts.pid) : undefined,
      listening: (s.get('listening') ?? '')
        .split('\n')
        .map((line) => line.trim().replace(/[:.]\d+$/, '').replace(/^\[|\]$/g, ''))
        .filter(Boolean),
    },
    peerFilesHash: (s.get('peer-files') ?? '').trim() || undefined,
    recorded: recorded.length ? recorded : undefined,
  };
  return {
    state,
    private: {
      configText,
      config,
      records,
      token: typeof token === 'string' ? token : undefined,
      home: facts.home ?? '~',
    },
  };
}
