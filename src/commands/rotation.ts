// What rotate changes, for rotate and `plan --for rotate`: which node keys it re-keys, and new gateway tokens (a
// fresh random token for every machine whose token peer-provision generates, handed in as a 0600 file: ref in a
// private folder removed when the run ends).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { onAbort } from '../interrupt.js';
import { registerSecret } from '../output/redact.js';
import { durationSeconds } from '../peer-yaml/duration.js';
import type { Spec } from '../peer-yaml/types.js';
import { DEFAULT_REKEY_WINDOW_SECONDS, type NodeKeys } from '../plan/machine.js';

/**
 * The spec with a fresh random token for every `generate` machine. The token reaches the planner and apply the
 * way any file: token does, from a 0600 file in a private (0700) folder that is removed when the run ends: never
 * in argv or an environment another process inherits.
 */
export function newTokens(spec: Spec): { spec: Spec; rotated: string[]; kept: string[]; refs: Map<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'peer-provision-rotate-'));
  const rotated: string[] = [];
  const kept: string[] = [];
  const refs = new Map<string, string>();
  const machines = spec.machines.map((machine) => {
    const ref = machine.gateway.token;
    if (ref.kind !== 'generate') {
      kept.push(machine.name);
      refs.set(machine.name, ref.kind === 'env' ? `env:${ref.name}` : `file:${ref.path}`);
      return machine;
    }
    const path = join(dir, `${machine.name}.token`);
    writeFileSync(path, registerSecret(randomBytes(32).toString('base64url')), { mode: 0o600 });
    rotated.push(machine.name);
    return { ...machine, gateway: { ...machine.gateway, token: { kind: 'file' as const, path } } };
  });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // also when a second signal aborts the run (process.exit: no finally runs)
  const forget = onAbort(remove);
  return {
    spec: { ...spec, machines },
    rotated,
    kept,
    refs,
    cleanup: () => {
      remove();
      forget();
    },
  };
}

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
