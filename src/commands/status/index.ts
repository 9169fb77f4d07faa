import { EXIT } from '../../errors.js';
import { observeAll } from '../../observe/index.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { isJoined } from '../../plan/node.js';
import type { CommonOptions } from '../../program.js';
import { Transport } from '../../transport/remote.js';
import { observedEndpoints, verify } from '../../verify/index.js';
import { restrictSpec, targetSet } from '../targets.js';

interface StatusOptions extends CommonOptions {
  acceptNewHostKeys?: boolean;
  machine?: string[];
}

export async function run(options: StatusOptions, view: View): Promise<number> {
  const whole = loadSpec(options.file);
  const spec = restrictSpec(whole, targetSet(whole, options.machine)); // --machine: those machines and the pairs among them
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    const observed = await observeAll(spec, transport);
    const endpoints = observedEndpoints(spec, transport, observed);
    const checks = await verify(spec, endpoints, false);
    const rows = spec.machines.map((machine) => {
      const o = observed.get(machine.name)!;
      if (o.observation.status !== 'observed')
        return { machine: machine.name, reachable: false as const, reason: o.observation.status === 'unreachable' ? o.observation.reason : undefined };
      const s = o.observation.state;
      const mine = checks.filter((c) => c.from === machine.name);
      const peers = [...new Set(mine.map((c) => c.to))].map((to) => ({ peer: to, reachable: mine.filter((c) => c.to === to).every((c) => c.ok) }));
      return {
        machine: machine.name,
        reachable: true as const,
        joined: isJoined(machine, s),
        tailnetIp: s.tailscale.ip ?? null,
        gateway: {
          bind: s.gateway.bind ?? null,
          port: s.gateway.port ?? null,
          auth: s.gateway.authMode ?? null,
          pid: s.gateway.pid ?? null,
          listening: s.gateway.listening,
        },
        healthy: checks.some((c) => c.to === machine.name && c.check === 'agent-card' && c.ok),
        peers,
      };
    });
    view.document({ format: 'peer-provision/status@1', stack: spec.name, machines: rows }, () => {
      const lines = rows.map((r) =>
        !r.reachable
          ? `${r.machine}: unreachable (${'reason' in r ? r.reason : ''})`
          : `${r.machine}: ${'joined' in r && r.joined ? `joined ${r.tailnetIp}` : 'not joined'}; gateway bind ${r.gateway?.bind ?? '-'} port ${r.gateway?.port ?? '-'} auth ${r.gateway?.auth ?? '-'}; ${r.healthy ? 'healthy from its peers' : 'not reachable from its peers'}; peers: ${r.peers?.map((p) => `${p.peer} ${p.reachable ? 'ok' : 'unreachable'}`).join(', ') || '-'}`,
      );
      return lines.join('\n') + '\n';
    });
    return rows.every((r) => r.reachable) ? EXIT.ok : EXIT.failure;
  } finally {
    await transport.close();
  }
}
