// The tailnet side apply works through in production: Pulumi (keys) and the Tailscale API (policy, devices), from
// src/tailnet, loaded only when a command needs it. Tests hand apply a fake TailnetSide instead.
import type { Spec } from '../peer-yaml/types.js';
import type { TailnetSide } from './context.js';

const load = () => import('../tailnet/index.js');

/** The tailnet of this run, with the production engine (Pulumi) and API client. */
const open = (t: Awaited<ReturnType<typeof load>>, spec: Spec) => t.openTailnet(spec, { engine: () => t.defaultEngine(), apiFor: t.tailscaleApi() });

export async function tailnetSide(spec: Spec): Promise<TailnetSide> {
  const t = await load();
  const run = open(t, spec);
  return {
    keysPreflight: () => t.keysPreflight(run),
    writePolicy: (testsFor, expectedHash) => t.writePolicyEntries(run, testsFor, expectedHash),
    mintKeys: (machines, friends) => t.mintKeys(run, machines, friends),
    providedKey: (machine) => t.providedKey(spec, machine),
    revokeKeys: () => t.revokeKeys(run),
    removeDevices: () => t.removeDevices(run),
    removeFriendDevices: (friends) => t.removeFriendDevices(run, friends),
    removePolicy: () => t.removePolicyEntries(run),
  };
}

/** For down, before any machine is touched: the CLI and plugin, the credentials, the passphrase of an existing stack. */
export async function tailnetPreflightDown(spec: Spec): Promise<void> {
  if (spec.tailnet.provider !== 'pulumi') return;
  const t = await load();
  await t.preflightDestroy(open(t, spec));
}
