// What the commands use: plan (pure), apply (keys + policy), destroy (policy entries, keys, devices).
//
// Converged runs change nothing. The orchestrator passes the machines that still have to join (`needKeys`); only they
// get a key. When none does and the policy already holds our entries (the merge is byte-for-byte idempotent, so
// "holds" is `mergePolicy(current) === current`), no stack is even opened: no `up`, so an expired or used key can
// never cause a change on a machine that is already up. When an `up` is needed, the keys of machines that have since
// joined are no longer declared and are deleted (they are single-use and spent: a device stays authorized when its key
// is revoked), and `up --refresh` with recreateIfInvalid 'always' replaces a key that expired before its machine joined.

import type { Spec } from '../spec/types.js';
import { secretsEnv, stackLocation, type StackLocation } from './backend.js';
import type { DeviceClientFactory } from './devices.js';
import type { ConfigMap, StackTarget, TailnetEngine } from './engine.js';
import { TailnetError } from './errors.js';
import { PROVIDED_NOTE } from './notes.js';
import { mergePolicy, policyChanges, policyWarnings, removeOwned, type PolicyChange } from './acl.js';
import { describeRef, resolveCredentials, resolveSecret, type TailnetCredentials } from '../spec/secrets.js';

export { TailnetError } from './errors.js';
export { mergePolicy, removeOwned, ownedEntries, policyChanges, type PolicyChange } from './acl.js';
export { createPulumiEngine, checkPulumiCli, type TailnetEngine } from './engine.js';
export { tailscaleDeviceClient, createTailscaleApi, type DeviceClientFactory } from './devices.js';
export { resolveSecret } from '../spec/secrets.js';

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

/**
 * What up would do on the tailnet. Pure. `joined`: machines already in the tailnet with the right tags.
 * `policyText`: the current policy when it could be read; without it the policy change is "unknown until read".
 */
export function planTailnet(spec: Spec, joined: Set<string>, policyText?: string): TailnetAction[] {
  const pending = spec.machines.filter((m) => !joined.has(m.name));
  const t = spec.tailnet;
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
    summary: `${m.name}: mint a single-use, preauthorized auth key (tags ${m.tags.join(', ')}; expires in ${t.keys.expirySeconds}s${t.keys.ephemeral ? '; ephemeral' : ''})`,
  }));
  if (t.acl === 'skip') return [...actions, { kind: 'note', summary: 'policy: untouched (tailnet.acl: skip)' }];
  if (policyText === undefined) {
    const ensured = policyChanges(undefined, spec);
    return [...actions, { kind: 'policy', unknown: true, summary: `policy: unknown until read; this stack ensures ${ensured.length} entries (${ensured.map((c) => c.section).filter((s, i, a) => a.indexOf(s) === i).join(', ')})` }];
  }
  for (const c of policyChanges(policyText, spec)) actions.push({ kind: 'policy', change: c, summary: `policy ${c.op} ${c.section}: ${c.summary}` });
  for (const w of policyWarnings(policyText)) actions.push({ kind: 'note', summary: `policy warning: ${w}; the stack's tests (port 22 denied) would fail` });
  return actions;
}

/** Environment for the tailscale provider plugin: the credentials never go through `pulumi config set` argv. */
export function providerEnv(creds: TailnetCredentials): Record<string, string> {
  return creds.kind === 'oauth'
    ? { TAILSCALE_OAUTH_CLIENT_ID: creds.clientId, TAILSCALE_OAUTH_CLIENT_SECRET: creds.clientSecret, TAILSCALE_API_KEY: '' }
    : { TAILSCALE_API_KEY: creds.apiKey, TAILSCALE_OAUTH_CLIENT_ID: '', TAILSCALE_OAUTH_CLIENT_SECRET: '' };
}

/** Plain stack config: only the tailnet name. */
export const stackConfig = (spec: Spec): ConfigMap => ({ 'tailscale:tailnet': { value: spec.tailnet.tailnet, secret: false } });

async function target(loc: StackLocation, creds: TailnetCredentials, create: boolean, redact: Redact): Promise<StackTarget> {
  const s = await secretsEnv(loc, create, redact);
  return { location: loc, env: { ...s.env, ...providerEnv(creds) }, secretsProvider: s.secretsProvider };
}

