// patch-config: back the config up once, then set peer-provision's keys only (templates/gateway-config.sh, which
// lets OpenClaw's own `config patch` apply and validate them on a copy).

import type { StepInputs } from '../../plan/types.js';
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

/** peer-provision's keys of the gateway config; every other key stays as the user has it. */
export function gatewayPatch(input: StepInputs['patch-config'], token: string): object {
  return { gateway: { mode: 'local', bind: 'tailnet', port: input.port, auth: { mode: 'token', token }, tools: { allow: input.toolsAllow } } };
}

export const patchConfig: Executor<'patch-config'> = {
  title: 'patch the gateway config',
  async run(step, ctx) {
    const run = runOf(step, ctx);
    // keep: the token the gateway has is run.token already (observe read it); set: the one peer.yaml gives or a new one
    await remoteStep(run, this.title, 'gateway-config', {
      STACK: ctx.spec.name,
      CONFIG: step.input.configPath,
      PATCH: JSON.stringify(gatewayPatch(step.input, run.token)),
      EDITED: step.input.edited ? 1 : 0,
    });
    return { written: 'gateway-config' };
  },
};
