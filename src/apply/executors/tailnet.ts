// The tailnet's steps, on this host through the TailnetSide seam (Pulumi and the Tailscale API in production).
import type { ApplyContext } from '../context.js';
import type { Executor } from './types.js';

const say = (ctx: ApplyContext, lines: string[]) => {
  for (const l of lines) ctx.say(`tailnet: ${l}`);
};

export const mergePolicy: Executor<'merge-policy'> = {
  async run(step, ctx) {
    say(ctx, await ctx.tailnet.writePolicy(new Set(step.input.testsFor), step.input.policyHash));
    return {};
  },
};

export const mintKeys: Executor<'mint-keys'> = {
  async run(step, ctx) {
    const keys = await ctx.tailnet.mintKeys(step.input.machines);
    for (const [name, key] of keys) {
      const run = ctx.runs.get(name);
      if (run) run.authKey = key;
    }
    return {};
  },
};

export const revokeKeys: Executor<'revoke-keys'> = {
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.revokeKeys());
    return {};
  },
};

export const removeDevices: Executor<'remove-devices'> = {
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.removeDevices());
    return {};
  },
};

export const removePolicy: Executor<'remove-policy'> = {
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.removePolicy());
    return {};
  },
};
