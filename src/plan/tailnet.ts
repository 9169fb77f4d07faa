// The tailnet part of a plan when nothing has been read from Tailscale (plan --offline).
import { formatDuration } from '../peer-yaml/duration.js';
import type { Spec } from '../peer-yaml/types.js';
import { PROVIDED_NOTE } from '../tailnet/notes.js';
import type { Action } from './types.js';

export function offlineTailnetActions(spec: Spec, command: 'up' | 'down'): { actions: Action[]; notes: string[] } {
  if (spec.tailnet.provider === 'provided') return { actions: [], notes: [PROVIDED_NOTE] };
  const reason = 'not observed (--offline)';
  const { expirySeconds, ephemeral } = spec.tailnet.keys;
  const actions: Action[] =
    command === 'up'
      ? spec.machines.map((m) => ({
          op: 'unknown',
          resource: 'tailnet-key',
          summary: `mint a key for ${m.name} if it has not joined: single-use, preauthorized${ephemeral ? ', ephemeral' : ''}, expires in ${formatDuration(expirySeconds)}, tags ${m.tags.join(',')}`,
          reason,
        }))
      : [
          { op: 'unknown', resource: 'tailnet-key', summary: `revoke this stack's keys (stack ${spec.name})`, reason },
          { op: 'unknown', resource: 'tailnet-devices', summary: `remove devices tagged ${spec.tailnet.stackTag}`, reason },
        ];
  if (spec.tailnet.acl === 'merge') {
    actions.push({
      op: 'unknown',
      resource: 'tailnet-policy',
      summary:
        command === 'up'
          ? `merge this stack's entries: tagOwners, grants for ${spec.peers.map((p) => p.join('<->')).join(', ')} on the gateway ports, tests`
          : "remove this stack's entries from the policy",
      reason,
    });
  }
  return { actions, notes: spec.tailnet.acl === 'skip' ? ['acl: skip: the tailnet policy is left alone'] : [] };
}
