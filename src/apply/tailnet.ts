// The tailnet side as up, plan and down see it: a thin adapter over src/tailnet (loaded lazily, so that
// Pulumi is only imported when a command really needs it).
import { registerSecret } from '../output/redact.js';
import type { Action } from '../plan/types.js';
import type { Spec } from '../peer-yaml/types.js';
import { resolveCredentials } from '../peer-yaml/secrets.js';

type TailnetModule = typeof import('../tailnet/index.js');
const load = (): Promise<TailnetModule> => import('../tailnet/index.js');

function toActions(spec: Spec, tailnetActions: Awaited<ReturnType<TailnetModule['planTailnet']>>): { actions: Action[]; notes: string[] } {
  const actions: Action[] = [];
  const notes: string[] = [];
  for (const a of tailnetActions) {
    if (a.kind === 'note') notes.push(a.summary);
    else if (a.kind === 'key' && spec.tailnet.provider === 'pulumi') actions.push({ op: 'add', resource: 'tailnet-key', summary: a.summary });
    else if (a.kind === 'policy') {
      const op = a.unknown ? 'unknown' : a.change?.op === '-' ? 'destroy' : a.change?.op === '~' ? 'change' : 'add';
      actions.push({ op, resource: 'tailnet-policy', summary: a.summary, reason: a.unknown ? 'the policy is read at apply time' : undefined });
    }
  }
  return { actions, notes };
}

/**
 * Plan the tailnet for up. With provider pulumi and acl merge, reads the current policy through the API. rekey: joined
 * machines that get a fresh key (rotate).
 */
export async function planTailnetForUp(spec: Spec, joined: Set<string>, readPolicy: boolean, rekey: ReadonlySet<string> = new Set()): Promise<{ actions: Action[]; notes: string[] }> {
  const tailnet = await load();
  let policyText: string | undefined;
  let ours: Set<string> | undefined;
  if (readPolicy && spec.tailnet.provider === 'pulumi' && spec.tailnet.acl === 'merge') {
    const api = tailnet.tailscaleApi()(resolveCredentials(spec.tailnet, registerSecret), spec.tailnet.tailnet);
    policyText = (await api.getPolicy()).text;
    ours = await tailnet.readPolicyRecord(tailnet.stackLocation(spec));
  }
  return toActions(spec, tailnet.planTailnet(spec, joined, policyText, ours, rekey));
}

/** Keys for the machines that have to join (rekeyed: those of them on the tailnet already): minted with Pulumi, or the provided ones. */
export async function authKeys(spec: Spec, needKeys: string[], rekeyed: string[] = []): Promise<Map<string, string>> {
  const tailnet = await load();
  const engine = spec.tailnet.provider === 'pulumi' ? tailnet.defaultEngine() : (undefined as never);
  return tailnet.applyTailnet(spec, needKeys, engine, tailnet.tailscaleApi(), registerSecret, rekeyed);
}

/** Checks that must pass before anything is touched: the Pulumi CLI and plugin, and the credentials. */
export async function tailnetPreflight(spec: Spec): Promise<void> {
  if (spec.tailnet.provider !== 'pulumi') return;
  const tailnet = await load();
  await tailnet.defaultEngine().checkCli();
  resolveCredentials(spec.tailnet, registerSecret);
}

/** For down, before any machine is touched: the CLI and plugin, the credentials, the passphrase of an existing stack. */
export async function tailnetPreflightDown(spec: Spec): Promise<void> {
  if (spec.tailnet.provider !== 'pulumi') return;
  const tailnet = await load();
  await tailnet.preflightDestroy(spec, tailnet.defaultEngine(), registerSecret);
}

/** down's tailnet side: keys, devices, policy entries (see src/tailnet/index.ts for the order). */
export async function destroyTailnetForDown(spec: Spec): Promise<string[]> {
  const tailnet = await load();
  return (await tailnet.destroyTailnet(spec, tailnet.defaultEngine(), tailnet.tailscaleApi(), registerSecret)).messages;
}
