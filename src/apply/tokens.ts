// Which gateway token each machine ends up with. env/file: exactly that. generate: the token the gateway
// already has (a re-run changes nothing), else a new random one.
import { randomBytes } from 'node:crypto';
import { registerSecret } from '../output/redact.js';
import type { Private } from '../observe/parse.js';
import type { MachineSpec } from '../spec/types.js';
import { resolveSecret } from '../spec/secrets.js';

export function decideToken(machine: MachineSpec, observed: Private | undefined): { token: string; keepExisting: boolean } {
  const ref = machine.gateway.token;
  if (ref.kind !== 'generate') return { token: registerSecret(resolveSecret(ref, `machines.${machine.name}.gateway.token`)), keepExisting: false };
  if (observed?.token) return { token: observed.token, keepExisting: true };
  return { token: registerSecret(randomBytes(32).toString('base64url')), keepExisting: false };
}
