// What apply and observe use of the tailnet: the policy entries and the keys (up), keys, devices and policy entries (down).
//
// The policy is written by the tool's own API client, never by a Pulumi resource: read with its ETag, merged, written
// with If-Match. A 412 (someone changed it in between) means: read again, merge again, write again, a few times, then
// stop with a clear message. No window remains in which another edit can be lost: the API checks If-Match atomically.
//
// Converged runs change nothing. The plan names the machines that still have to join (its mint-keys step); only they
// get a key. When none does and the policy already holds our entries (the merge is byte-for-byte idempotent), no
// stack is even opened. When an `up` is needed, keys of machines that have since joined are no longer declared and
// are deleted (they are single-use and spent), and `up --refresh` with recreateIfInvalid 'always' replaces a key that
// expired before its machine joined.
//
// `down` goes keys → devices → policy, each step complete before the next, so a failure part-way leaves a state the
// next `down` finishes: revocation first (it matters most and needs nothing else), the policy last (its write is the
// step a concurrent edit or a rejection can stop, and it is retried alone by the next run).

import { forgetInvites, settleInvites } from '../friend/pending.js';
import { sha256 } from '../model/hash.js';
import { registerSecret } from '../model/redact.js';
import { resolveCredentials, resolveSecret, type TailnetCredentials } from '../peer-yaml/secrets.js';
import { machineTag, type Spec } from '../peer-yaml/types.js';
import { type FriendKey, friendKeyOutput } from '../plan/step-kinds.js';
import { checkPassphraseVariables, readPolicyRecord, type StackLocation, samePolicyRecord, secretsEnv, stackLocation, writePolicyRecord } from './backend.js';
import { type TailscaleApi, TailscaleApiError, TESTS_FAILED_MESSAGE } from './devices.js';
import type { ConfigMap, StackTarget, TailnetEngine } from './engine.js';
import { TailnetError } from './errors.js';
import { PROVIDED_NOTE } from './notes.js';
import { policyWarnings } from './policy/changes.js';
import { CLASH_FIX, policyClashes } from './policy/clashes.js';
import { mergePolicy, removeOwned, tagOwnerNames } from './policy/merge.js';
import { ALLOW_ALL_FIX, isStackDevice } from './policy/owned.js';
import { ownedGrantsAndTests } from './policy/recognise.js';

export { resolveSecret } from '../peer-yaml/secrets.js';
export { readPolicyRecord, stackLocation } from './backend.js';
export { type ApiFactory, createTailscaleApi, type DeviceClientFactory, tailscaleApi, tailscaleDeviceClient } from './devices.js';
export { checkPulumiCli, createPulumiEngine, defaultEngine, type TailnetEngine } from './engine.js';
export { TailnetError } from './errors.js';

export { PROVIDED_NOTE } from './notes.js';

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

async function target(loc: StackLocation, creds: TailnetCredentials, create: boolean): Promise<StackTarget> {
  const s = await secretsEnv(loc, create);
  return { location: loc, env: { ...s.env, ...providerEnv(creds) }, secretsProvider: s.secretsProvider };
}

export type ApiFor = (creds: TailnetCredentials, tailnet: string) => TailscaleApi;

const POLICY_ATTEMPTS = 3;

/**
 * An API refusal of a policy write, with what it means for this stack. A test failure is told by the API's own
 * message for it, exactly: the error text also quotes the policy's tags and users ("tag:test-runners", "latest"), and a
 * search of it for "test" took a missing tag for a failed test, with the wrong fix.
 */
function explainPolicyError(e: unknown, spec: Spec): never {
  if (!(e instanceof TailnetError)) throw e;
  const m = e.message;
  if (e instanceof TailscaleApiError && e.status === 400 && e.apiMessage === TESTS_FAILED_MESSAGE)
    throw new TailnetError(
      `${m}\nTailscale ran the policy's tests and one failed: most often a rule that lets every device reach every port (new tailnets ship one).`,
      ALLOW_ALL_FIX,
    );
  if (/tag not found|invalid or not permitted/i.test(m)) throw new TailnetError(m, tagHint(spec));
  throw e;
}

