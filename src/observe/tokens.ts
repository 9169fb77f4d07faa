// Which gateway token each machine ends up with. env/file: exactly that. generate: the token the gateway already has
// (a re-run changes nothing; a reference to one stays a reference), else a new random one. A token that does not meet
// the token rule (src/peer-yaml/token-rule.ts) is never used: from env/file it is refused (exit 2); found in a
// machine's config it blocks the plan (src/plan/blockers/tokens.ts) unless the spec consents to replacing it.
import { randomBytes } from 'node:crypto';
import { InputError, UsageError } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { checkSecrets } from '../peer-yaml/secret-check.js';
import { resolveSecret } from '../peer-yaml/secrets.js';
import { tokenProblem } from '../peer-yaml/token-rule.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import type { Private } from './parse.js';

export const newToken = () => registerSecret(randomBytes(32).toString('base64url'));

export function decideToken(machine: MachineSpec, observed: Private | undefined): { token: string; keepExisting: boolean } {
  const ref = machine.gateway.token;
  if (ref.kind !== 'generate') {
    const token = resolveSecret(ref, `machines.${machine.name}.gateway.token`);
    const problem = tokenProblem(token);
    // assertTokenReferencesUsable reports this first, with its position; this is the last line of defence
    if (problem) throw new UsageError(`machines.${machine.name}.gateway.token: the token ${problem}`);
    return { token, keepExisting: false };
  }
  // a reference (`${VAR}`, a SecretRef) stays: the token it names is its owner's to keep elsewhere; none is needed here
  if (observed?.tokenRef) return { token: '', keepExisting: true };
  if (observed?.token && !tokenProblem(observed.token)) return { token: observed.token, keepExisting: true };
  return { token: newToken(), keepExisting: false };
}

/**
 * plan (which has no preflight of its own) and up: every env:/file: token (and the sshConfig file), at its
 * reference in peer.yaml. InputError, exit 2, before any connection is made.
 */
export function assertTokenReferencesUsable(spec: Spec): void {
  const { problems, missing } = checkSecrets(spec);
  const tokens = [...problems, ...missing].filter((p) => p.field.endsWith('.gateway.token') || p.field === 'sshConfig');
  if (tokens.length) throw new InputError(tokens);
}
