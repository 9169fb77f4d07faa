// Turns observe.sh's sections into a MachineState, plus what must stay private (the config text, the token).
import { createHash, randomBytes } from 'node:crypto';
import JSON5 from 'json5';
import { registerSecret } from '../output/redact.js';
import type { MachineState, ServiceManager } from './types.js';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const newMarker = () => `@@peer-provision-${randomBytes(6).toString('hex')}`;

export interface Private {
  /** The OpenClaw config as it is on the machine (may hold secrets: never printed). */
  configText?: string;
  config?: Record<string, unknown>;
  /** peer-provision's backup of the user's original config (only when asked for, for down). */
  backupText?: string;
  /** The gateway token now in the config (registered for redaction as soon as it is read). */
  token?: string;
  appliedSame: boolean;
  backupAbsent: boolean;
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

export function parseObservation(stdout: string, marker: string): { state: MachineState; private: Private } {
  const s = sections(stdout, marker);
  if (!s.has('end')) throw new Error(`observe script output is incomplete:\n${stdout.slice(-500)}`);
  const facts = Object.fromEntries(
    (s.get('facts') ?? '')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
  );

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
  const token = get(config, 'gateway', 'auth', 'token');
  if (typeof token === 'string') registerSecret(token);
  const allow = get(config, 'gateway', 'tools', 'allow');
  const port = get(config, 'gateway', 'port');

  const state: MachineState = {
    os: facts.os ?? 'unknown',
    arch: facts.arch ?? 'unknown',
    user: facts.user ?? 'unknown',
    tailscale: {
      installed: Boolean(facts.tailscale),
      backendState: running,
      hostname: (get(status, 'Self', 'HostName') as string | undefined) ?? undefined,
      tags: (get(status, 'Self', 'Tags') as string[] | undefined) ?? [],
      ip: running === 'Running' ? ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) : undefined,
    },
    gateway: {
      installed: Boolean(facts.openclaw),
      configPath: facts.config || undefined,
      configExists: facts.config_exists === '1',
      configError,
      mode: get(config, 'gateway', 'mode') as string | undefined,
      bind: get(config, 'gateway', 'bind') as string | undefined,
      port: typeof port === 'number' ? port : undefined,
      authMode: get(config, 'gateway', 'auth', 'mode') as string | undefined,
      tokenHash: typeof token === 'string' ? sha256(token) : undefined,
      toolsAllow: Array.isArray(allow) ? allow.map(String) : [],
      backupExists: facts.backup === '1',
      serviceManager: (['systemd', 'launchd', 'supervisor'].includes(facts.service) ? facts.service : 'none') as ServiceManager,
      pid: facts.pid ? Number(facts.pid) : undefined,
      listening: (s.get('listening') ?? '')
        .split('\n')
        .map((line) => line.trim().replace(/[:.]\d+$/, '').replace(/^\[|\]$/g, ''))
        .filter(Boolean),
    },
    peerFilesHash: (s.get('peer-files') ?? '').trim() || undefined,
  };
  return {
    state,
    private: {
      configText,
      config,
      backupText: s.get('backup') || undefined,
      token: typeof token === 'string' ? token : undefined,
      appliedSame: facts.applied_same === '1',
      backupAbsent: facts.backup_absent === '1',
      home: facts.home ?? '~',
    },
  };
}
