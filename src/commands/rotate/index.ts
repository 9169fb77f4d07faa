// peer-provision rotate: new gateway tokens for every machine whose token peer-provision generates, applied the way
// up applies anything (plan shown first, then asked; the gateway patched and restarted, the peer files on every peer
// rewritten with the new token, verify). A token from env:/file: is the user's own: rotate the secret, then `up`.
import { stderr } from '../../output/io.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { apply, type UpOptions } from '../converge.js';
import { newTokens } from '../rotation.js';

export async function run(options: UpOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const rotation = newTokens(spec);
  try {
    for (const name of rotation.kept) {
      stderr(`rotate: ${name}'s token comes from ${rotation.refs.get(name)}: rotate that secret, then run up\n`);
    }
    return await apply(rotation.spec, options, 'rotate', view);
  } finally {
    rotation.cleanup();
  }
}
