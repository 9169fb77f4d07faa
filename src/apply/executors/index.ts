// The executor of each step kind (a Record over every kind: a new kind without an executor does not compile).
import type { StepKind } from '../../plan/step-kinds.js';
import type { Step } from '../../plan/types.js';
import { guard, unguard } from './guard.js';
import { installTailscale } from './install-tailscale.js';
import { join } from './join.js';
import { leave } from './leave.js';
import { patchConfig } from './patch-config.js';
import { removePeerFiles } from './remove-peer-files.js';
import { restart } from './restart.js';
import { restoreConfig } from './restore-config.js';
import { mergePolicy, mintKeys, removeDevices, removeFriendDevices, removePolicy, revokeKeys } from './tailnet.js';
import type { Executor } from './types.js';
import { writePeerFiles } from './write-peer-files.js';

type Registry = { [K in Exclude<StepKind, 'unknown'>]: Executor<K> };

export const EXECUTORS: Registry = {
  'merge-policy': mergePolicy,
  'mint-keys': mintKeys,
  'install-tailscale': installTailscale,
  guard,
  join,
  'patch-config': patchConfig,
  restart,
  'write-peer-files': writePeerFiles,
  'restore-config': restoreConfig,
  'remove-peer-files': removePeerFiles,
  leave,
  unguard,
  'revoke-keys': revokeKeys,
  'remove-devices': removeDevices,
  'remove-friend-devices': removeFriendDevices,
  'remove-policy': removePolicy,
};

export function executorFor(step: Step): Executor<StepKind> | undefined {
  return step.kind === 'unknown' ? undefined : (EXECUTORS[step.kind] as Executor<StepKind>);
}
