// A TEST DOUBLE of the parts of the Tailscale API v2 that peer-provision and terraform-provider-tailscale use.
// Listens on 127.0.0.1 only (or another address a test passes: only loopback or the lab's hub namespace).
//
// Behaviour, and where it comes from (never invented where a source exists; marked "assumed" where none was found):
// - OAuth client credentials: POST /api/v2/oauth/token, form client_id/client_secret/grant_type=client_credentials,
//   answers {access_token, token_type:"Bearer", expires_in:3600, scope}; tokens carry the client's scopes and tags
//   (tailscale.com/kb/1215 oauth-clients: "An API access token expires after one hour").
// - Scopes per endpoint (kb/1215): auth_keys for /keys, devices:core (GET: also devices:core:read) for devices,
//   policy_file (GET: also policy_file:read) for /acl; "all" grants every scope. An API key (tskey-api-…) has all.
//   403 message: assumed.
// - POST /tailnet/{t}/keys: body tailscale-client-go-v2 CreateKeyRequest {capabilities.devices.create{reusable,
//   ephemeral, preauthorized, tags}, expirySeconds, description}. A key minted by an OAuth client must carry tags:
//   exactly the client's own, or only tags they own (kb/1215; quoted in tailscale/github-action#110), never a mix of
//   the two, even where the client's tag owns the others (tailscale/tailscale#12402: 400 naming every tag). A tag
//   not allowed or not in tagOwners: 400 "requested tags [tag:x] are invalid or not permitted" (the API's text as
//   users report it). description longer than 50 characters: 400 (limit per the API docs; message assumed).
//   expirySeconds defaults to 90 days (provider docs for TailnetKey.expiry).
// - GET/DELETE /tailnet/{t}/keys/{id}: Key {id, created, expires, revoked, invalid, capabilities, description};
//   the secret is returned only at creation (tailscale-client-go-v2 keys.go Get: "will not return the key itself").
// - GET /tailnet/{t}/acl: Accept application/hujson returns the file as stored, else JSON; ETag header
//   (tailscale-client-go-v2 policyfile.go Raw/Get). POST with If-Match: a stale ETag → 412 (same file, Set: "If-Match
//   HTTP request header"). Validation: a tag named anywhere but not defined in tagOwners → 400 "tag not found"
//   (headscale hscontrol/policy/v2 reports undefined tags the same way; Tailscale's exact wording: issue #11);
//   `tests` are evaluated against grants and acls (the legacy names too: acls "users"/"ports" for "src"/"dst", tests
//   "user"/"allow" for "src"/"accept", tailscale client/tailscale/acl.go ACLRow/ACLTest), a failure → 400
//   {"message":"test(s) failed","data":[{"user":<src>,"errors":[…]}]} (the shape tailscale-client-go-v2 ErrorData
//   and the provider's diagnosticsError print).
//   Option testsNeedDevices: a test whose tag no device carries fails, as headscale does (Tailscale: undocumented).
// - GET /tailnet/{t}/devices {devices:[{id,nodeId,hostname,name,tags,addresses}]}; GET and DELETE /device/{deviceId}
//   (404 when unknown) take either identifier, the node ID ("the preferred identifier for a device") or the legacy
//   numeric id: "Using the device NodeID is preferred, but its numeric ID value can also be used"
//   (tailscale-client-go-v2 devices.go; terraform-provider-tailscale resolves either the same way).
// - 429 with Retry-After and 5xx can be injected for the next N requests, or for any request a test picks
//   (beforeRequest), answered before anything is done; and lost answers (the request carried out, the connection
//   closed before the reply).
//
// With `backend` (the lab's headscale, test/lab/headscale.ts) the keys it mints are real headscale pre-auth keys with the
// requested tags (`hskey-auth-…`; the machines' real tailscaled join with them), a revoke expires the headscale key,
// and devices are headscale's nodes (a delete is a real node delete). Everything else here stays Tailscale's semantics
// that headscale lacks: OAuth clients and their tag rule, scopes, ETag/If-Match, policy tests, errors in Tailscale's shape.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';

