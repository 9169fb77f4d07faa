// What apply knows while it runs a plan: per machine, the connection, what observe read (private parts included)
// and the secrets the plan's steps need; the tailnet side behind a seam (tests give a fake). Secrets live here, in
// memory only.
import type { Private } from '../observe/parse.js';
import type { MachineState } from '../observe/types.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import type { FriendKey } from '../plan/step-kinds.js';
import type { Remote } from '../transport/remote.js';
import type { PeerInfo } from './peer-files.js';

export interface MachineRun {
  spec: Spec;
  machine: MachineSpec;
  remote: Remote;
  state: MachineState;
  private: Private;
  /** The owner's gateway token this machine ends up with (secret; no peer receives it). */
  token: string;
  /** Per peer: the A2A token it presents here and the one this machine presents to it (secrets). */
  a2a: Map<string, { token: string; outboundToken: string }>;
  /** Auth key to join with (secret), once minted or resolved. */
  authKey?: string;
  /** Its tailnet IPv4, once joined. */
  ip?: string;
  /** Its friends' machines it can reach (their address known): by A2A peer name. */
  friends?: Map<string, { ip: string; port: number }>;
}

/** The tailnet's I/O (Pulumi, the Tailscale API): each returns what it did, in words. */
export interface TailnetSide {
  /** Before a plan that mints keys touches anything: the Pulumi CLI, the credentials, an existing stack's passphrase. */
  keysPreflight(): Promise<void>;
  writePolicy(testsFor: ReadonlySet<string>, expectedHash?: string): Promise<string[]>;
  /** Keys by machine name, and each friend's by friendKeyOutput(friend). */
  mintKeys(machines: string[], friends: FriendKey[]): Promise<Map<string, string>>;
  providedKey(machine: string): string;
  revokeKeys(): Promise<string[]>;
  removeDevices(): Promise<string[]>;
  /** up: former friends' devices, then their records. */
  removeFriendDevices(friends: string[]): Promise<string[]>;
  removePolicy(): Promise<string[]>;
}

export interface ApplyContext {
  spec: Spec;
  /** The observed machines, by name (an unreachable one has none: its steps are unknown and never run). */
  runs: Map<string, MachineRun>;
  tailnet: TailnetSide;
  /** The keys of friends with a pending invite, by friend name, once minted (secrets; invite seals its friend's). */
  friendKeys: Map<string, string>;
  /** A line of what a tailnet step did, for the person watching (stderr). */
  say(line: string): void;
}

/** What a machine's peer files say about its peers; undefined until every peer has a tailnet address. */
export function peerInfos(runs: Map<string, MachineRun>, peers: readonly string[]): PeerInfo[] | undefined {
  const infos: PeerInfo[] = [];
  for (const name of peers) {
    const peer = runs.get(name);
    if (!peer?.ip) return undefined;
    infos.push({ name, hostname: peer.machine.tailscale.hostname, ip: peer.ip, port: peer.machine.gateway.port });
  }
  return infos;
}
