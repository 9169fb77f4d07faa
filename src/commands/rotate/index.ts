// peer-provision rotate: new A2A tokens for every pair of peers, both sides of a pair in one run, applied the way up
// applies anything (plan shown first, then asked; each config patched, which OpenClaw reloads without a restart unless
// gateway.reload.mode is off; verify). The owner's gateway token is not a peer's: change it in peer.yaml, then `up`.
// In the same run, with provider pulumi, nodes whose Tailscale node key expires within --rekey-within (or has
// expired) are re-keyed: a freshly minted auth key and `tailscale up --force-reauth` (same hostname, same address).
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { converge, type UpOptions } from '../converge.js';
import { rotateNodeKeys } from '../rotation.js';

export interface RotateOptions extends UpOptions {
  /** A duration (7d, 36h): re-key nodes whose key expires within it. */
  rekeyWithin?: string;
  /** Rotate only the A2A peer tokens, or only re-key nodes. */
  only?: 'tokens' | 'keys';
}

export async function run(options: RotateOptions, view: View): Promise<number> {
  const nodeKeys = rotateNodeKeys(options, Date.now()); // a bad --rekey-within: exit 2 before anything is read
  const spec = loadSpec(options.file);
  return converge(spec, options, 'rotate', view, { nodeKeys, newA2aTokens: options.only !== 'keys' });
}
