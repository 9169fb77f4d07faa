import type { CommonOptions } from '../../cli.js';
import { EXIT } from '../../errors.js';
import { printJson, stdout } from '../../output/io.js';
import { loadSpec } from '../../spec/load.js';
import { validateSecretReferences } from '../shared.js';

export async function run(options: CommonOptions): Promise<number> {
  const spec = loadSpec(options.file);
  validateSecretReferences(spec); // file: secrets exist, are small regular files, hold a usable value
  const local = spec.machines.find((m) => m.ssh.kind === 'local')?.name;
  if (options.json) {
    printJson({
      format: 'peer-provision/validate@1',
      valid: true,
      file: spec.file,
      stack: spec.name,
      provider: spec.tailnet.provider,
      machines: spec.machines.map((m) => m.name),
      peers: spec.peers,
    });
  } else {
    stdout(
      `${spec.file}: valid: stack ${spec.name}, ${spec.machines.length} machines (${spec.machines
        .map((m) => m.name)
        .join(', ')}${local ? `; ${local} is local` : ''}), ${spec.peers.length} peer pair${spec.peers.length === 1 ? '' : 's'}, provider ${spec.tailnet.provider}\n`,
    );
  }
  return EXIT.ok;
}
