// What the commands use: plan (pure), apply (policy entries, then keys), destroy (keys, devices, policy entries).
//
// The policy is written by the tool's own API client, never by a Pulumi resource: read with its ETag, merged, written
// with If-Match. A 412 (someone changed it in between) means: read again, merge again, write again, a few times, then
// stop with a clear message. No window remains in which another edit can be lost: the API checks If-Match atomically.
//
// Converged runs change nothing. The orchestrator passes the machines that still have to join (`needKeys`); only they
// get a key. When none does and the policy already holds our entries (the merge is byte-for-byte idempotent), no
// stack is even opened. When an `up` is needed, keys of machines that have since joined are no longer declared and
// are deleted (they are single-use and spent), and `up --refresh` with recreateIfInvalid 'always' replaces a key that
// expired before its machine joined.
//
// `down` goes keys → devices → policy, each step complete before the next, so a failure part-way leaves a state the
// next `down` finishes: revocation first (it matters most and needs nothing else), the policy last (its write is the
// step a concurrent edit or a rejection can stop, and it is retried alone by the next run).

import type { Spec } from '../peer-yaml/types.js';
import { readPolicyRecord, secretsEnv, stackLocation, writePolicyRecord, type StackLocation } from './backend.js';
import type { TailscaleApi } from './devices.js';
import type { ConfigMap, StackTarget, TailnetEngine } from './engine.js';
import { TailnetError } from './errors.js';
import { PROVIDED_NOTE } from './notes.js';
import { mergePolicy, policyChanges, policyWarnings, removeOwned, tagOwnerNames, type PolicyChange } from './acl.js';
import { describeRef, resolveCredentials, resolveSecret, type TailnetCredentials } from '../peer-yaml/secrets.js';

export { TailnetError } from './errors.js';
export { mergePolicy, removeOwned, ownedEntries, policyChanges, type PolicyChange } from './acl.js';
export { createPulumiEngine, checkPulumiCli, defaultEngine, useEngine, type TailnetEngine } from './engine.js';
export { tailscaleDeviceClient, tailscaleApi, createTailscaleApi, type DeviceClientFactory, type ApiFactory } from './devices.js';
export { resolveSecret } from '../peer-yaml/secrets.js';
export { readPolicyRecord, stackLocation } from './backend.js';

export { PROVIDED_NOTE } from './notes.js';

export interface TailnetAction {
  /** 'note' is information, not a change. */
  kind: 'key' | 'policy' | 'note';
  summary: string;
  machine?: string;
  change?: PolicyChange;
  /** A policy action computed without the current policy (offline): the real change is unknown until read. */
  unknown?: boolean;
}
export const isTailnetChange = (a: TailnetAction) => a.kind !== 'note';

/** Registers a secret value with the output redaction (required: forgetting it must not compile). */
type Redact = (secret: string) => void;

export const ALLOW_ALL_FIX =
  'Narrow or remove that rule in the policy file (admin console, Access controls) so that it no longer reaches every ' +
  'port of every device, or set tailnet.acl: skip and manage the policy yourself. New tailnets ship such a rule.';

/**
 * What up would do on the tailnet. Pure. `joined`: machines already in the tailnet with the right tags.
 * `policyText`: the current policy when it could be read; without it the policy change is "unknown until read".
 * `ours`: the tagOwners entries this stack recorded as added (see backend.ts).
 */
