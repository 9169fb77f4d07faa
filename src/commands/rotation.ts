// What rotate changes, for rotate and `plan --for rotate`: which node keys it re-keys (its new A2A tokens are made
// where up's are, src/observe/a2a-tokens.ts).
import { UsageError } from '../errors.js';
import { durationSeconds } from '../peer-yaml/duration.js';
import { DEFAULT_REKEY_WINDOW_SECONDS, type NodeKeys } from '../plan/node-keys.js';

/** What rotate (and plan --for rotate) does about node keys: re-key within the window, unless --only tokens. */
export function rotateNodeKeys(options: { rekeyWithin?: string; only?: 'tokens' | 'keys' }, now: number): Omit<NodeKeys, 'provider'> {
  return { now, windowSeconds: rekeyWindow(options.rekeyWithin), rekey: options.only !== 'tokens' };
}

/** --rekey-within: a duration as peer.yaml writes them (90s, 15m, 36h, 7d); bad text is a usage error (exit 2). */
export function rekeyWindow(text: string | undefined): number {
  if (text === undefined) return DEFAULT_REKEY_WINDOW_SECONDS;
  try {
    return durationSeconds(text);
  } catch {
    throw new UsageError(`--rekey-within ${JSON.stringify(text)}: not a duration`, 'write a number and a unit: 90s, 15m, 36h or 7d');
  }
}
