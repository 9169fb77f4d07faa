// peer-provision rotate: new gateway tokens for every machine whose token peer-provision generates, applied the way
// up applies anything (plan shown first, then asked; the gateway patched and restarted, the peer files on every peer
// rewritten with the new token, verify). A token from env:/file: is the user's own: rotate the secret, then `up`.
// In the same run, with provider pulumi, nodes whose Tailscale node key expires within --rekey-within (or has
// expired) are re-keyed: a freshly minted auth key and `tailscale up --force-reauth` (same hostname, same address).
import { stderr } from '../../output/io.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { apply, type UpOptions } from '../converge.js';
import { newTokens, rotateNodeKeys } from '../rotation.js';

export interface RotateOptions extends UpOptions {
  /** A duration (7d, 36h): re-key nodes whose key expires within it. */
  rekeyWithin?: string;
  /** Rotate only the gateway tokens, or only re-key nodes. */
  only?: 'tokens' | 'keys';
}

export async function run(options: RotateOptions, view: View): Promise<number> {
  const nodeKeys = rotateNodeKeys(options, Date.now()); // a bad --rekey-within: exit 2 before anything is read
  const spec = loadSpec(options.file);
  if (options.only === 'keys') return apply(spec, options, 'rotate', view, { nodeKeys });
  const rotation = newTokens(spec);
  try {
    for (const name of rotation.kept) {
      stderr(`rotate: ${name}'s token comes from ${rotation.refs.get(name)}: rotate that secret, then run up\n`);
    }
    return await apply(rotation.spec, options, 'rotate', view, { nodeKeys });
  } finally {
    rotation.cleanup();
  }
}
