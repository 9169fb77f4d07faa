#!/usr/bin/env node

// TEST DOUBLE of the Pulumi tailscale resource plugin (pulumi-resource-tailscale), for the lab only.
//
// The real plugin cannot be had here: its Go modules are refused by the module proxy and its release is a download.
// This one is installed under the real name and version (`pulumi plugin install resource tailscale v0.29.1 -f …`,
// see pulumi-home.ts), so the real Pulumi CLI loads it exactly where it would load the real one, and the tool's real
// engine code (Automation API, inline program, file backend, passphrase secrets) runs unchanged. It implements the one
// resource the tool declares, tailscale:index/tailnetKey:TailnetKey, with the schema of @pulumi/tailscale 0.29.1 and
// the behaviour of terraform-provider-tailscale's resource_tailnet_key.go that this version wraps:
//   - Create: POST /api/v2/tailnet/{tailnet}/keys with tailscale-client-go-v2's CreateKeyRequest
//     {capabilities.devices.create{reusable, ephemeral, preauthorized, tags}, expirySeconds, description};
//   - Read (refresh): GET …/keys/{id}; a key the API no longer has is gone from the state (it was single-use and
//     spent, or deleted); `invalid` (revoked, expired or used) is read back;
//   - Diff: every argument but recreateIfInvalid forces a new key (RequiresReplace), and an invalid key is replaced
//     when shouldRecreateIfInvalid holds ("always"; "never"; else only a reusable key): the provider's ModifyPlan;
//   - Update: only recreateIfInvalid, in the state, no API call;
//   - Delete: DELETE …/keys/{id}, a 404 ignored (single-use keys may already be gone).
// Pulumi itself decides the rest (create before delete on replace, deletes at the end, secrets in the state).
//
// Credentials as the real provider reads them from its environment (TAILSCALE_OAUTH_CLIENT_ID/_SECRET or
// TAILSCALE_API_KEY; both at once is its "credentials are conflicting" error), the base URL from TAILSCALE_BASE_URL.
// The tailnet comes from the stack config `tailscale:tailnet` as Configure passes it (else TAILSCALE_TAILNET, else
// "-"). @pulumi/pulumi's Node provider server answers Configure without handing the config to the provider, so the
// request is read on its way in (see captureConfigure). Only loopback and the lab's hub are ever called.

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { main, type Provider } from '@pulumi/pulumi/provider/index.js';
import { tailscalePluginVersion } from '../../src/tailnet/engine.js';

const TYPE = 'tailscale:index/tailnetKey:TailnetKey';
/** The TailnetKey arguments whose change forces a new key; recreateIfInvalid alone is updated in place. */
const REPLACE_ON_CHANGE = ['reusable', 'ephemeral', 'tags', 'preauthorized', 'expiry', 'description'] as const;

let configuredTailnet: string | undefined;

/** Reads `tailscale:tailnet` from the Configure request (variables "tailscale:config:tailnet", or args) before the SDK's server answers it. */
function captureConfigure(): void {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service, impl: Record<string, unknown>) {
    const configure = impl.configure as ((call: { request: ConfigureRequest }, cb: unknown) => void) | undefined;
    if (configure)
      impl.configure = (call: { request: ConfigureRequest }, cb: unknown) => {
        const vars = call.request.getVariablesMap();
        const args = call.request.getArgs()?.toJavaScript() as { tailnet?: unknown } | undefined;
        const t = vars.get('tailscale:config:tailnet') ?? (typeof args?.tailnet === 'string' ? args.tailnet : undefined);
        if (t) configuredTailnet = t;
        configure.call(impl, call, cb);
      };
    return addService.call(this, service, impl as grpc.UntypedServiceImplementation);
  };
}
interface ConfigureRequest {
  getVariablesMap(): { get(k: string): string | undefined };
  getArgs(): { toJavaScript(): unknown } | undefined;
}

type Inputs = Record<string, unknown>;
type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;

