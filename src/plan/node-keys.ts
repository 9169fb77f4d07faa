// What a run does about a node's key expiry: re-key it (rotate, or up for an expired key) or say so in a note.
import type { MachineState } from '../observe/types.js';
import type { MachineSpec } from '../peer-yaml/types.js';
import { isLoggedInAsItself, keyExpiresIn, roughDuration } from './node.js';

/**
 * Node key expiry, judged against `now` (the caller reads the clock: the planner never does). Without it the plan
 * says nothing about node keys (plan --offline, down).
 */
export interface NodeKeys {
  /** Milliseconds since the epoch. */
  now: number;
  /** A key that expires within this many seconds counts as near expiry. */
  windowSeconds: number;
  /** rotate: re-key nodes whose key is near expiry (provider pulumi). up: only say so in a note. */
  rekey: boolean;
  provider: 'pulumi' | 'provided';
}

/** The default of rotate --rekey-within, and the window within which up suggests rotate. */
export const DEFAULT_REKEY_WINDOW_SECONDS = 7 * 86400;

/**
 * What this run does about a node's key: a re-key (the tailnet-node action's summary) and/or a note. An expired key
 * is always re-keyed (the node is offline on the tailnet: up has to join it again anyway, and a logged-in node needs
 * --force-reauth for a new key); a key near expiry only by rotate with provider pulumi (it mints the new key).
 */
export function nodeKeyPlan(machine: MachineSpec, state: MachineState, keys: NodeKeys): { rekey?: string; note?: string } {
  if (!isLoggedInAsItself(machine, state)) return {};
  const window = roughDuration(keys.windowSeconds);
  const left = keyExpiresIn(state, keys.now);
  if (left === undefined) {
    if (!keys.rekey) return {};
    return state.tailscale.keyExpiry === undefined
      ? { note: 'node key expiry disabled (the default for a tagged node): nothing to re-key' }
      : { note: `node key expiry not readable (${JSON.stringify(state.tailscale.keyExpiry)}): not re-keyed` };
  }
  const yourKey = `re-keying needs a new auth key from you (tailnet.provider: provided): put an unused one in machines.${machine.name}.tailscale.authKey and run \`tailscale up --force-reauth --auth-key=file:PATH\` on the machine, or use provider pulumi`;
  if (left <= 0) {
    return {
      rekey: `re-key (node key expired ${roughDuration(left)} ago: the node is offline on the tailnet)`,
      ...(keys.provider === 'provided'
        ? { note: `node key expired: the re-key joins with machines.${machine.name}.tailscale.authKey, which must be a new, unused key` }
        : {}),
    };
  }
  const expires = `node key expires in ${roughDuration(left)}`;
  if (left > keys.windowSeconds) return keys.rekey ? { note: `${expires}: not re-keyed (not within ${window})` } : {};
  if (keys.provider === 'provided') return { note: `${expires}: ${yourKey}` };
  return keys.rekey ? { rekey: `re-key (${expires})` } : { note: `${expires}: \`peer-provision rotate\` re-keys it` };
}