/** A refused tag: undefined in tagOwners, or the OAuth client may not mint it (its tag must be the owner tag alone). */
const tagHint = (spec: Spec) =>
  `A tag is named but not defined in tagOwners, or the credentials may not use it: an OAuth client must carry ${spec.tailnet.ownerTag} ` +
  `and no other tag, and tagOwners must make ${spec.tailnet.ownerTag} the owner of ${spec.tailnet.stackTag} and the machine tags ` +
  '(`peer-provision tailnet init` prints the entries; with --write it adds what is missing). See docs/tailnet.md, "First run".';

/**
 * Reads the policy with its ETag, lets `edit` compute the new text, writes it with If-Match. A 412 starts over (the
 * other writer's version is read and edited in turn). Returns the texts before and after, or undefined when `edit`
 * changed nothing.
 */
async function editPolicy(
  spec: Spec,
  api: TailscaleApi,
  edit: (text: string) => string,
  check: (before: string, after: string) => void = () => {},
): Promise<{ before: string; after: string } | undefined> {
  for (let attempt = 1; attempt <= POLICY_ATTEMPTS; attempt++) {
    const { text, etag } = await api.getPolicy();
    const next = edit(text);
    if (next === text) return undefined;
    check(text, next);
    const r = await api.setPolicy(next, etag).catch((e: unknown) => explainPolicyError(e, spec));
    if (r.result === 'written') return { before: text, after: next };
  }
  throw new TailnetError(
    `the tailnet policy changed while peer-provision was writing it, ${POLICY_ATTEMPTS} times in a row (412 Precondition Failed): nothing of anyone else's edit was overwritten`,
    'Run again once nobody else is editing the policy (admin console, GitOps, another stack).',
  );
}

/**
 * The tailnet as one run works with it: the spec, the stack's location, its credentials (resolved once, when first
 * needed: a run that only writes peer files never reads them), the Pulumi engine and the API client.
 */
export interface TailnetRun {
  spec: Spec;
  loc: StackLocation;
  credentials(): TailnetCredentials;
  engine(): TailnetEngine;
  api(): TailscaleApi;
}

export function openTailnet(spec: Spec, deps: { engine: () => TailnetEngine; apiFor: ApiFor }): TailnetRun {
  let creds: TailnetCredentials | undefined;
  let api: TailscaleApi | undefined;
  const credentials = () => {
    creds ??= resolveCredentials(spec.tailnet);
    return creds;
  };
  return {
    spec,
    loc: stackLocation(spec),
    credentials,
    engine: deps.engine,
    api: () => {
      api ??= deps.apiFor(credentials(), spec.tailnet.tailnet);
      return api;
    },
  };
}

/**
 * Writes this stack's policy entries (tagOwners before any key may carry the tags; grants; tests for `testsFor`, the
 * machines already joined). `expectedHash`: the policy the plan saw; a policy that moved since is merged again (the
 * merge keeps everyone's edits) and said so in the result.
 */
export async function writePolicyEntries(t: TailnetRun, testsFor: ReadonlySet<string>, expectedHash?: string): Promise<string[]> {
  const { spec, loc } = t;
  const recorded = await readPolicyRecord(loc);
  const ours = recorded.tagOwners;
  const opts = { ours, oursGrants: recorded.grants, oursTests: recorded.tests, testsFor };
  let moved = false;
  const written = await editPolicy(
    spec,
    t.api(),
    (text) => {
      if (expectedHash && sha256(text) !== expectedHash) moved = true;
      // a clash refuses up even when this stack's entries are all in place already (nothing to write): the tag is shared
      const clashes = policyClashes(text, spec);
      if (clashes.length > 0) throw new TailnetError(`the tailnet policy gives this stack's tags to another stack:\n  ${clashes.join('\n  ')}`, CLASH_FIX);
      return mergePolicy(text, spec, opts);
    },
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
    const tagOwners = new Set([...ours, ...after].filter((tag) => after.has(tag) && (ours.has(tag) || !before.has(tag))));
    const entries = ownedGrantsAndTests(written.before, written.after, spec, opts);
    const record = { tagOwners, grants: new Set(entries.grants), tests: new Set(entries.tests) };
    if (!samePolicyRecord(record, recorded)) await writePolicyRecord(loc, record);
  }
  return [
    ...(moved ? ["the policy changed since the plan read it: merged into the new version (nobody else's edit was lost)"] : []),
    written ? "wrote this stack's policy entries" : "the policy already holds this stack's entries",
  ];
}