/**
 * Auth keys for the machines in needKeys, by machine name; secrets in memory only, each passed to `redact`.
 * provider: provided resolves each machine's authKey ref and touches nothing else.
 */
export async function applyTailnet(spec: Spec, needKeys: string[], engine: TailnetEngine, redact: Redact): Promise<Map<string, string>> {
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

  let policyText: string | undefined;
  let policyChanged = false;
  if (spec.tailnet.acl === 'merge') {
    const current = await engine.readPolicy(creds, spec.tailnet.tailnet);
    policyText = mergePolicy(current, spec);
    policyChanged = policyText !== current;
    const warnings = policyChanged ? policyWarnings(policyText) : [];
    if (warnings.length > 0)
      throw new TailnetError(
        `the tailnet policy lets every device reach every port, so this stack's policy tests (port 22 denied between peers) would fail:\n  ${warnings.join('\n  ')}`,
        'Narrow or remove that rule in the policy file, or set tailnet.acl: skip and manage the policy yourself.',
      );
  }
  if (needKeys.length === 0 && !policyChanged) return keys; // converged: no stack opened, no up

  const { tailnetProgram } = await import('./program.js');
  const t = await target(stackLocation(spec), creds, true, redact);
  const stack = await engine.createOrSelectStack({ ...t, program: tailnetProgram(spec, { needKeys, policyText }) });
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
 * Removes what up put on the tailnet: this stack's devices (by the stack tag), its policy entries, its keys (by
 * destroying the stack), then the stack itself. Succeeds with nothingToDo when there is none of these.
 */
export async function destroyTailnet(
  spec: Spec,
  engine: TailnetEngine,
  devices: DeviceClientFactory,
  redact: Redact,
): Promise<{ nothingToDo: boolean; messages: string[] }> {
  if (spec.tailnet.provider === 'provided') return { nothingToDo: true, messages: [PROVIDED_NOTE] };
  await engine.checkCli();
  const creds = resolveCredentials(spec.tailnet, redact);
  const loc = stackLocation(spec);
  const messages: string[] = [];

  let cleaned: string | undefined;
  if (spec.tailnet.acl === 'merge') {
    const current = await engine.readPolicy(creds, spec.tailnet.tailnet);
    const next = removeOwned(current, spec);
    if (next !== current) cleaned = next;
  }
  const exists = await engine.stackExists({ location: loc, env: {} }); // listing stacks needs no secrets
  const needStack = exists || cleaned !== undefined;
  // Everything that can fail for want of input (the passphrase of an existing stack) before anything is removed.
  const t = needStack ? await target(loc, creds, !exists, redact) : undefined;

  // Devices before the policy: a policy without our tagOwners must not meet devices still carrying our tags.
  const client = devices(creds, spec.tailnet.tailnet);
  const ours = (await client.listDevices()).filter((d) => d.tags.includes(spec.tailnet.stackTag));
  for (const d of ours) {
    const r = await client.deleteDevice(d.id);
    messages.push(r === 'deleted' ? `removed device ${d.hostname || d.id} from the tailnet` : `device ${d.hostname || d.id} was already gone`);
  }

  if (t) {
    const { tailnetProgram } = await import('./program.js');
    const stack = await engine.createOrSelectStack({ ...t, program: tailnetProgram(spec, { needKeys: [], policyText: cleaned }) });
    await stack.setAllConfig(stackConfig(spec));
    if (cleaned !== undefined) {
      await stack.up({ refresh: true }); // writes the policy without our entries; deletes the stack's keys
      messages.push("removed this stack's entries from the tailnet policy");
    }
    await stack.destroy(); // revokes any key left; the Acl resource goes without resetting the policy
    await engine.removeStack(t);
    if (exists) messages.push(`destroyed stack ${spec.name}: its auth keys are revoked`);
  }
  const nothingToDo = !exists && cleaned === undefined && ours.length === 0;
  if (nothingToDo)
    messages.push(`nothing to do: no stack ${spec.name}, no devices tagged ${spec.tailnet.stackTag}${spec.tailnet.acl === 'merge' ? ', no policy entries of this stack' : ''}`);
  return { nothingToDo, messages };
}
