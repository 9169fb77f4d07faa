import { EXIT } from '../../errors.js';
import { formatBlocker } from '../../output/checks.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { Spec } from '../../peer-yaml/types.js';
import type { CommonOptions } from '../../program.js';
import { localBlockers, refuseUnusableSecrets } from '../preflight.js';

/**
 * The file itself and its secret references, offline: a secret that is there but unusable (a FIFO, too large,
 * empty, weak) is exit 2, at its reference. Everything else this side that up would miss is listed, not failed
 * on (the file is valid): every secret simply not on this machine (an unset variable, a file that does not
 * exist) at FILE:LINE:COL, the Pulumi CLI on PATH, credentials; all of them at once.
 */
export async function run(options: CommonOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const blockers = await localBlockers(spec, { secrets: true });
  refuseUnusableSecrets(blockers);
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
      friends: spec.friends.map((f) => ({ name: f.name, hostname: f.hostname, with: f.with })),
      ready: blockers.length === 0,
      blockers,
    },
    () =>
      `${spec.file}: valid: stack ${spec.name}, ${spec.machines.length} machines (${spec.machines
        .map((m) => m.name)
        .join(
          ', ',
        )}${local ? `; ${local} is local` : ''}), ${spec.peers.length} peer pair${spec.peers.length === 1 ? '' : 's'}${friendsSaid(spec)}, provider ${spec.tailnet.provider}\n` +
      (blockers.length > 0 ? `Not ready for up yet (${blockers.length}):\n${blockers.map(formatBlocker).join('\n')}\n` : ''),
  );
  return EXIT.ok;
}

/** ", 1 friend (bob with alpha, beta)", or nothing without friends. */
const friendsSaid = (spec: Spec) =>
  spec.friends.length === 0
    ? ''
    : `, ${spec.friends.length} friend${spec.friends.length === 1 ? '' : 's'} (${spec.friends.map((f) => `${f.name} with ${f.with.join(', ')}`).join('; ')})`;
