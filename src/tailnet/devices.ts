// The tool's own Tailscale API client, for what Pulumi has no safe resource for: list and delete devices, read the
// policy file with its ETag and write it back with If-Match. Global fetch, base URL from TAILSCALE_BASE_URL (the
// variable terraform-provider-tailscale's `base_url` also defaults to, tailscale/provider.go), so the provider and
// this client always talk to the same API. Tests point it at the API double on 127.0.0.1.
//
// Retries, with exponential backoff, only where a second request cannot do twice what the first may have done:
// - 429 always (Retry-After honoured). Tailscale documents a 429 only as "Too Many Requests" with a {"message"} body
//   (its OpenAPI spec, components/responses/429; no Retry-After promised, no retry in tailscale-client-go-v2 or the
//   provider). Nothing there says more, so it is taken for what RFC 6585 section 4 defines: a refusal for the rate,
//   answered instead of carrying the request out; even a POST that creates may be sent again.
// - A connection that was never made (refused, no DNS answer, no route, connect timeout): nothing was sent.
// - 5xx and a connection lost after sending only for requests that may be repeated: GET, HEAD, PUT, DELETE, OPTIONS
//   (idempotent, RFC 9110 9.2.2), a write with If-Match (the policy POST: a repeat of a write that landed answers
//   412, which the caller handles as a conflict, never as a second write), and the OAuth token exchange (a second
//   access token creates nothing in the tailnet and expires within the hour). A POST that creates (an auth key,
//   POST /api/v2/tailnet/{t}/keys) may have been carried out; sent again it would create a second.

import type { TailnetCredentials } from '../peer-yaml/secrets.js';
import { TailnetError } from './errors.js';

export const DEFAULT_API_BASE_URL = 'https://api.tailscale.com';

/**
 * A device as the API lists it. It is addressed by `nodeId`, the stable node ID the API docs call "the preferred
 * identifier for a device"; the numeric `id` is the legacy identifier ("Use NodeId instead", tailscale-client-go-v2
 * devices.go). The API takes either in /device/{deviceId}.
 */
export interface Device {
  nodeId: string;
  /** The legacy numeric id, when listed: for messages only, never to address the device. */
  id?: string;
  hostname: string;
  name?: string;
  tags: string[];
}

export interface DeviceClient {
  listDevices(): Promise<Device[]>;
  /** By node ID. 'absent' when the API answers 404 (already gone). */
  deleteDevice(nodeId: string): Promise<'deleted' | 'absent'>;
}

/** The policy file as stored (HuJSON, comments and formatting kept) and the ETag of that version. */
export interface PolicyFile {
  text: string;
  etag: string;
}

export interface TailscaleApi extends DeviceClient {
  getPolicy(): Promise<PolicyFile>;
  /**
   * Writes the policy only if it is still the version `etag` names (If-Match). 'conflict': someone changed it since
   * it was read (412). Any other refusal (invalid policy, failed tests) is a TailnetError with Tailscale's message.
   */
  setPolicy(text: string, etag: string): Promise<{ result: 'written'; etag: string } | { result: 'conflict' }>;
}

export interface ApiOptions {
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Attempts per request (first try included) for 429/5xx/network errors. */
  attempts?: number;
  /** First backoff delay; doubles per attempt. Retry-After, when given, wins (capped at maxDelayMs). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type DeviceClientFactory = (creds: TailnetCredentials, tailnet: string) => DeviceClient;

export const apiBaseUrl = (explicit?: string, env: NodeJS.ProcessEnv = process.env) =>
  (explicit ?? (env.TAILSCALE_BASE_URL || DEFAULT_API_BASE_URL)).replace(/\/+$/, '');

/** Retry-After is seconds or an HTTP date (RFC 9110 10.2.3). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A refusal by the Tailscale API, with its status and the API's own `message`, so a caller can tell one refusal from
 * another by what the API said it was, never by searching the text (which quotes tags and users of the policy).
 */
export class TailscaleApiError extends TailnetError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly status: number,
    readonly apiMessage: string | undefined,
  ) {
    super(message, hint);
  }
}

/**
 * The message Tailscale answers a policy write with when the policy's own tests fail (400, with the failures per test
 * source in `data`: tailscale/tailscale api.md "Failed test error response", client/tailscale/acl.go ACLTestError).
 */
