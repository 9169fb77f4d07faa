// The engine seam's TEST implementation: what the Pulumi CLI plus the tailscale provider do for our program, done
// against the Tailscale API (the API double) the way terraform-provider-tailscale does it, because neither the CLI nor
// the plugin can be installed here. Only the Pulumi part is replaced: the tool's own API client, policy merge and
// write, device removal and refusals stay the real code.
//
// - `up` runs the real inline program under Pulumi's mocks to learn the declared TailnetKey resources and their
//   inputs, then, like the provider (terraform-provider-tailscale 0.29 resource_tailnet_key.go, the version
//   @pulumi/tailscale 0.29 wraps) and the Pulumi engine:
//   - a declared key not in state is created with POST /api/v2/tailnet/{t}/keys (tailscale-client-go-v2
//     CreateKeyRequest);
//   - a key in state is replaced when an input changed that the schema marks RequiresReplace (every argument we set
//     but recreate_if_invalid, which is updated in place), and, with refresh, when GET …/keys/{id} reports it invalid
//     or 404 and shouldRecreateIfInvalid holds ("always", or a reusable key by default: ModifyPlan's RequiresReplace);
//   - a replacement is Pulumi's default create-before-delete: the new key is created and recorded, the old one stays
//     in the state marked for deletion and is deleted with the resources no longer declared, at the end
//     (step_generator GenerateDeletes), DELETE …/keys/{id} with 404 ignored (the provider's Delete). A delete that
//     fails leaves it marked, and the next update or destroy deletes it.
// - `destroy` deletes every key in state. The state is a JSON file (0600) beside the real state folder.
// - Credentials come from the stack's environment exactly as the provider reads them (TAILSCALE_OAUTH_CLIENT_ID/
//   _SECRET or TAILSCALE_API_KEY, TAILSCALE_BASE_URL), so a wrong environment fails here as it would there.

import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import type { EngineStack, StackArgs, StackTarget, TailnetEngine } from '../../src/tailnet/engine.js';
import { TailnetError } from '../../src/tailnet/errors.js';

interface KeyInState {
  id: string;
  key: string;
  inputs: Record<string, unknown>;
}
interface StackState {
  keys: Record<string, KeyInState>; // by resource name
  /** Keys replaced (or left by a failed delete) and not deleted yet: Pulumi's resources marked `delete: true`. */
  pendingDelete?: KeyInState[];
}

/** The TailnetKey arguments whose change forces a new key (RequiresReplace); recreateIfInvalid is updated in place. */
const REPLACE_ON_CHANGE = ['reusable', 'ephemeral', 'tags', 'preauthorized', 'expiry', 'description'] as const;

/** The inputs that changed and force a replacement (tags is a set in the schema: order does not count). */
function replaceReasons(before: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const norm = (k: string, v: unknown) => JSON.stringify(k === 'tags' && Array.isArray(v) ? [...v].sort() : (v ?? null));
  return REPLACE_ON_CHANGE.filter((k) => norm(k, before[k]) !== norm(k, now[k]));
}

/** The provider's shouldRecreateIfInvalid: "always", "never", else a reusable key only. */
const recreateIfInvalid = (inputs: Record<string, unknown>) =>
  inputs.recreateIfInvalid === 'always' ? true : inputs.recreateIfInvalid === 'never' ? false : Boolean(inputs.reusable);

const stateFile = (t: StackTarget) => join(t.location.stateDir, 'test-engine-stack.json');
const load = (t: StackTarget): StackState | undefined => (existsSync(stateFile(t)) ? JSON.parse(readFileSync(stateFile(t), 'utf8')) : undefined);
function save(t: StackTarget, s: StackState) {
  writeFileSync(`${stateFile(t)}.tmp`, JSON.stringify(s, null, 2), { mode: 0o600 });
  renameSync(`${stateFile(t)}.tmp`, stateFile(t));
}