/**
 * Before an up that mints keys touches anything: the CLI and plugin, the credentials, and an existing stack's
 * passphrase (never generated for one: a new one would only make Pulumi report a wrong passphrase); for a new stack,
 * the passphrase variables (an empty PULUMI_CONFIG_PASSPHRASE, an unreadable _FILE), so they stop the run before the
 * policy is written, not after.
 */
export async function keysPreflight(t: TailnetRun): Promise<void> {
  const engine = t.engine();
  await engine.checkCli();
  const creds = t.credentials();
  if (await engine.stackExists({ location: t.loc, env: {} })) await target(t.loc, creds, false);
  else await checkPassphraseVariables(t.loc);
}

/**
 * Mints one single-use key per machine with Pulumi (the stack is created, with its passphrase, when new), and keeps or
 * mints each pending invite's key: those are returned as friendKeyOutput(friend).
 */
export async function mintKeys(t: TailnetRun, machines: string[], friends: FriendKey[] = []): Promise<Map<string, string>> {
  const { spec, loc } = t;
  const engine = t.engine();
  for (const n of machines) if (!spec.machines.some((m) => m.name === n)) throw new TailnetError(`no machine named ${n} in the spec`);
  const creds = t.credentials();
  const exists = await engine.stackExists({ location: loc, env: {} }); // listing stacks needs no secrets
  const stackTarget = await target(loc, creds, !exists); // a passphrase is generated only for a new stack
  const { tailnetProgram } = await import('./program.js');
  const stack = await engine.createOrSelectStack({ ...stackTarget, program: tailnetProgram(spec, { needKeys: machines, friendKeys: friends }) });
  await stack.setAllConfig(stackConfig(spec));
  await stack.up({ refresh: true }).catch((e: unknown) => {
    // the provider's error quotes Tailscale's answer; the line that says which tags were refused is the one to show
    const refused = String((e as Error)?.message ?? e)
      .split('\n')
      .find((l) => /invalid or not permitted/i.test(l));
    if (refused) throw new TailnetError(`Tailscale refused to mint the keys: ${refused.trim()}`, tagHint(spec));
    throw e;
  });
  settleInvites(spec, friends); // the keys of the others are deleted now
  const outputs = await stack.outputs();
  const minted = (outputs.keys?.value ?? {}) as Record<string, unknown>;
  const keys = new Map<string, string>();
  for (const n of [...machines, ...friends.map((f) => friendKeyOutput(f.friend))]) {
    const key = minted[n];
    if (typeof key !== 'string' || !key) throw new TailnetError(`pulumi up returned no auth key for ${n}`);
    keys.set(n, registerSecret(key)); // the API's answer: registered as it enters the process
  }
  return keys;
}

/** provider: provided: the machine's own auth key, resolved now (never earlier, never kept). */
export function providedKey(spec: Spec, machine: string): string {
  const m = spec.machines.find((x) => x.name === machine)!;
  if (!m.tailscale.authKey) throw new TailnetError(`machines.${machine}.tailscale.authKey: required with tailnet.provider: provided`);
  return resolveSecret(m.tailscale.authKey, `machines.${machine}.tailscale.authKey`);
}

/**
 * Everything `down` needs, checked before any machine is touched: the Pulumi CLI and plugin, the credentials, and,
 * when the stack exists, its passphrase (never generated here). Returns whether the stack exists.
 */
export async function preflightDestroy(t: TailnetRun): Promise<{ stackExists: boolean }> {
  if (t.spec.tailnet.provider === 'provided') return { stackExists: false };
  const engine = t.engine();
  await engine.checkCli();
  const creds = t.credentials();
  const exists = await engine.stackExists({ location: t.loc, env: {} });
  if (exists) await target(t.loc, creds, false);
  return { stackExists: exists };
}

