import { EXIT } from '../../errors.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';
import { formatBlocker, localBlockers } from '../readiness.js';
import { validateSecretReferences } from '../shared.js';

/**
 * The file itself and the secret references that can be checked offline (exit 2 on any problem: a file: secret
 * missing or unusable, a set env: value that is unusable), then everything else this side that up would miss:
 * unset env: secrets, the Pulumi CLI on PATH, credentials; all of them at once. Those are reported, not failed
 * on: the file is valid.
 */
export async function run(options: CommonOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  validateSecretReferences(spec); // file: secrets exist, are small regular files, hold a usable value
  const blockers = await localBlockers(spec, { secrets: true });
  const local = spec.machines.find((m) => m.ssh.kind === 'local')?.name;
  view.document(
    {
      format: 'peer-provision/validate@1',
      valid: true,
      file: spec.file,
      stack: spec.name,
      provider: spec.tailnet.provider,
      machines: spec.machines.map((m) => m.name),
      peers: spec.peers,
      ready: blockers.length === 0,
      blockers,
    },
    () =>
      `${spec.file}: valid: stack ${spec.name}, ${spec.machines.length} machines (${spec.machines
        .map((m) => m.name)
        .join(
          ', ',
        )}${local ? `; ${local} is local` : ''}), ${spec.peers.length} peer pair${spec.peers.length === 1 ? '' : 's'}, provider ${spec.tailnet.provider}\n` +
      (blockers.length > 0 ? `Not ready for up yet (${blockers.length}):\n${blockers.map(formatBlocker).join('\n')}\n` : ''),
  );
  return EXIT.ok;
}