/** Provider-style API access from the stack's environment. */
function providerClient(env: Record<string, string>, tailnet: string) {
  const base = (env.TAILSCALE_BASE_URL || process.env.TAILSCALE_BASE_URL || 'https://api.tailscale.com').replace(/\/+$/, '');
  if (!/^http:\/\/(127\.0\.0\.1|10\.231\.57\.1):/.test(base)) throw new Error(`test engine: refusing API base ${base} (loopback or the lab hub only)`);
  const id = env.TAILSCALE_OAUTH_CLIENT_ID;
  const secret = env.TAILSCALE_OAUTH_CLIENT_SECRET;
  const apiKey = env.TAILSCALE_API_KEY;
  if (apiKey && (id || secret))
    throw new TailnetError("tailscale provider credentials are conflicting - `api_key` conflicts with 'oauth_client_id' and 'oauth_client_secret'");
  let token: string | undefined = apiKey || undefined;
  async function auth(): Promise<string> {
    if (token) return token;
    const r = await fetch(`${base}/api/v2/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: id ?? '', client_secret: secret ?? '', grant_type: 'client_credentials' }),
    });
    if (!r.ok) throw new TailnetError(`pulumi up failed: oauth token: ${r.status} ${await r.text()}`);
    token = ((await r.json()) as { access_token: string }).access_token;
    return token;
  }
  const tn = encodeURIComponent(tailnet);
  return async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}/api/v2/tailnet/${tn}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await auth()}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.text()) || '{}' };
  };
}

/** Runs the inline program under mocks; returns the declared TailnetKey resources (name → inputs). */
async function declaredKeys(program: () => Promise<Record<string, unknown>>, stack: string): Promise<Map<string, Record<string, unknown>>> {
  const declared = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type === 'tailscale:index/tailnetKey:TailnetKey') declared.set(args.name, args.inputs);
        return { id: `${args.name}-pending`, state: { ...args.inputs, key: 'pending' } };
      },
      call: () => ({}),
    },
    'peer-provision',
    stack,
  );
  const outputs = await program();
  for (const v of Object.values(outputs)) if (pulumi.Output.isInstance(v)) await new Promise((r) => v.apply(r));
  return declared;
}

export function createApiTestEngine(): TailnetEngine {
  return {
    async checkCli() {},
    async stackExists(t) {
      return load(t) !== undefined;
    },
    async createOrSelectStack(a: StackArgs): Promise<EngineStack> {
      const tailnet = () => config['tailscale:tailnet']?.value ?? '-';
      let config: Record<string, { value: string }> = {};
      const state = (): StackState => load(a) ?? { keys: {} };
      if (!load(a)) save(a, { keys: {} });
      const deleteKey = async (api: ReturnType<typeof providerClient>, k: KeyInState) => {
        const r = await api('DELETE', `/keys/${encodeURIComponent(k.id)}`);
        if (r.status !== 200 && r.status !== 404) throw new TailnetError(`pulumi destroy failed: DELETE key ${k.id}: ${r.status} ${r.body}`);
      };
      /** Deletes the keys marked for deletion, one save each: one that fails stays marked (and the error stops the run). */
      const deletePending = async (api: ReturnType<typeof providerClient>, s: StackState) => {
        while (s.pendingDelete?.length) {
          await deleteKey(api, s.pendingDelete[0]!);
          s.pendingDelete = s.pendingDelete.slice(1);
          save(a, s);
        }
      };
      /** Whether a key in state must be replaced: an input that forces it changed, or (refresh) it is invalid and recreated. */
      const mustReplace = async (api: ReturnType<typeof providerClient>, have: KeyInState, inputs: Record<string, unknown>, refresh: boolean) => {
        if (replaceReasons(have.inputs, inputs).length > 0) return true;
        if (!refresh || !recreateIfInvalid(inputs)) return false;
        const r = await api('GET', `/keys/${encodeURIComponent(have.id)}`);
        return r.status === 404 || (r.status === 200 && Boolean(JSON.parse(r.body).invalid));
      };
      const createKey = async (api: ReturnType<typeof providerClient>, name: string, inputs: Record<string, unknown>) => {
        const r = await api('POST', '/keys', {
          capabilities: {
            devices: { create: { reusable: inputs.reusable, ephemeral: inputs.ephemeral, tags: inputs.tags, preauthorized: inputs.preauthorized } },
          },
          expirySeconds: inputs.expiry,
          description: inputs.description,
        });
        if (r.status !== 200)
          throw new TailnetError(
            `pulumi up failed:\nerror: tailscale:index/tailnetKey:TailnetKey resource '${name}': Failed to create key: ${JSON.parse(r.body).message ?? r.body} (${r.status})`,
          );
        const k = JSON.parse(r.body) as { id: string; key: string };
        return { id: k.id, key: k.key };
      };
      return {
        async setAllConfig(c) {
          config = c;
        },
        async preview() {
          return { changeSummary: {} };
        },
        async up(o) {
          const api = providerClient(a.env, tailnet());
          const declared = await declaredKeys(a.program, a.location.stackName);
          const s = state();
          const summary: Record<string, number> = {};
          const count = (op: string) => (summary[op] = (summary[op] ?? 0) + 1);
          for (const [name, inputs] of declared) {
            const have = s.keys[name];
            if (have && !(await mustReplace(api, have, inputs, o.refresh))) {
              // only recreateIfInvalid can differ here: an update of the state, no API call (the provider's Update)
              const inPlace = (have.inputs.recreateIfInvalid ?? null) !== (inputs.recreateIfInvalid ?? null);
              s.keys[name] = { ...have, inputs };
              if (inPlace) save(a, s);
              count(inPlace ? 'update' : 'same');
              continue;
            }
            s.keys[name] = { ...(await createKey(api, name, inputs)), inputs };
            // create before delete: the old key is marked for deletion in the same save that records the new one
            if (have) s.pendingDelete = [...(s.pendingDelete ?? []), have];
            save(a, s);
            count(have ? 'replace' : 'create');
          }
          // the deletes come last: keys replaced now or earlier, then keys no longer declared
          await deletePending(api, s);
          for (const [name, k] of Object.entries(s.keys)) {
            if (declared.has(name)) continue;
            await deleteKey(api, k);
            delete s.keys[name];
            save(a, s);
            count('delete');
          }
          return { changeSummary: summary };
        },
        async destroy() {
          const api = providerClient(a.env, tailnet());
          const s = state();
          const total = Object.keys(s.keys).length + (s.pendingDelete?.length ?? 0);
          await deletePending(api, s);
          for (const [name, k] of Object.entries(s.keys)) {
            await deleteKey(api, k);
            delete s.keys[name];
            save(a, s);
          }
          return { changeSummary: { delete: total } };
        },
        async outputs() {
          const keys = Object.fromEntries(Object.entries(state().keys).map(([name, k]) => [name.replace(/^key-/, ''), k.key]));
          return { keys: { value: keys, secret: true } };
        },
      };
    },
    async removeStack(t) {
      rmSync(stateFile(t), { force: true });
      rmSync(join(t.location.stateDir, 'workspace'), { recursive: true, force: true });
    },
  };
}
