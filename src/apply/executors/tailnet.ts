// The tailnet's steps, on this host through the TailnetSide seam (Pulumi and the Tailscale API in production).
import { friendKeyOutput } from '../../plan/step-kinds.js';
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
    const friends = step.input.friends ?? [];
    const keys = await ctx.tailnet.mintKeys(step.input.machines, friends);
    for (const name of step.input.machines) {
      const run = ctx.runs.get(name);
      if (run) run.authKey = keys.get(name);
    }
    for (const { friend } of friends) {
      const key = keys.get(friendKeyOutput(friend));
      if (key) ctx.friendKeys.set(friend, key);
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

export const removeFriendDevices: Executor<'remove-friend-devices'> = {
  async run(step, ctx) {
    say(ctx, await ctx.tailnet.removeFriendDevices(step.input.friends));
    return {};
  },
};

export const removePolicy: Executor<'remove-policy'> = {
  async run(_step, ctx) {
    say(ctx, await ctx.tailnet.removePolicy());
    return {};
  },
};
