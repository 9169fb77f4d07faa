// join: `tailscale up` with the key minted for this machine (or the provided one, resolved now), then its address.
import { StepError } from '../../errors.js';
import { redact } from '../../output/redact.js';
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const join: Executor<'join'> = {
  title: 'join the tailnet',
  async run(step, ctx) {
    const run = runOf(step, ctx);
    const key = run.authKey ?? (ctx.spec.tailnet.provider === 'provided' ? ctx.tailnet.providedKey(run.machine.name) : undefined);
    if (!key) throw new StepError(run.machine.name, this.title, 'no auth key was minted or given for this machine');
    const { values } = await remoteStep(run, this.title, 'join', {
      AUTH_KEY: key,
      FORCE_REAUTH: step.input.forceReauth ? 1 : 0,
      HOSTNAME_WANTED: step.input.hostname,
      TAGS: step.input.tags.join(','),
    });
    const ip = values.ip;
    if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip))
      throw new StepError(run.machine.name, this.title, `tailscale ip -4 printed no IPv4 address${ip ? ` (${redact(ip)})` : ''}`);
    run.ip = ip;
    return {};
  },
};