function apiClient(env: NodeJS.ProcessEnv = process.env): Call {
  const base = (env.TAILSCALE_BASE_URL || 'https://api.tailscale.com').replace(/\/+$/, '');
  if (!/^http:\/\/(127\.0\.0\.1|10\.231\.57\.1):\d+$/.test(base))
    throw new Error(`tailscale plugin (lab double): refusing API base ${base}: loopback or the lab hub only`);
  const id = env.TAILSCALE_OAUTH_CLIENT_ID || env.OAUTH_CLIENT_ID;
  const secret = env.TAILSCALE_OAUTH_CLIENT_SECRET || env.OAUTH_CLIENT_SECRET;
  const apiKey = env.TAILSCALE_API_KEY;
  if (apiKey && (id || secret)) throw new Error("credentials are conflicting - `api_key` conflicts with 'oauth_client_id' and 'oauth_client_secret'");
  if (!apiKey && !(id && secret)) throw new Error('tailscale provider: no credentials (api_key, or oauth_client_id and oauth_client_secret)');
  let token = apiKey;
  const auth = async () => {
    if (token) return token;
    const r = await fetch(`${base}/api/v2/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: id!, client_secret: secret!, grant_type: 'client_credentials' }),
    });
    if (!r.ok) throw new Error(`oauth2: cannot fetch token: ${r.status} ${await r.text()}`);
    token = ((await r.json()) as { access_token: string }).access_token;
    return token;
  };
  return async (method, path, body) => {
    const tailnet = encodeURIComponent(configuredTailnet || env.TAILSCALE_TAILNET || '-');
    const r = await fetch(`${base}/api/v2/tailnet/${tailnet}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await auth()}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
}

const apiError = (what: string, r: { status: number; body: Record<string, unknown> }) =>
  new Error(`${what}: ${String(r.body.message ?? JSON.stringify(r.body))} (${r.status})`);

/** The provider's shouldRecreateIfInvalid. */
const recreateIfInvalid = (s: Inputs) => (s.recreateIfInvalid === 'always' ? true : s.recreateIfInvalid === 'never' ? false : Boolean(s.reusable));

const sameValue = (k: string, a: unknown, b: unknown) => {
  // tags is a set in the schema: order does not count
  const norm = (v: unknown) => JSON.stringify(k === 'tags' && Array.isArray(v) ? [...v].sort() : (v ?? null));
  return norm(a) === norm(b);
};

/** The key's state from the API's view of it, over the inputs it was made with. */
function stateOf(inputs: Inputs, key: Record<string, unknown>, secret?: string): Inputs {
  return {
    ...inputs,
    ...(secret !== undefined ? { key: secret } : {}),
    createdAt: key.created,
    expiresAt: key.expires,
    invalid: Boolean(key.invalid),
    userId: (key.userId as string | undefined) ?? '',
  };
}

export function tailnetKeyProvider(call: () => Call = () => apiClient()): Provider {
  const check = (type: string) => {
    if (type !== TYPE) throw new Error(`tailscale plugin (lab double): unknown resource type ${type}: only ${TYPE} is implemented`);
  };
  const typeOf = (urn: string) => urn.split('::').at(-2) ?? '';
  return {
    version: tailscalePluginVersion(), // exactly what @pulumi/tailscale asks for
    async check(urn, _olds, news: Inputs) {
      check(typeOf(urn));
      const failures = [];
      if (typeof news.description === 'string' && news.description.length > 50)
        failures.push({ property: 'description', reason: 'description must be 50 characters or fewer' });
      for (const t of (news.tags as unknown[] | undefined) ?? [])
        if (typeof t !== 'string' || !t.startsWith('tag:')) failures.push({ property: 'tags', reason: `tag ${String(t)} must start with "tag:"` });
      const inputs = { reusable: false, ephemeral: false, preauthorized: false, description: '', ...news };
      return failures.length ? { inputs, failures } : { inputs };
    },
    async diff(_id, _urn, olds: Inputs, news: Inputs) {
      const replaces: string[] = REPLACE_ON_CHANGE.filter((k) => !sameValue(k, olds[k], news[k]));
      if (olds.invalid === true && recreateIfInvalid(news) && replaces.length === 0) replaces.push('invalid');
      const changes = replaces.length > 0 || (olds.recreateIfInvalid ?? null) !== (news.recreateIfInvalid ?? null);
      return { changes, replaces };
    },
    async create(_urn, inputs: Inputs) {
      const r = await call()('POST', '/keys', {
        capabilities: {
          devices: { create: { reusable: inputs.reusable, ephemeral: inputs.ephemeral, preauthorized: inputs.preauthorized, tags: inputs.tags ?? [] } },
        },
        expirySeconds: inputs.expiry,
        description: inputs.description,
      });
      if (r.status !== 200) throw apiError('Failed to create key', r);
      return { id: String(r.body.id), outs: stateOf(inputs, r.body, String(r.body.key)) };
    },
    async read(id, _urn, props: Inputs = {}) {
      const r = await call()('GET', `/keys/${encodeURIComponent(id)}`);
      // gone at the API (a spent single-use key, or deleted): gone from the state, so a declared key is created anew
      if (r.status === 404) return {};
      if (r.status !== 200) throw apiError('Failed to fetch key', r);
      const { key: _secret, ...rest } = props;
      const state = stateOf(rest, r.body, props.key as string | undefined);
      const inputs = Object.fromEntries(Object.entries(state).filter(([k]) => [...REPLACE_ON_CHANGE, 'recreateIfInvalid'].includes(k)));
      return { id, props: state, inputs };
    },
    async update(_id, _urn, olds: Inputs, news: Inputs) {
      return { outs: { ...olds, recreateIfInvalid: news.recreateIfInvalid } };
    },
    async delete(id) {
      const r = await call()('DELETE', `/keys/${encodeURIComponent(id)}`);
      if (r.status !== 200 && r.status !== 404) throw apiError('Failed to delete key', r);
    },
  };
}

// Run as the plugin (the CLI starts it with the engine's address); importing it for a test does nothing.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  captureConfigure();
  main(tailnetKeyProvider(), process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
