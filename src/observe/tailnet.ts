// observe, the tailnet's side: the current policy (with provider pulumi and acl merge) and the tagOwners entries
// this stack recorded as its own, read-only. Loaded lazily: Pulumi-free, but only plan and up need it.
import { resolveCredentials } from '../peer-yaml/secrets.js';
import type { Spec } from '../peer-yaml/types.js';
import type { PolicyObservation } from './types.js';

export const OFFLINE = 'not observed (--offline)';

/** `blocked`: something on this side blocks the command anyway (no credentials, no Pulumi CLI, a secret missing). */
export async function observePolicy(spec: Spec, how: { offline?: boolean; blocked?: boolean; command: 'up' | 'down' }): Promise<PolicyObservation> {
  if (how.offline) return { unread: OFFLINE, offline: true };
  if (spec.tailnet.provider !== 'pulumi' || spec.tailnet.acl !== 'merge') return { unread: 'not needed' };
  if (how.command === 'down') return { unread: 'not needed: down removes only what this stack recorded' };
  if (how.blocked) return { unread: 'not read: something on this side blocks up (see the blocking problems)' };
  const { tailscaleApi } = await import('../tailnet/devices.js');
  const { readPolicyRecord, recordBody, stackLocation } = await import('../tailnet/backend.js');
  const api = tailscaleApi()(resolveCredentials(spec.tailnet), spec.tailnet.tailnet);
  const text = (await api.getPolicy()).text;
  const record = recordBody(await readPolicyRecord(stackLocation(spec)));
  return { text, ours: record.tagOwners, oursGrants: record.grants, oursTests: record.tests };
}