export function planTailnet(spec: Spec, joined: Set<string>, policyText?: string, ours?: ReadonlySet<string>, rekey: ReadonlySet<string> = new Set()): TailnetAction[] {
  const t = spec.tailnet;
  // rekey: joined machines that get a fresh key (rotate, provider pulumi only: a provided key is the user's to renew)
  const renew = (name: string) => t.provider === 'pulumi' && joined.has(name) && rekey.has(name);
  const pending = spec.machines.filter((m) => !joined.has(m.name) || renew(m.name));
  if (t.provider === 'provided') {
    return [
      ...pending.map((m): TailnetAction => ({
        kind: 'key',
        machine: m.name,
        summary: `${m.name}: join with the provided auth key (${m.tailscale.authKey ? describeRef(m.tailscale.authKey) : 'none given'})`,
      })),
      { kind: 'note', summary: PROVIDED_NOTE },
    ];
  }
  const actions: TailnetAction[] = pending.map((m) => ({
    kind: 'key',
    machine: m.name,
    summary: `${m.name}: mint a single-use, preauthorized auth key${renew(m.name) ? ' to re-key its node' : ''} (tags ${m.tags.join(', ')}; expires in ${t.keys.expirySeconds}s${t.keys.ephemeral ? '; ephemeral' : ''})`,
  }));
  if (t.acl === 'skip') return [...actions, { kind: 'note', summary: 'policy: untouched (tailnet.acl: skip)' }];
  if (policyText === undefined) {
    const ensured = policyChanges(undefined, spec);
    return [...actions, { kind: 'policy', unknown: true, summary: `policy: unknown until read; this stack ensures ${ensured.length} entries (${ensured.map((c) => c.section).filter((s, i, a) => a.indexOf(s) === i).join(', ')})` }];
  }
  const opts = { ours: ours ?? new Set<string>(), testsFor: joined };
  for (const c of policyChanges(policyText, spec, opts)) actions.push({ kind: 'policy', change: c, summary: `policy ${c.op} ${c.section}: ${c.summary}` });
  for (const w of policyWarnings(policyText))
    actions.push({ kind: 'note', summary: `policy warning: ${w}. up will refuse: with it every device reaches every gateway port and this stack's policy tests (port 22 denied between peers) fail. Fix: ${ALLOW_ALL_FIX}` });
  if (pending.some((m) => !joined.has(m.name)) && joined.size < spec.machines.length)
    actions.push({ kind: 'note', summary: 'policy tests are written for machines that have joined: the first up after they join adds them' });
  return actions;
}

/**
 * Environment for the tailscale provider plugin: the credentials in peer.yaml, and every other credential variable
 * terraform-provider-tailscale reads blanked (an empty value counts as unset there: schema.MultiEnvDefaultFunc), so
 * one left in a CI shell cannot make the provider fail with "credentials are conflicting".
 */
export const PROVIDER_CREDENTIAL_VARS = [
  'TAILSCALE_API_KEY',
  'TAILSCALE_OAUTH_CLIENT_ID',
  'TAILSCALE_OAUTH_CLIENT_SECRET',
  'OAUTH_CLIENT_ID',
  'OAUTH_CLIENT_SECRET',
  'TAILSCALE_IDENTITY_TOKEN',
  'IDENTITY_TOKEN',
  'TAILSCALE_AUDIENCE',
] as const;

export function providerEnv(creds: TailnetCredentials): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(PROVIDER_CREDENTIAL_VARS.map((v) => [v, '']));
  if (creds.kind === 'oauth') Object.assign(env, { TAILSCALE_OAUTH_CLIENT_ID: creds.clientId, TAILSCALE_OAUTH_CLIENT_SECRET: creds.clientSecret });
  else env.TAILSCALE_API_KEY = creds.apiKey;
  return env;
}

/** Plain stack config: only the tailnet name. */
export const stackConfig = (spec: Spec): ConfigMap => ({ 'tailscale:tailnet': { value: spec.tailnet.tailnet, secret: false } });

async function target(loc: StackLocation, creds: TailnetCredentials, create: boolean, redact: Redact): Promise<StackTarget> {
  const s = await secretsEnv(loc, create, redact);
  return { location: loc, env: { ...s.env, ...providerEnv(creds) }, secretsProvider: s.secretsProvider };
}

export type ApiFor = (creds: TailnetCredentials, tailnet: string) => TailscaleApi;

const POLICY_ATTEMPTS = 3;

/** An API refusal of a policy write, with what it means for this stack. */
function explainPolicyError(e: unknown): never {
  if (!(e instanceof TailnetError)) throw e;
  const m = e.message;
  if (/test/i.test(m))
    throw new TailnetError(`${m}\nTailscale ran the policy's tests and one failed: most often a rule that lets every device reach every port (new tailnets ship one).`, ALLOW_ALL_FIX);
  if (/tag not found|invalid or not permitted/i.test(m))
    throw new TailnetError(m, 'A tag is named but not defined in tagOwners, or the credentials may not use it: see docs/tailnet.md, "First run".');
  throw e;
}

