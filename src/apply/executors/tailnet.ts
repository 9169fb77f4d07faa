// The tailnet's steps, on this host through the TailnetSide seam (Pulumi and the Tailscale API in production).
import type { ApplyContext } from '../context.js';
import type { Executor } from './types.js';

const say = (ctx: ApplyContext, lines: string[]) => lines.forEach((l) => ctx.say(`tailnet: ${l}`));

export const mergePolicy: Executor<'merge-policy'> = {
  title: 'tailnet: write policy entries',
  async run(step, ctx) {
    say(ctx, await ctx.tailnet.writePolicy(new Set(step.input.testsFor), step.input.policyHash));
  },
};

export const mintKeys: Executor<'mint-keys'> = {
  title: 'tailnet: mint auth keys (Pulumi)',
  async run(step, ctx) {
    const keys = await ctx.tailnet.mintKeys(step.input.machines);
    for (const [name, key] of keys) {
      const run = ctx.runs.get(name);
      if (run) run.authKey = key;
    }
  },
};

export const revokeKeys: Executor<'revoke-keys'> = {
  title: 'tailnet: revoke keys',
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.revokeKeys());
  },
};

export const removeDevices: Executor<'remove-devices'> = {
  title: 'tailnet: remove devices',
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.removeDevices());
  },
};

export const removePolicy: Executor<'remove-policy'> = {
  title: 'tailnet: remove policy entries',
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.removePolicy());
  },
};