export interface OAuthClient {
  id: string;
  secret: string;
  scopes: string[];
  tags: string[];
}
export interface DoubleDevice {
  id: string;
  nodeId: string;
  hostname: string;
  tags: string[];
}
export interface Recorded {
  method: string;
  path: string;
  auth?: string;
  accept?: string;
  ifMatch?: string;
  contentType?: string;
  body: string;
  status: number;
}
interface KeyState {
  id: string;
  key: string;
  created: string;
  expires: string;
  revoked?: string;
  reusable: boolean;
  ephemeral: boolean;
  preauthorized: boolean;
  tags: string[];
  description: string;
  used: boolean;
}

/** The control server behind the double's keys and devices (the lab's headscale). */
export interface ApiBackend {
  mintKey(k: { tags: string[]; reusable: boolean; ephemeral: boolean; expirySeconds: number }): { key: string; id: string };
  revokeKey(id: string): void;
  keyUsed(id: string): boolean;
  devices(): DoubleDevice[];
  /** false: no such device. */
  deleteDevice(id: string): boolean;
}

export interface ApiDoubleOptions {
  clients?: OAuthClient[];
  apiKeys?: string[];
  policy?: string;
  /** A real control server behind the API: keys, their use and the devices are its own. */
  backend?: ApiBackend;
  /** headscale's behaviour: a policy test naming a tag that no device carries fails. */
  testsNeedDevices?: boolean;
  host?: string;
}

export interface ApiDouble {
  baseUrl: string;
  requests: Recorded[];
  devices: DoubleDevice[];
  /** Current policy text and ETag. */
  readonly policy: string;
  readonly etag: string;
  /** An edit by someone else (admin console): new text, new ETag. */
  setPolicy(text: string): void;
  keys(): KeyState[];
  /** The next `count` requests answer 429 with Retry-After `seconds` (or 503 when status is given). */
  failNext(count: number, opts?: { status?: number; retryAfter?: string }): void;
  /**
   * The next `count` requests are carried out (a key minted, a device deleted) but their answer is lost: the
   * connection closes instead, as when a network drops between a server's work and its reply.
   */
  loseNextAnswers(count: number): void;
  /** Called before a POST /acl is handled (an edit racing ours); a status returned is the answer (a failure). */
  beforePolicyWrite?: () => number | void;
  /** Called before any request is handled; a status returned is the answer, and nothing is done (a failure). */
  beforeRequest?: (method: string, path: string) => number | void;
  close(): Promise<void>;
}

const SCOPE_ALL = 'all';
const etagOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

function hujson(text: string): { value?: unknown; error?: string } {
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) return { error: `parse error at offset ${errors[0]!.offset}` };
  return { value };
}
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Every "tag:…" named in the policy (tags in "tag:x:port" targets too), except tagOwners' own keys. */
function namedTags(policy: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, skipKeys: boolean) => {
    if (typeof v === 'string') {
      const m = /^(tag:[A-Za-z0-9-]+)/.exec(v);
      if (m) out.push(m[1]!);
    } else if (Array.isArray(v)) for (const x of v) walk(x, false);
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) skipKeys ? undefined : walk(k, false), walk(x, false);
  };
  for (const [k, v] of Object.entries(policy)) walk(v, k === 'tagOwners');
  return out;
}

/**
 * Whether `src` (a tag or a user) may reach `dst` (a tag or host) on tcp `port` under the policy's grants and acls:
 * "*", the name itself, a group holding the user, autogroup:member for a user (kb/1337 policy syntax). Enough for the
 * policies the tests and the corpus use; anything else simply does not match.
 */
function allowed(policy: Record<string, any>, src: string, dst: string, port: number): boolean {
  const groups = isObj(policy.groups) ? policy.groups : {};
  const isUser = src.includes('@');
  const srcOk = (list: string[]) =>
    list.some((x) => x === '*' || x === src || (isUser && x === 'autogroup:member') || (x.startsWith('group:') && strs(groups[x]).includes(src)));
  const portIn = (spec: string) => {
    if (spec === '*') return true;
    const range = spec.split(',').some((p) => {
      const [a, b] = p.split('-').map(Number);
      return b === undefined ? a === port : a! <= port && port <= b;
    });
    return range;
  };
  for (const g of Array.isArray(policy.grants) ? policy.grants : []) {
    if (!isObj(g) || !srcOk(strs(g.src))) continue;
    if (!strs(g.dst).some((d) => d === '*' || d === dst)) continue;
    if (strs(g.ip).some((ip) => ip === '*' || portIn(ip.replace(/^tcp:/, '')))) return true;
  }
  for (const r of Array.isArray(policy.acls) ? policy.acls : []) {
    // "users" and "ports": the legacy names of "src" and "dst" (tailscale client/tailscale/acl.go ACLRow)
    if (!isObj(r) || r.action !== 'accept' || !srcOk([...strs(r.src), ...strs(r.users)])) continue;
    for (const d of [...strs(r.dst), ...strs(r.ports)]) {
      const i = d.lastIndexOf(':');
      const host = d.slice(0, i);
      if ((host === '*' || host === dst) && portIn(d.slice(i + 1))) return true;
    }
  }
  return false;
}

