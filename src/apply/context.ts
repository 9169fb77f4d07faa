// What apply knows about one machine while it works on it. Secrets live here, in memory only.
import type { Private } from '../observe/parse.js';
import type { MachineState } from '../observe/types.js';
import type { Action } from '../plan/types.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import type { Remote } from '../transport/remote.js';
import { peersOf } from '../verify/index.js';
import type { PeerInfo } from './peer-files.js';

export interface MachineRun {
  spec: Spec;
  machine: MachineSpec;
  remote: Remote;
  state: MachineState;
  private: Private;
  /** The plan's actions for this machine: apply runs exactly these steps. */
  actions: Action[];
  /** The gateway token this machine ends up with (secret). */
  token: string;
  /** Auth key to join with (secret), when it has to join. */
  authKey?: string;
  /** Its tailnet IPv4, once joined. */
  ip?: string;
  /** The step that failed, if one did: the rest of this machine's chain is skipped. */
  failed?: Error;
}

export const has = (run: MachineRun, resource: Action['resource']) => run.actions.some((a) => a.resource === resource);

/** What a machine's peer files say about its peers; undefined until every peer has a tailnet address. */
export function peerInfos(spec: Spec, runs: Map<string, MachineRun>, machine: string): PeerInfo[] | undefined {
  const infos: PeerInfo[] = [];
  for (const name of peersOf(spec, machine)) {
    const peer = runs.get(name);
    if (!peer?.ip || peer.failed) return undefined;
    infos.push({ name, hostname: peer.machine.tailscale.hostname, ip: peer.ip, port: peer.machine.gateway.port, token: peer.token });
  }
  return infos;
}
