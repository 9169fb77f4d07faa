// What `tailscale status --json` says of this node: read by observe, and by join to check the node it made.
import type { MachineState } from './types.js';

export type TailscaleState = MachineState['tailscale'];

const get = (object: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), object);

/** The node as `tailscale status --json` (text) shows it; unparsable text (an old or broken client) is a node not joined. */
export function tailscaleState(statusText: string, installed: boolean): TailscaleState {
  let status: unknown;
  try {
    status = statusText.trim() ? JSON.parse(statusText) : undefined;
  } catch {
    status = undefined;
  }
  const ips = (get(status, 'Self', 'TailscaleIPs') as string[] | undefined) ?? [];
  const running = get(status, 'BackendState') as string | undefined;
  const userId = get(status, 'Self', 'UserID');
  const keyExpiry = get(status, 'Self', 'KeyExpiry');
  return {
    installed,
    backendState: running,
    loggedIn: get(status, 'HaveNodeKey') === true || running === 'Running' || running === 'Starting',
    tailnet: (get(status, 'CurrentTailnet', 'Name') as string | undefined) || undefined,
    login: userId === undefined ? undefined : (get(status, 'User', String(userId), 'LoginName') as string | undefined) || undefined,
    hostname: (get(status, 'Self', 'HostName') as string | undefined) ?? undefined,
    tags: (get(status, 'Self', 'Tags') as string[] | undefined) ?? [],
    ip: running === 'Running' ? ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) : undefined,
    // ipnstate.PeerStatus.KeyExpiry is a *time.Time with omitempty: absent when the key never expires
    keyExpiry: typeof keyExpiry === 'string' && keyExpiry ? keyExpiry : undefined,
    ...(running === 'Running' ? { peers: taggedPeers(get(status, 'Peer')) } : {}),
  };
}

const ipv4 = (ips: unknown) => (Array.isArray(ips) ? ips.find((ip): ip is string => typeof ip === 'string' && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) : undefined);

/** The node this one sees with every one of `tags` (a friend's machine: only the friend's key gives its tags). */
export const nodeWithTags = (node: TailscaleState, tags: readonly string[]) => node.peers?.find((p) => tags.every((t) => p.tags.includes(t)));

/** The tagged nodes in status.Peer (keyed by node public key): a friend's machine always joins tagged. */
function taggedPeers(peers: unknown): NonNullable<TailscaleState['peers']> {
  if (!peers || typeof peers !== 'object') return [];
  return Object.values(peers as Record<string, unknown>).flatMap((p) => {
    const tags = get(p, 'Tags');
    const hostname = get(p, 'HostName');
    if (!Array.isArray(tags) || tags.length === 0 || typeof hostname !== 'string') return [];
    const ip = ipv4(get(p, 'TailscaleIPs'));
    return [{ hostname, tags: tags.map(String), ...(ip ? { ip } : {}) }];
  });
}
