// Which gateway token each machine ends up with. env/file: exactly that. generate: the token the gateway
// already has (a re-run changes nothing), else a new random one. A token that does not meet the token rule
// (src/spec/token-rule.ts) is never used: from env/file it is refused; found in a machine's config it is
// refused too, unless the spec says generate-replace-weak (the user's consent: replacing it breaks the
// gateway's other clients).
import { randomBytes } from 'node:crypto';
import { InputError, type Problem } from '../errors.js';
import { registerSecret } from '../output/redact.js';
import type { Observed } from '../observe/index.js';
import type { Private } from '../observe/parse.js';
import { problemAt } from '../spec/load.js';
import { checkSecrets } from '../spec/secret-check.js';
import type { MachineSpec, Spec } from '../spec/types.js';
import { resolveSecret } from '../spec/secrets.js';
import { tokenProblem } from '../spec/token-rule.js';

export const newToken = () => registerSecret(randomBytes(32).toString('base64url'));

export function decideToken(machine: MachineSpec, observed: Private | undefined): { token: string; keepExisting: boolean } {
  const ref = machine.gateway.token;
  if (ref.kind !== 'generate') {
    const token = registerSecret(resolveSecret(ref, `machines.${machine.name}.gateway.token`));
    const problem = tokenProblem(token);
    // preflight reports this with its position; this is the last line of defence for every other caller
    if (problem) throw new InputError([{ file: '', field: `machines.${machine.name}.gateway.token`, message: `the token ${problem}` }]);
    return { token, keepExisting: false };
  }
  if (observed?.token && !tokenProblem(observed.token)) return { token: observed.token, keepExisting: true };
  return { token: newToken(), keepExisting: false };
}

/**
 * Every machine whose config holds a token peer-provision may not keep (and the spec did not consent to
 * replacing), as one InputError: exit 2 before anything is touched, each problem naming the machine, its
 * config and the fix.
 */
export function assertObservedTokensUsable(spec: Spec, observed: Map<string, Observed>): void {
  // env:/file: tokens first (plan gets here without up's preflight), each at its reference in peer.yaml
  const problems: Problem[] = checkSecrets(spec, { requireEnv: true }).problems.filter((p) => p.field.endsWith('.gateway.token'));
  for (const machine of spec.machines) {
    const token = observed.get(machine.name)?.private?.token;
    const ref = machine.gateway.token;
    if (ref.kind !== 'generate' || ref.replaceWeak || token === undefined) continue;
    const problem = tokenProblem(token);
    if (!problem) continue;
    const o = observed.get(machine.name)!;
    const config = (o.observation.status === 'observed' && o.observation.state.gateway.configPath) || 'its OpenClaw config';
    problems.push(
      problemAt(
        spec,
        ['machines', machine.name, 'gateway', 'token'],
        `the gateway token already in ${config} on machine ${machine.name} ${problem}. ` +
          'peer-provision keeps an existing token only when it meets this rule, and replaces one only with your consent ' +
          "(a new token breaks the gateway's other clients). Fix: set gateway.token: generate-replace-weak (a new random token), " +
          'or give a token that meets the rule as env:NAME or file:PATH, or change it in the config yourself. Nothing was changed.',
      ),
    );
  }
  if (problems.length) throw new InputError(problems);
}
