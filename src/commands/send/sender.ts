// Which machine sends to PEER (pure): --from when given, else the only machine paired with PEER, else the local
// machine when it is paired with PEER. Everything else is refused (exit 2) before anything is touched.
import { closest } from 'fastest-levenshtein';
import { UsageError } from '../../errors.js';
import { peersOf, type Spec } from '../../peer-yaml/types.js';

export function sender(spec: Spec, peer: string, from: string | undefined): string {
  const names = spec.machines.map((m) => m.name);
  const machine = (name: string, what: string) => {
    if (names.includes(name)) return;
    const suggestion = names.length && !name.startsWith('-') ? ` (did you mean ${closest(name, names)}?)` : '';
    throw new UsageError(`${what} ${JSON.stringify(name)}: no such machine in ${spec.file}${suggestion}`, `the machines are: ${names.join(', ')}`);
  };
  machine(peer, 'PEER');
  const paired = peersOf(spec, peer);
  if (from !== undefined) {
    machine(from, '--from');
    if (from === peer)
      throw new UsageError(`--from ${from}: a machine does not send to itself`, `the machines paired with ${peer}: ${paired.join(', ') || 'none'}`);
    if (!paired.includes(from))
      throw new UsageError(
        `${from} and ${peer} are not peers in ${spec.file} (peers: lists no such pair)`,
        `the machines paired with ${peer}: ${paired.join(', ') || 'none'}`,
      );
    return from;
  }
  if (paired.length === 0) throw new UsageError(`${peer} has no peer in ${spec.file}: no machine can send to it`, 'add a pair with it under peers:');
  if (paired.length === 1) return paired[0]!;
  const local = spec.machines.find((m) => m.ssh.kind === 'local' && paired.includes(m.name));
  if (local) return local.name;
  throw new UsageError(`which machine sends to ${peer}? ${paired.join(', ')} are all paired with it`, `say which with --from (one of ${paired.join(', ')})`);
}
