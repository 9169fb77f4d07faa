// Where a stack keeps what it owns on this host, beside its peer.yaml: the lock, the Pulumi state (default backend)
// and its generated passphrase. One place, so the lock, the tailnet and a refusal's clean-up agree on it.
import { dirname, join } from 'node:path';

/** <dir of peer.yaml>/stacks/<name>, for a spec (its file and name). */
export const stackDir = (spec: { file: string; name: string }) => join(dirname(spec.file), 'stacks', spec.name);
