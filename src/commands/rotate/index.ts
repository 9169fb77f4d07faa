// peer-provision rotate: new gateway tokens for every machine whose token peer-provision generates, applied the way
// up applies anything (plan shown first, then asked; the gateway patched and restarted, the peer files on every peer
// rewritten with the new token, verify). A token from env:/file: is the user's own: rotate the secret, then `up`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stderr } from '../../output/io.js';
import type { View } from '../../output/view.js';
import { registerSecret } from '../../output/redact.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { Spec } from '../../peer-yaml/types.js';
import { apply, type UpOptions } from '../up/index.js';

export async function run(options: UpOptions, view: View): Promise<number> {
  const spec = loadSpec(options.file);
  const rotation = newTokens(spec);
  try {
    for (const name of rotation.kept) {
      stderr(`rotate: ${name}'s token comes from ${rotation.refs.get(name)}: rotate that secret, then run up\n`);
    }
    return await apply(rotation.spec, options, 'rotate', view);
  } finally {
    rotation.cleanup();
  }
}

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
  return { spec: { ...spec, machines }, rotated, kept, refs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