export const TESTS_FAILED_MESSAGE = 'test(s) failed';

/**
 * Tailscale's error body is {"message": "...", "data": [{"user", "errors"}]} (tailscale-client-go-v2 APIError); the
 * detail falls back to the raw text.
 */
async function errorDetail(res: Response): Promise<{ detail: string; message?: string }> {
  const text = (await res.text().catch(() => '')).slice(0, 2000);
  try {
    const body = JSON.parse(text) as { message?: string; data?: { user?: string; errors?: string[] }[] };
    const extra = (body.data ?? []).flatMap((d) => (d.errors ?? []).map((e) => (d.user ? `${d.user}: ${e}` : e)));
    if (typeof body.message === 'string' && body.message) return { detail: [body.message, ...extra].join('; ').slice(0, 600), message: body.message };
  } catch {
    /* not JSON */
  }
  return { detail: text.slice(0, 300) };
}

export interface CallOptions {
  body?: URLSearchParams | string;
  auth?: boolean;
  accept?: string;
  headers?: Record<string, string>;
  /** Statuses handed back to the caller instead of thrown. */
  pass?: number[];
  /** May be sent again after it may have reached the server (see the top of this file). Default: by method and If-Match. */
  repeatable?: boolean;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Error codes of a connection that was never made: the request cannot have reached the server. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The codes of a fetch failure: fetch's TypeError carries the socket's error as `cause` (an AggregateError's `errors`). */
function errorCodes(e: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof e !== 'object' || e === null || depth > 4) return out;
  const { code, cause, errors } = e as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') out.push(code);
  errorCodes(cause, out, depth + 1);
  if (Array.isArray(errors)) for (const x of errors) errorCodes(x, out, depth + 1);
  return out;
}

/** Whether a fetch failed before the request could be sent (every code found says no connection was made). */
export function neverSent(e: unknown): boolean {
  const codes = errorCodes(e);
  return codes.length > 0 && codes.every((c) => NOT_CONNECTED.has(c));
}

const causeOf = (e: Error) => {
  const m = (e.cause as Error | undefined)?.message;
  return m && m !== e.message ? `${e.message} (${m})` : e.message;
};

/** One authenticated request to the API (path from the base URL, e.g. /api/v2/tailnet/-/devices), retried as above. */
export type ApiRequest = (method: string, path: string, o?: CallOptions) => Promise<Response>;

/** The request core every call of the client goes through: the bearer token (OAuth exchange once), retries, errors. */
export function createApiRequester(creds: TailnetCredentials, opts: ApiOptions = {}): ApiRequest {
  const base = apiBaseUrl(opts.baseUrl);
  const doFetch = opts.fetch ?? globalThis.fetch;
  const attempts = opts.attempts ?? 5;
  const baseDelay = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const sleep = opts.sleep ?? defaultSleep;
  let token: Promise<string> | undefined;

  async function accessToken(): Promise<string> {
    if (creds.kind === 'apiKey') return creds.apiKey;
    token ??= (async () => {
      // OAuth client-credentials exchange; the secret goes in the body, never in a URL.
      const res = await call('POST', '/api/v2/oauth/token', {
        body: new URLSearchParams({ client_id: creds.clientId, client_secret: creds.clientSecret, grant_type: 'client_credentials' }),
        auth: false,
        repeatable: true,
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new TailnetError('Tailscale OAuth token exchange returned no access token');
      return body.access_token;
    })();
    token.catch(() => (token = undefined));
    return token;
  }

  async function call(method: string, path: string, o: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: o.accept ?? 'application/json', ...o.headers };
    if (o.auth !== false) headers.Authorization = `Bearer ${await accessToken()}`;
    const repeatable = o.repeatable ?? (IDEMPOTENT_METHODS.has(method) || Object.keys(headers).some((h) => h.toLowerCase() === 'if-match'));
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined;
      let netError: Error | undefined;
      try {
        res = await doFetch(`${base}${path}`, { method, headers, body: o.body });
      } catch (e) {
        netError = e as Error;
      }
      const retryable = netError ? repeatable || neverSent(netError) : res!.status === 429 || (res!.status >= 500 && repeatable);
      if (retryable && attempt < attempts) {
        const backoff = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
        const wait = res?.status === 429 ? Math.min(maxDelay, retryAfterMs(res.headers.get('retry-after')) ?? backoff) : backoff;
        await res?.body?.cancel().catch(() => undefined);
        await sleep(wait);
        continue;
      }
      if (netError && !repeatable && !neverSent(netError))
        throw new TailnetError(
          `Tailscale API ${method} ${path}: the connection failed once the request may have been sent, so it may have been carried out: ${causeOf(netError)}`,
          'It was not sent again: it creates something, and a second request would create a second. Check the admin console before running again.',
        );
      if (netError) throw new TailnetError(`Tailscale API unreachable (${method} ${path}) after ${attempt} attempts: ${causeOf(netError)}`);
      if (res!.ok || o.pass?.includes(res!.status)) return res!;
      // The body of an error is Tailscale's message; it never echoes our credentials.
      const { detail, message } = await errorDetail(res!);
      const hint =
        res!.status === 401 || res!.status === 403
          ? 'Check the credentials and their scopes: an OAuth client needs auth_keys, devices:core and policy_file (see docs/tailnet.md).'
          : res!.status === 429
            ? `Tailscale kept rate-limiting after ${attempt} attempts; wait a minute and run again.`
            : res!.status >= 500 && !repeatable
              ? 'It was not sent again: it creates something, and a server error does not say it was not carried out. ' +
                'Check the admin console before running again.'
              : undefined;
      throw new TailscaleApiError(
        `Tailscale API ${method} ${path} failed: ${res!.status} ${res!.statusText}${detail ? `: ${detail}` : ''}`,
        hint,
        res!.status,
        message,
      );
    }
  }
  return call;
}

export function createTailscaleApi(creds: TailnetCredentials, tailnet: string, opts: ApiOptions = {}): TailscaleApi {
  const call = createApiRequester(creds, opts);
  const tn = encodeURIComponent(tailnet);
  return {
    async listDevices() {
      const res = await call('GET', `/api/v2/tailnet/${tn}/devices`);
      const body = (await res.json()) as { devices?: Partial<Device>[] };
      return (body.devices ?? []).map((d) => ({
        // a server that lists no node ID (none known) still takes the legacy id in /device/{deviceId}
        nodeId: String(d.nodeId ?? d.id),
        ...(d.id !== undefined ? { id: String(d.id) } : {}),
        hostname: d.hostname ?? '',
        name: d.name,
        tags: d.tags ?? [],
      }));
    },
    async deleteDevice(nodeId) {
      const res = await call('DELETE', `/api/v2/device/${encodeURIComponent(nodeId)}`, { pass: [404] });
      await res.body?.cancel().catch(() => undefined);
      return res.status === 404 ? 'absent' : 'deleted';
    },
    async getPolicy() {
      // Accept: application/hujson returns the file as stored; the ETag names this version (tailscale-client-go-v2
      // PolicyFileResource.Raw).
      const res = await call('GET', `/api/v2/tailnet/${tn}/acl`, { accept: 'application/hujson' });
      const etag = res.headers.get('etag') ?? '';
      return { text: await res.text(), etag };
    },
    async setPolicy(text, etag) {
      if (!etag) throw new TailnetError('the tailnet policy was read without an ETag: refusing to write it without If-Match');
      // If-Match with the quoted ETag, as tailscale-client-go-v2 PolicyFileResource.Set sends it.
      const res = await call('POST', `/api/v2/tailnet/${tn}/acl`, {
        body: text,
        headers: { 'Content-Type': 'application/hujson', 'If-Match': `"${etag.replace(/^"|"$/g, '')}"` },
        pass: [412],
      });
      if (res.status === 412) {
        await res.body?.cancel().catch(() => undefined);
        return { result: 'conflict' };
      }
      await res.body?.cancel().catch(() => undefined);
      return { result: 'written', etag: res.headers.get('etag') ?? '' };
    },
  };
}

export type ApiFactory = (creds: TailnetCredentials, tailnet: string) => TailscaleApi;

/** The default ApiFactory: the real API (TAILSCALE_BASE_URL or api.tailscale.com). */
export const tailscaleApi =
  (opts: ApiOptions = {}): ApiFactory =>
  (creds, tailnet) =>
    createTailscaleApi(creds, tailnet, opts);
/** Kept for callers that only need devices. */
export const tailscaleDeviceClient = tailscaleApi;
