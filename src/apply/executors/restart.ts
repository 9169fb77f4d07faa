// restart: through the service manager (bind and port are read only when a gateway starts), then wait until
// /health answers where the plan says: the tailnet address after up, loopback after down.
import { stepFailed, stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

const RESTART_TIMEOUT_SECONDS = 120;

export const restart: Executor<'restart'> = {
  async run(step, ctx) {
    const run = runOf(step, ctx);
    const listenIp = step.input.listen === 'loopback' ? '127.0.0.1' : run.ip;
    if (!listenIp) throw stepFailed(run, step.kind, 'the machine has no tailnet address to wait on');
    const { values } = await stepScript(run, step, {
      SERVICE: step.input.serviceManager,
      RESTART_CMD: step.input.command,
      OLD_PID: step.input.oldPid,
      PORT: step.input.port,
      LISTEN_IP: listenIp,
      TIMEOUT: RESTART_TIMEOUT_SECONDS,
    });
    run.state.gateway.pid = Number(values.pid) || undefined;
    return { restarted: true };
  },
};
