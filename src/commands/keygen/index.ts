// peer-provision keygen: the friend's side of the friend flow, once: a key for receiving invites (src/friend/identity.ts).
// Run again, it shows the same public key: a key is never replaced (an invite sealed to it would no longer open).
import { EXIT } from '../../errors.js';
import { ensureIdentity } from '../../friend/identity.js';
import type { View } from '../../output/view.js';
import type { CommonOptions } from '../../program.js';

export async function run(_options: CommonOptions, view: View): Promise<number> {
  const { file, publicKey, created } = await ensureIdentity();
  view.document({ format: 'peer-provision/keygen@1', publicKey, file, created }, () =>
    [
      created ? `Your key for invites is in ${file} (0600: it stays on this machine).` : `You already have a key for invites: ${file} (kept as it is).`,
      '',
      'Send this public key to the friend who will invite you (it is not a secret):',
      '',
      `  ${publicKey}`,
      '',
      'They add it to their peer.yaml and run `peer-provision invite`; you then run `peer-provision accept FILE` here.',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