/** down, 1: the stack's keys, revoked by destroying the stack (the provider deletes each key). With acl: skip this is the only revocation. */
export async function revokeKeys(t: TailnetRun): Promise<string[]> {
  const { spec } = t;
  if (spec.tailnet.provider === 'provided') return [PROVIDED_NOTE];
  const { stackExists: exists } = await preflightDestroy(t);
  if (!exists) return [`no stack ${spec.name}: no keys to revoke`];
  const engine = t.engine();
  const stackTarget = await target(t.loc, t.credentials(), false);
  const { tailnetProgram } = await import('./program.js');
  const stack = await engine.createOrSelectStack({ ...stackTarget, program: tailnetProgram(spec, { needKeys: [] }) });
  await stack.setAllConfig(stackConfig(spec));
  await stack.destroy();
  forgetInvites(spec); // every invite's key went with the stack, and remove-devices takes every friend's device
  await engine.removeStack(stackTarget);
  return [`destroyed stack ${spec.name}: its auth keys are revoked`];
}

/** down, 2: the devices that joined with this stack's keys (a revoked key does not remove a device). */
export async function removeDevices(t: TailnetRun): Promise<string[]> {
  const { spec } = t;
  const api = t.api();
  const ours = (await api.listDevices()).filter((d) => isStackDevice(spec, d.tags));
  const messages: string[] = [];
  for (const d of ours) {
    const r = await api.deleteDevice(d.nodeId);
    messages.push(r === 'deleted' ? `removed device ${d.hostname || d.nodeId} from the tailnet` : `device ${d.hostname || d.nodeId} was already gone`);
  }
  return messages.length ? messages : [`no devices tagged ${spec.tailnet.stackTag} and one of its machine tags`];
}

/**
 * up, after a friend was taken out of peer.yaml: the device of each former friend (the stack tag and the friend's own
 * tag: the tags only his invite's key gave), then his record. His key was revoked before (mint-keys), his A2A entries
 * and grants go in the same run.
 */
export async function removeFriendDevices(t: TailnetRun, friends: string[]): Promise<string[]> {
  const { spec } = t;
  const api = t.api();
  const devices = await api.listDevices();
  const messages: string[] = [];
  for (const friend of friends) {
    const tag = machineTag(spec.name, friend);
    const his = devices.filter((d) => d.tags.includes(spec.tailnet.stackTag) && d.tags.includes(tag));
    for (const d of his) {
      const r = await api.deleteDevice(d.nodeId);
      messages.push(
        r === 'deleted'
          ? `removed ${friend}'s device ${d.hostname || d.nodeId} from the tailnet`
          : `${friend}'s device ${d.hostname || d.nodeId} was already gone`,
      );
    }
    if (his.length === 0) messages.push(`no device of ${friend} (tagged ${tag}) on the tailnet`);
  }
  forgetInvites(spec, friends);
  return messages;
}

/** down, 3: this stack's policy entries; a tagOwners entry the user wrote, or that something else still names, stays. */
export async function removePolicyEntries(t: TailnetRun): Promise<string[]> {
  const { spec, loc } = t;
  const api = t.api();
  const record = await readPolicyRecord(loc);
  const opts = { ours: record.tagOwners, oursGrants: record.grants, oursTests: record.tests };
  const written = await editPolicy(spec, api, (text) => removeOwned(text, spec, opts));
  const now = written ? tagOwnerNames(written.after) : undefined;
  const messages = [written ? "removed this stack's entries from the tailnet policy" : 'the policy holds no entries of this stack'];
  const kept = [...record.tagOwners].filter((tag) => (now ? now.has(tag) : true));
  if (now && kept.length > 0) messages.push(`kept tagOwners ${kept.join(', ')}: still named elsewhere in the policy`);
  // every grant and test of ours is gone now (a record kept for a failed write stays as it was)
  await writePolicyRecord(loc, now ? { tagOwners: new Set(kept), grants: new Set(), tests: new Set() } : record);
  return messages;
}
