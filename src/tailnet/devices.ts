// A narrow client for the few Tailscale API calls Pulumi has no resource for: list and delete devices, read the
// policy as HuJSON. Global fetch, configurable base URL (tests point it at a fake server on 127.0.0.1).

import type { TailnetCredentials } from '../spec/secrets.js';
import { TailnetError } from './errors.js';

export const DEFAULT_API_BASE_URL = 'https://api.tailscale.com';

export interface Device {
  id: string;
  nodeId?: string;
  hostname: string;
  name?: string;
  tags: string[];
}

export interface DeviceClient {
  listDevices(): Promise<Device[]>;
  /** 'absent' when the API answers 404 (already gone). */
  deleteDevice(id: string): Promise<'deleted' | 'absent'>;
}

export interface TailscaleApi extends DeviceClient {
  /** The current policy file as HuJSON text (comments and formatting as stored). */
  getPolicy(): Promise<string>;
}

export interface ApiOptions {
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
}

export type DeviceClientFactory = (creds: TailnetCredentials, tailnet: string) => DeviceClient;

export function createTailscaleApi(creds: TailnetCredentials, tailnet: string, opts: ApiOptions = {}): TailscaleApi {
  const base = (opts.baseUrl ?? process.env.TAILSCALE_BASE_URL ?? DEFAULT_API_BASE_URL).replace(/\/+$/, '');
  const doFetch = opts.fetch ?? globalThis.fetch;
  const tn = encodeURIComponent(tailnet);
  let token: Promise<string> | undefined;

  async function accessToken(): Promise<string> {
    if (creds.kind === 'apiKey') return creds.apiKey;
    token ??= (async () => {
      // OAuth client-credentials exchange; the secret goes in the body, never in a URL.
      const res = await call('POST', '/api/v2/oauth/token', {
        body: new URLSearchParams({ client_id: creds.clientId, client_secret: creds.clientSecret, grant_type: 'client_credentials' }),
        auth: false,
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new TailnetError('Tailscale OAuth token exchange returned no access token');
      return body.access_token;
    })();
    return token;
  }

  async function call(method: string, path: string, o: { body?: URLSearchParams; auth?: boolean; accept?: string; allow404?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: o.accept ?? 'application/json' };
    if (o.auth !== false) headers.Authorization = `Bearer ${await accessToken()}`;
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { method, headers, body: o.body });
    } catch (e) {
      throw new TailnetError(`Tailscale API unreachable (${method} ${path}): ${(e as Error).message}`);
    }
    if (res.ok || (o.allow404 && res.status === 404)) return res;
    // The body of an error is Tailscale's message; it never echoes our credentials.
    const detail = (await res.text().catch(() => '')).slice(0, 300);
    const hint =
      res.status === 401 || res.status === 403
        ? 'Check the credentials and their scopes: an OAuth client needs auth_keys, devices:core and policy_file.'
        : undefined;
    throw new TailnetError(`Tailscale API ${method} ${path} failed: ${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}`, hint);
  }

  return {
    async listDevices() {
      const res = await call('GET', `/api/v2/tailnet/${tn}/devices`);
      const body = (await res.json()) as { devices?: Partial<Device>[] };
      return (body.devices ?? []).map((d) => ({ id: String(d.id ?? d.nodeId), nodeId: d.nodeId, hostname: d.hostname ?? '', name: d.name, tags: d.tags ?? [] }));
    },
    async deleteDevice(id) {
      const res = await call('DELETE', `/api/v2/device/${encodeURIComponent(id)}`, { allow404: true });
      return res.status === 404 ? 'absent' : 'deleted';
    },
    async getPolicy() {
      const res = await call('GET', `/api/v2/tailnet/${tn}/acl`, { accept: 'application/hujson' });
      return res.text();
    },
  };
}

/** The default DeviceClientFactory: the real API (TAILSCALE_BASE_URL or api.tailscale.com). */
export const tailscaleDeviceClient =
  (opts: ApiOptions = {}): DeviceClientFactory =>
  (creds, tailnet) =>
    createTailscaleApi(creds, tailnet, opts);
