// A gateway token found in a machine's config that breaks the token rule is never kept: with `generate` (keep the
// gateway's token) that blocks up, unless the spec says generate-replace-weak (the user's consent: replacing it breaks
// the gateway's other clients). Observe says why the token breaks the rule (state.gateway.tokenProblem), never the token.
import type { MachineState } from '../../observe/types.js';
import type { MachineSpec } from '../../peer-yaml/types.js';
import type { Blocker } from '../types.js';

export function weakTokenBlockers(machine: MachineSpec, state: MachineState): Blocker[] {
  const ref = machine.gateway.token;
  const problem = state.gateway.tokenProblem;
  if (ref.kind !== 'generate' || ref.replaceWeak || !problem) return [];
  const config = state.gateway.configPath || 'its OpenClaw config';
  return [
    {
      reason:
        `the gateway token already in ${config} ${problem}. peer-provision keeps an existing token only when it meets this rule, ` +
        "and replaces one only with your consent (a new token breaks the gateway's other clients)",
      fix:
        `set machines.${machine.name}.gateway.token: generate-replace-weak (a new random token), or give a token that meets the rule ` +
        'as env:NAME or file:PATH, or change it in the config yourself',
    },
  ];
}