/**
 * Reads the policy with its ETag, lets `edit` compute the new text, writes it with If-Match. A 412 starts over (the
 * other writer's version is read and edited in turn). Returns the texts before and after, or undefined when `edit`
 * changed nothing.
 */
async function editPolicy(api: TailscaleApi, edit: (text: string) => string, check: (before: string, after: string) => void = () => {}): Promise<{ before: string; after: string } | undefined> {
  for (let attempt = 1; attempt <= POLICY_ATTEMPTS; attempt++) {
    const { text, etag } = await api.getPolicy();
    const next = edit(text);
    if (next === text) return undefined;
    check(text, next);
    const r = await api.setPolicy(next, etag).catch(explainPolicyError);
    if (r.result === 'written') return { before: text, after: next };
  }
  throw new TailnetError(
    `the tailnet policy changed while peer-provision was writing it, ${POLICY_ATTEMPTS} times in a row (412 Precondition Failed): nothing of anyone else's edit was overwritten`,
    'Run again once nobody else is editing the policy (admin console, GitOps, another stack).',
  );
}

/**
 * Auth keys for the machines in needKeys, by machine name; secrets in memory only, each passed to `redact`. `rekeyed`:
 * those of them already on the tailnet (a re-key: a fresh key, and their policy tests stay).
 * Order: preflight (CLI, plugin, credentials, passphrase), then the policy (our tags must be in tagOwners before a key
 * can carry them), then the keys. provider: provided resolves each machine's authKey ref and touches nothing else.
 */
export async function applyTailnet(spec: Spec, needKeys: string[], engine: TailnetEngine, apiFor: ApiFor, redact: Redact, rekeyed: string[] = []): Promise<Map<string, string>> {
  for (const n of needKeys) if (!spec.machines.some((m) => m.name === n)) throw new TailnetError(`no machine named ${n} in the spec`);
  const keys = new Map<string, string>();
  if (spec.tailnet.provider === 'provided') {
    for (const n of needKeys) {
      const m = spec.machines.find((x) => x.name === n)!;
      if (!m.tailscale.authKey) throw new TailnetError(`machines.${n}.tailscale.authKey: required with tailnet.provider: provided`);
      const key = resolveSecret(m.tailscale.authKey, `machines.${n}.tailscale.authKey`);
      redact(key);
      keys.set(n, key);
    }
    return keys;
  }

  await engine.checkCli(); // before anything is touched
  const creds = resolveCredentials(spec.tailnet, redact);
  const loc = stackLocation(spec);
  let t: StackTarget | undefined;
  if (needKeys.length > 0) {
    const exists = await engine.stackExists({ location: loc, env: {} }); // listing stacks needs no secrets
    t = await target(loc, creds, !exists, redact); // a passphrase is generated only for a new stack
  }

  if (spec.tailnet.acl === 'merge') {
    const ours = await readPolicyRecord(loc);
    // tests for the machines on the tailnet: those that need no key, and those re-keyed (they are on it already)
    const testsFor = new Set(spec.machines.map((m) => m.name).filter((n) => !needKeys.includes(n) || rekeyed.includes(n)));
    const written = await editPolicy(
      apiFor(creds, spec.tailnet.tailnet),
      (text) => mergePolicy(text, spec, { ours, testsFor }),
      (_before, after) => {
        const warnings = policyWarnings(after);
        if (warnings.length > 0)
          throw new TailnetError(
            `the tailnet policy lets every device reach every port, so this stack's policy tests (port 22 denied between peers) would fail:\n  ${warnings.join('\n  ')}`,
            ALLOW_ALL_FIX,
          );
      },
    );
    if (written) {
      // ours: what we had added before and is still there, plus what this write added
      const before = tagOwnerNames(written.before);
      const after = tagOwnerNames(written.after);
      const record = new Set([...ours, ...after].filter((tag) => after.has(tag) && (ours.has(tag) || !before.has(tag))));
      if (record.size !== ours.size || [...record].some((tag) => !ours.has(tag))) await writePolicyRecord(loc, record);
    }
  }
  if (!t) return keys; // nobody to join: no stack opened, no up

  const { tailnetProgram } = await import('./program.js');
  const stack = await engine.createOrSelectStack({ ...t, program: tailnetProgram(spec, { needKeys }) });
  await stack.setAllConfig(stackConfig(spec));
  await stack.up({ refresh: true });
  const outputs = await stack.outputs();
  const minted = (outputs.keys?.value ?? {}) as Record<string, unknown>;
  for (const n of needKeys) {
    const key = minted[n];
    if (typeof key !== 'string' || !key) throw new TailnetError(`pulumi up returned no auth key for ${n}`);
    redact(key);
    keys.set(n, key);
  }
  return keys;
}

