// join: `tailscale up` with the key minted for this machine (or the provided one, resolved now); then the node it
// made is checked against the plan: its tags (the key's own, or the ones requested) and its address.
import { advertisesTags } from '../../model/auth-key.js';
import { redact } from '../../model/redact.js';
import { tailscaleState } from '../../observe/tailscale-status.js';
import { stepTitle } from '../../plan/step-kinds.js';
import { decoded } from '../../transport/result.js';
import { remoteStep, stepFailed, stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const join: Executor<'join'> = {
  async run(step, ctx) {
    const run = runOf(step, ctx);
    const minted = step.input.key === 'minted';
    const key = minted ? run.authKey : ctx.tailnet.providedKey(run.machine.name);
    if (!key) throw stepFailed(run, step.kind, 'no auth key was minted for this machine');
    const { values } = await stepScript(run, step, {
      AUTH_KEY: key,
      FORCE_REAUTH: step.input.forceReauth ? 1 : 0,
      HOSTNAME_WANTED: step.input.hostname,
      ADVERTISE_TAGS: advertisesTags(key, minted) ? step.input.tags.join(',') : '',
      LOGIN_SERVER: step.input.loginServer ?? '',
    });
    const node = tailscaleState(decoded(values, 'status_b64') ?? '', true);
    const missing = step.input.tags.filter((t) => !node.tags.includes(t));
    if (missing.length) {
      // an untagged node is not this stack's: the next run would refuse it. Log it out again, so a run with the
      // right key starts from a clean machine.
      await remoteStep(run, stepTitle(step.kind), 'leave', { DETACH: step.input.forceReauth ? 1 : 0, TAGS: '' });
      throw stepFailed(
        run,
        step.kind,
        `the node joined without ${missing.join(', ')} (it has ${node.tags.join(', ') || 'no tags'}), so it was logged out again: ` +
          `the auth key must carry the tags ${step.input.tags.join(', ')} (Tailscale: a tagged key, or an OAuth client with those tags; ` +
          `headscale: headscale preauthkeys create --tags ${step.input.tags.join(',')})`,
      );
    }
    if (values.kept) ctx.say(`${run.machine.name}: kept the Tailscale settings made on this machine: ${redact(values.kept)}`);
    if (!node.ip) throw stepFailed(run, step.kind, `tailscale status shows no IPv4 address (state ${redact(node.backendState ?? 'unknown')})`);
    run.ip = node.ip;
    return {};
  },
};
