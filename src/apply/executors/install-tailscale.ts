// install-tailscale: the install script (Linux, https only) or Homebrew (macOS), by templates/install-tailscale.sh.
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const installTailscale: Executor<'install-tailscale'> = {
  title: 'install Tailscale',
  async run(step, ctx) {
    await remoteStep(runOf(step, ctx), this.title, 'install-tailscale', { OS: step.input.os, INSTALL_URL: step.input.installUrl });
    return {};
  },
};
