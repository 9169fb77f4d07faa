// Who peers with whom: a function of peer.yaml alone (its `peers` pairs).
import type { Spec } from './types.js';

export const peersOf = (spec: Spec, machine: string) => spec.peers.flatMap(([a, b]) => (a === machine ? [b] : b === machine ? [a] : []));
