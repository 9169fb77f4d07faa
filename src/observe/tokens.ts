// Which gateway token each machine ends up with. env/file: exactly that. generate: the token the gateway already has
// (a re-run changes nothing; a reference to one stays a reference), else a new random one. A token that does not meet
// the token rule (src/peer-yaml/token-rule.ts) is never used: from env/file it is refused (exit 2); found in a
// machine's config it blocks the plan, unless the spec says generate-replace-weak (the user's consent: replacing it
// breaks the gateway's other clients).
import { randomBytes } from 'node:crypto';
import { InputError, UsageError } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { checkSecrets } from '../peer-yaml/secret-check.js';
import { resolveSecret } from '../peer-yaml/secrets.js';
import { tokenProblem } from '../peer-yaml/token-rule.js';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import type { Observed } from './index.js';
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

/**
 * The blockers of each machine whose config holds a token peer-provision may not keep, unless the spec
 * consents to replacing it (generate-replace-weak): plan shows it with the fix, up refuses before it
 * touches anything.
 */
export function tokenBlockers(spec: Spec, observed: Map<string, Observed>): Map<string, { reason: string; fix: string }[]> {
  const out = new Map<string, { reason: string; fix: string }[]>();
  for (const machine of spec.machines) {
    const o = observed.get(machine.name);
    const token = o?.private?.token;
    const ref = machine.gateway.token;
    if (ref.kind !== 'generate' || ref.replaceWeak || token === undefined) continue;
    const problem = tokenProblem(token);
    if (!problem) continue;
    const config = (o?.observation.status === 'observed' && o.observation.state.gateway.configPath) || 'its OpenClaw config';
    out.set(machine.name, [
      {
        reason:
          `the gateway token already in ${config} ${problem}. peer-provision keeps an existing token only when it meets this rule, ` +
          "and replaces one only with your consent (a new token breaks the gateway's other clients)",
        fix:
          `set machines.${machine.name}.gateway.token: generate-replace-weak (a new random token), or give a token that meets the rule ` +
          'as env:NAME or file:PATH, or change it in the config yourself',
      },
    ]);
  }
  return out;
}
