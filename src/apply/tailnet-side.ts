// The tailnet side apply works through in production: Pulumi (keys) and the Tailscale API (policy, devices), from
// src/tailnet, loaded only when a command needs it. Tests hand apply a fake TailnetSide instead.
import { registerSecret } from '../output/redact.js';
import type { Spec } from '../peer-yaml/types.js';
import type { TailnetSide } from './context.js';

const load = () => import('../tailnet/index.js');

export async function tailnetSide(spec: Spec): Promise<TailnetSide> {
  const t = await load();
  const engine = () => t.defaultEngine();
  return {
    keysPreflight: () => t.keysPreflight(spec, engine(), registerSecret),
    writePolicy: (testsFor, expectedHash) => t.writePolicyEntries(spec, testsFor, t.tailscaleApi(), registerSecret, expectedHash),
    mintKeys: (machines) => t.mintKeys(spec, machines, engine(), registerSecret),
    providedKey: (machine) => t.providedKey(spec, machine, registerSecret),
    revokeKeys: () => t.revokeKeys(spec, engine(), registerSecret),
    removeDevices: () => t.removeDevices(spec, t.tailscaleApi(), registerSecret),
    removePolicy: () => t.removePolicyEntries(spec, t.tailscaleApi(), registerSecret),
  };
}

/** For down, before any machine is touched: the CLI and plugin, the credentials, the passphrase of an existing stack. */
export async function tailnetPreflightDown(spec: Spec): Promise<void> {
  if (spec.tailnet.provider !== 'pulumi') return;
  const t = await load();
  await t.preflightDestroy(spec, t.defaultEngine(), registerSecret);
}
