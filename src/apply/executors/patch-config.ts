// patch-config: back the config up once, then set peer-provision's settings only (templates/gateway-config.sh, which
// lets OpenClaw's own `config patch` apply and validate them on a copy). Which settings, and their values: one
// module, src/model/gateway-settings.ts.
import { a2aUrl, type PeerLink, settingsPatch } from '../../model/gateway-settings.js';
import type { StepInputs } from '../../plan/step-kinds.js';
import type { MachineRun } from '../context.js';
import { stepFailed, stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

/** The patch for this step: the plan's decisions, with the secrets and the peers' addresses (known now) filled in. */
export function gatewayPatch(input: StepInputs['patch-config'], run: MachineRun, runs: Map<string, MachineRun>): object {
  const peers: Record<string, PeerLink> = {};
  for (const name of input.a2a.peers) {
    const peer = runs.get(name);
    const tokens = run.a2a.get(name);
    if (!peer?.ip || !tokens) throw stepFailed(run, 'patch-config', `peer ${name} has no tailnet address (unreachable, or it failed before joining)`);
    peers[name] = { ...tokens, url: a2aUrl(peer.ip, peer.machine.gateway.port) };
  }
  for (const friend of input.a2a.friends) {
    const tokens = run.a2a.get(friend.name);
    if (!tokens) throw stepFailed(run, 'patch-config', `friend ${friend.name} has no A2A tokens decided`);
    peers[friend.name] = { ...tokens, ...(friend.url ? { url: friend.url } : {}) };
  }
  return settingsPatch({
    port: input.port,
    // keep: the token stays as the config has it (observe read it; it may be a reference); set: the one peer.yaml
    // gives, or a new one
    ...(input.token === 'set' ? { token: run.token } : {}),
    ...(input.toolsAllow !== undefined ? { toolsAllow: input.toolsAllow } : {}),
    ...(input.allowedOrigins ? { allowedOrigins: input.allowedOrigins } : {}),
    rateLimitPerMinute: input.a2a.rateLimitPerMinute,
    ...(input.a2a.exposeAgents ? { exposeAgents: input.a2a.exposeAgents } : {}),
    peers,
    dropPeers: input.a2a.dropPeers,
  });
}

export const patchConfig: Executor<'patch-config'> = {
  async run(step, ctx) {
    const run = runOf(step, ctx);
    await stepScript(run, step, {
      STACK: ctx.spec.name,
      CONFIG: step.input.configPath,
      PATCH: JSON.stringify(gatewayPatch(step.input, run, ctx.runs)),
      EDITED: step.input.edited ? 1 : 0,
      FRIENDS: step.input.a2a.friends.map((f) => f.name).join(' '),
    });
    return { written: 'gateway-config' };
  },
};