/**
 * Everything `down` needs, checked before any machine is touched: the Pulumi CLI and plugin, the credentials, and,
 * when the stack exists, its passphrase (never generated here). Returns whether the stack exists.
 */
export async function preflightDestroy(spec: Spec, engine: TailnetEngine, redact: Redact): Promise<{ stackExists: boolean }> {
  if (spec.tailnet.provider === 'provided') return { stackExists: false };
  await engine.checkCli();
  const creds = resolveCredentials(spec.tailnet, redact);
  const loc = stackLocation(spec);
  const exists = await engine.stackExists({ location: loc, env: {} });
  if (exists) await target(loc, creds, false, redact);
  return { stackExists: exists };
}

/**
 * Removes what up put on the tailnet, in an order a failure part-way can be finished from: the stack's keys (by
 * destroying the stack: the provider deletes each key), this stack's devices (by the stack tag), then its policy
 * entries (If-Match). Succeeds with nothingToDo when there is none of these.
 */
export async function destroyTailnet(spec: Spec, engine: TailnetEngine, apiFor: ApiFor, redact: Redact): Promise<{ nothingToDo: boolean; messages: string[] }> {
  if (spec.tailnet.provider === 'provided') return { nothingToDo: true, messages: [PROVIDED_NOTE] };
  const { stackExists: exists } = await preflightDestroy(spec, engine, redact);
  const creds = resolveCredentials(spec.tailnet, redact);
  const loc = stackLocation(spec);
  const messages: string[] = [];

  // 1. Keys. With acl: skip this is the only revocation, so it comes first and needs nothing else to succeed.
  if (exists) {
    const t = await target(loc, creds, false, redact);
    const { tailnetProgram } = await import('./program.js');
    const stack = await engine.createOrSelectStack({ ...t, program: tailnetProgram(spec, { needKeys: [] }) });
    await stack.setAllConfig(stackConfig(spec));
    await stack.destroy();
    await engine.removeStack(t);
    messages.push(`destroyed stack ${spec.name}: its auth keys are revoked`);
  }

  // 2. Devices that joined with this stack's keys: a revoked key does not remove a device.
  const api = apiFor(creds, spec.tailnet.tailnet);
  const ours = (await api.listDevices()).filter((d) => d.tags.includes(spec.tailnet.stackTag));
  for (const d of ours) {
    const r = await api.deleteDevice(d.id);
    messages.push(r === 'deleted' ? `removed device ${d.hostname || d.id} from the tailnet` : `device ${d.hostname || d.id} was already gone`);
  }

  // 3. Policy entries: ours only; a tagOwners entry the user wrote, or that something else still names, stays.
  let policyChanged = false;
  if (spec.tailnet.acl === 'merge') {
    const record = await readPolicyRecord(loc);
    const written = await editPolicy(api, (text) => removeOwned(text, spec, { ours: record }));
    const now = written ? tagOwnerNames(written.after) : undefined;
    if (written) {
      policyChanged = true;
      messages.push("removed this stack's entries from the tailnet policy");
    }
    const kept = [...record].filter((tag) => (now ? now.has(tag) : true));
    if (now && kept.length > 0) messages.push(`kept tagOwners ${kept.join(', ')}: still named elsewhere in the policy`);
    await writePolicyRecord(loc, new Set(now ? kept : record));
  }
  const nothingToDo = !exists && !policyChanged && ours.length === 0;
  if (nothingToDo)
    messages.push(`nothing to do: no stack ${spec.name}, no devices tagged ${spec.tailnet.stackTag}${spec.tailnet.acl === 'merge' ? ', no policy entries of this stack' : ''}`);
  return { nothingToDo, messages };
}