export async function startApiDouble(opts: ApiDoubleOptions = {}): Promise<ApiDouble> {
  const clients = opts.clients ?? [];
  const apiKeys = new Set(opts.apiKeys ?? []);
  const tokens = new Map<string, { scopes: string[]; tags: string[] }>();
  const keys = new Map<string, KeyState>();
  let policy = opts.policy ?? '{}';
  let etag = etagOf(policy);
  let failures: { count: number; status: number; retryAfter?: string } = { count: 0, status: 429 };
  let answersToLose = 0;
  const memoryDevices: DoubleDevice[] = [];

  const backend = opts.backend;
  const devices = (): DoubleDevice[] => backend?.devices() ?? memoryDevices;
  /** The device /device/{deviceId} names, by node ID or legacy id. */
  const deviceBy = (deviceId: string) => devices().find((d) => d.nodeId === deviceId || d.id === deviceId);
  /** The backend's id of each key minted through it. */
  const backendIds = new Map<string, string>();
  const usedInBackend = (k: KeyState) => (backend && backendIds.has(k.id) ? backend.keyUsed(backendIds.get(k.id)!) : k.used);

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => resolve(b));
    });

  const api: Omit<ApiDouble, 'baseUrl' | 'close'> = {
    requests: [],
    devices: memoryDevices,
    get policy() {
      return policy;
    },
    get etag() {
      return etag;
    },
    setPolicy(text: string) {
      policy = text;
      etag = etagOf(text);
    },
    keys: () => [...keys.values()],
    failNext(count, o = {}) {
      failures = { count, status: o.status ?? 429, retryAfter: o.retryAfter ?? (o.status ? undefined : '0') };
    },
    loseNextAnswers(count) {
      answersToLose = count;
    },
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    const rec: Recorded = {
      method: req.method ?? '',
      path,
      auth: req.headers.authorization,
      accept: req.headers.accept,
      ifMatch: req.headers['if-match'] as string | undefined,
      contentType: req.headers['content-type'],
      body,
      status: 0,
    };
    api.requests.push(rec);
    if (answersToLose > 0) {
      answersToLose--;
      // the work below is done; its answer never leaves
      res.writeHead = (() => res) as unknown as typeof res.writeHead;
      res.end = (() => (req.socket.destroy(), res)) as unknown as typeof res.end;
    }
    const send = (status: number, v: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      res.writeHead(status, { 'content-type': typeof v === 'string' ? 'application/hujson' : 'application/json', ...headers });
      res.end(text);
    };
    const message = (status: number, msg: string, data?: unknown) => send(status, data ? { message: msg, data } : { message: msg });

    const refused = api.beforeRequest?.(rec.method, path);
    if (typeof refused === 'number') return send(refused, { message: 'internal error' });
    if (failures.count > 0) {
      failures.count--;
      const headers: Record<string, string> = failures.status === 429 && failures.retryAfter !== undefined ? { 'retry-after': failures.retryAfter } : {};
      return send(failures.status, { message: failures.status === 429 ? 'rate limited' : 'internal error' }, headers);
    }
    if (req.method === 'POST' && path === '/api/v2/oauth/token') {
      const f = new URLSearchParams(body);
      const c = clients.find((x) => x.id === f.get('client_id') && x.secret === f.get('client_secret'));
      if (!c || f.get('grant_type') !== 'client_credentials') return message(401, 'invalid client credentials');
      const token = `tskey-api-double${randomBytes(8).toString('hex')}`;
      tokens.set(token, { scopes: c.scopes, tags: c.tags });
      return send(200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope: c.scopes.join(' ') });
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const who =
      bearer && apiKeys.has(bearer)
        ? { scopes: [SCOPE_ALL], tags: [] as string[], user: true }
        : bearer && tokens.has(bearer)
          ? { ...tokens.get(bearer)!, user: false }
          : undefined;
    if (!who) return message(401, 'API token invalid');
    const may = (...scopes: string[]) => who.scopes.includes(SCOPE_ALL) || scopes.some((s) => who.scopes.includes(s));
    const denied = () => message(403, 'calling actor does not have enough permissions to perform this function');
    let m: RegExpExecArray | null;

    // ---- keys
    if ((m = /^\/api\/v2\/tailnet\/([^/]+)\/keys$/.exec(path)) && req.method === 'POST') {
      if (!may('auth_keys')) return denied();
      let r: any;
      try {
        r = JSON.parse(body || '{}');
      } catch {
        return message(400, 'invalid JSON body');
      }
      const create = r?.capabilities?.devices?.create ?? {};
      const tags = strs(create.tags);
      const description = typeof r.description === 'string' ? r.description : '';
      if (description.length > 50) return message(400, 'description must be 50 characters or fewer');
      const pv = hujson(policy).value as Record<string, any>;
      const owners = isObj(pv?.tagOwners) ? (pv.tagOwners as Record<string, unknown>) : {};
      if (!who.user && tags.length === 0) return message(400, 'auth keys created by an OAuth client must have tags');
      const own = (t: string) => who.tags.includes(t);
      const owned = (t: string) => strs(owners[t]).some((o) => who.tags.includes(o));
      // an OAuth client's key: exactly its own tags, or only tags they own; a mix is refused (tailscale/tailscale#12402)
      const mixed = !who.user && tags.some(own) && tags.some((t) => !own(t));
      const bad = mixed ? tags : tags.filter((t) => !(t in owners) || (!who.user && !own(t) && !owned(t)));
      if (bad.length > 0) return message(400, `requested tags [${bad.join(' ')}] are invalid or not permitted`);
      const now = Date.now();
      const id = `k${randomBytes(6).toString('hex')}CNTRL`;
      const expirySeconds = Number(r.expirySeconds) || 90 * 86400;
      const minted = backend?.mintKey({ tags, reusable: Boolean(create.reusable), ephemeral: Boolean(create.ephemeral), expirySeconds });
      if (minted) backendIds.set(id, minted.id);
      const k: KeyState = {
        id,
        key: minted?.key ?? `tskey-auth-${id}-${randomBytes(12).toString('hex')}`,
        created: new Date(now).toISOString(),
        expires: new Date(now + expirySeconds * 1000).toISOString(),
        reusable: Boolean(create.reusable),
        ephemeral: Boolean(create.ephemeral),
        preauthorized: Boolean(create.preauthorized),
        tags,
        description,
        used: false,
      };
      keys.set(id, k);
      return send(200, { ...keyView(k), key: k.key });
    }
    if ((m = /^\/api\/v2\/tailnet\/([^/]+)\/keys\/([^/]+)$/.exec(path))) {
      if (!may('auth_keys', 'auth_keys:read')) return denied();
      const k = keys.get(decodeURIComponent(m[2]!));
      if (!k || (req.method === 'DELETE' && k.revoked)) return message(404, 'key not found');
      if (req.method === 'GET') return send(200, keyView(k));
      if (req.method === 'DELETE') {
        if (!may('auth_keys')) return denied();
        k.revoked = new Date().toISOString();
        if (backend && backendIds.has(k.id)) backend.revokeKey(backendIds.get(k.id)!);
        rec.status = 200;
        res.writeHead(200);
        return res.end();
      }
    }
    // ---- policy file
    if ((m = /^\/api\/v2\/tailnet\/([^/]+)\/acl$/.exec(path))) {
      if (req.method === 'GET') {
        if (!may('policy_file', 'policy_file:read')) return denied();
        if (req.headers.accept === 'application/hujson') return send(200, policy, { etag: `"${etag}"` });
        return send(200, hujson(policy).value ?? {}, { etag: `"${etag}"` });
      }
      if (req.method === 'POST') {
        if (!may('policy_file')) return denied();
        const forced = api.beforePolicyWrite?.();
        if (typeof forced === 'number') return message(forced, 'internal error');
        const ifMatch = (req.headers['if-match'] as string | undefined)?.replace(/^"|"$/g, '');
        if (ifMatch !== undefined && ifMatch !== etag) return message(412, 'precondition failed, invalid old hash');
        const parsed = hujson(body);
        if (parsed.error || !isObj(parsed.value)) return message(400, `invalid policy: ${parsed.error ?? 'not an object'}`);
        const p = parsed.value;
        const defined = new Set(Object.keys(isObj(p.tagOwners) ? p.tagOwners : {}));
        const undefinedTag = namedTags(p).find((t) => !defined.has(t));
        if (undefinedTag) return message(400, `tag not found: "${undefinedTag}"`);
        const failed = runTests(p, opts.testsNeedDevices ? new Set(devices().flatMap((d) => d.tags)) : undefined);
        if (failed.length > 0) return message(400, 'test(s) failed', failed);
        policy = body;
        etag = etagOf(body);
        return send(200, p, { etag: `"${etag}"` });
      }
    }
    // ---- devices
    if ((m = /^\/api\/v2\/tailnet\/([^/]+)\/devices$/.exec(path)) && req.method === 'GET') {
      if (!may('devices:core', 'devices:core:read')) return denied();
      return send(200, { devices: devices().map((d) => ({ ...d, name: `${d.hostname}.double.ts.net` })) });
    }
    if ((m = /^\/api\/v2\/device\/([^/]+)$/.exec(path)) && req.method === 'GET') {
      if (!may('devices:core', 'devices:core:read')) return denied();
      const d = deviceBy(decodeURIComponent(m[1]!));
      return d ? send(200, { ...d, name: `${d.hostname}.double.ts.net` }) : message(404, 'device not found');
    }
    if ((m = /^\/api\/v2\/device\/([^/]+)$/.exec(path)) && req.method === 'DELETE') {
      if (!may('devices:core')) return denied();
      const d = deviceBy(decodeURIComponent(m[1]!));
      if (!d) return message(404, 'device not found');
      if (backend) {
        if (!backend.deleteDevice(d.nodeId)) return message(404, 'device not found');
      } else {
        memoryDevices.splice(memoryDevices.indexOf(d), 1);
      }
      rec.status = 200;
      res.writeHead(200);
      return res.end();
    }
    message(404, 'not found');
  });

  function keyView(k: KeyState) {
    const expired = Date.parse(k.expires) <= Date.now();
    const used = !k.reusable && usedInBackend(k);
    return {
      id: k.id,
      keyType: 'auth',
      description: k.description,
      created: k.created,
      expires: k.expires,
      ...(k.revoked ? { revoked: k.revoked } : {}),
      invalid: Boolean(k.revoked) || expired || used,
      capabilities: { devices: { create: { reusable: k.reusable, ephemeral: k.ephemeral, preauthorized: k.preauthorized, tags: k.tags } } },
      tags: k.tags,
    };
  }

  function runTests(p: Record<string, any>, deviceTags?: Set<string>): { user: string; errors: string[] }[] {
    const out: { user: string; errors: string[] }[] = [];
    for (const raw of Array.isArray(p.tests) ? p.tests : []) {
      // "user" and "allow": the legacy names of "src" and "accept" (tailscale client/tailscale/acl.go ACLTest)
      const t = isObj(raw) ? { src: raw.src ?? raw.user, accept: [...strs(raw.accept), ...strs(raw.allow)], deny: raw.deny } : undefined;
      if (!t || typeof t.src !== 'string') continue;
      const errors: string[] = [];
      const check = (target: string, want: boolean) => {
        const i = target.lastIndexOf(':');
        const host = target.slice(0, i);
        const port = Number(target.slice(i + 1));
        if (deviceTags && (!deviceTags.has(t.src) || !deviceTags.has(host))) {
          errors.push(`${target}: no device with ${deviceTags.has(t.src) ? host : t.src}`);
          return;
        }
        const got = allowed(p, t.src, host, port);
        if (got !== want) errors.push(`address "${target}": expected ${want ? 'accept' : 'deny'}, got ${got ? 'accept' : 'deny'}`);
      };
      for (const a of strs(t.accept)) check(a, true);
      for (const d of strs(t.deny)) check(d, false);
      if (errors.length > 0) out.push({ user: t.src, errors });
    }
    return out;
  }

  await new Promise<void>((r) => server.listen(0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    baseUrl: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  }) as ApiDouble;
}
