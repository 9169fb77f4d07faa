// install-tailscale: the install script (Linux, https only) or Homebrew (macOS), by templates/install-tailscale.sh.
import { stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const installTailscale: Executor<'install-tailscale'> = {
  async run(step, ctx) {
    await stepScript(runOf(step, ctx), step, { OS: step.input.os, INSTALL_URL: step.input.installUrl });
    return {};
  },
};
