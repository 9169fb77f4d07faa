// Shared builders for the tailnet tests.

import type { FriendSpec, MachineSpec, Spec } from '../../src/peer-yaml/types.js';
import { DEFAULT_GATEWAY_PORT, DEFAULT_INSTALL_URL, legacyMachineTag, machineTag, ownerTag, stackTag } from '../../src/peer-yaml/types.js';

export function machine(stack: string, name: string, port = DEFAULT_GATEWAY_PORT): MachineSpec {
  return {
    name,
    ssh: { kind: 'local' },
    tags: [stackTag(stack), machineTag(stack, name)],
    legacyTags: [stackTag(stack), legacyMachineTag(stack, name)],
    tailscale: { hostname: `${stack}-${name}`, installUrl: DEFAULT_INSTALL_URL, takeOver: false },
    gateway: { port, token: { kind: 'env', name: 'GW_TOKEN' }, a2a: { rateLimitPerMinute: 30 } },
  };
}

/** A spec with every pair peered unless `peers` is given. */
export function makeSpec(
  name = 'lab',
  machines: MachineSpec[] = [machine(name, 'alpha'), machine(name, 'beta')],
  over: Partial<Spec['tailnet']> = {},
  peers?: [string, string][],
): Spec {
  const pairs: [string, string][] = [];
  for (let i = 0; i < machines.length; i++)
    for (let j = i + 1; j < machines.length; j++) pairs.push([machines[i]!.name, machines[j]!.name].sort() as [string, string]);
  return {
    file: `/nonexistent/${name}/peer.yaml`,
    version: 1,
    name,
    tailnet: {
      provider: 'pulumi',
      tailnet: '-',
      credentials: { oauthClientId: { kind: 'env', name: 'TS_OAUTH_ID' }, oauthClientSecret: { kind: 'env', name: 'TS_OAUTH_SECRET' } },
      keys: { expirySeconds: 3600, ephemeral: false },
      acl: 'merge',
      stackTag: stackTag(name),
      ownerTag: ownerTag(name),
      ...over,
    },
    machines,
    peers: peers ?? pairs,
    friends: [],
  };
}

/** A friend of stack `stack` whose machine peers with `withMachines`. */
export function friend(stack: string, name: string, withMachines: string[], port = DEFAULT_GATEWAY_PORT): FriendSpec {
  return {
    name,
    publicKey: 'age1zhfnnu29cm2ne83a9nqse7vc367sy9tn7vfxhakw99ve3zsj6qfqhnn9gy',
    hostname: name,
    port,
    with: withMachines,
    tags: [stackTag(stack), machineTag(stack, name)],
  };
}
