// up's last word and the verify command's only one: from each machine to each peer, over the tailnet.
import { Listr } from 'listr2';
import type { MachineRun } from '../apply/context.js';
import { listrOptions, type Renderer } from '../apply/tasks.js';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import type { Spec } from '../peer-yaml/types.js';
import { type CheckResult, type VerifyEndpoint, verify } from '../verify/index.js';

export function endpoints(runs: Map<string, MachineRun>): Map<string, VerifyEndpoint> {
  return new Map(
    [...runs.values()].map((run) => [
      run.machine.name,
      {
        remote: run.remote,
        ip: run.ip,
        port: run.machine.gateway.port,
        configPath: run.state.gateway.configPath,
        // what this run wrote (or found in place): the token this machine presents to each peer
        outbound: new Map([...run.a2a].map(([peer, t]) => [peer, t.outboundToken])),
        friends: run.friends,
      },
    ]),
  );
}

/**
 * After apply: every check (a message too), with progress, and the security audit of each machine whose config the
 * run wrote or put in effect (`configChanged`: nothing new to audit on the others); none when interrupted, or when every machine
 * stopped short (`stopped`: their steps failed or were skipped): no pair could pass, and the audits would only cost time.
 */
export async function verifyAfterApply(
  spec: Spec,
  runs: Map<string, MachineRun>,
  events: Events,
  renderer: Renderer,
  stopped: ReadonlyMap<string, string> = new Map(),
  configChanged: ReadonlySet<string> = new Set(runs.keys()),
): Promise<CheckResult[]> {
  let checks: CheckResult[] = [];
  const task = new Listr(
    [
      {
        title: 'verify: agent card, tokens enforced and accepted, a message delivered, security audit',
        skip: () =>
          interrupted() ? 'skipped: interrupted' : spec.machines.every((m) => stopped.has(m.name)) ? 'skipped: no machine got through its steps' : false,
        task: async (_, wrapper) => {
          const progress = (machine: string, status: 'start' | 'done') => events.emit({ event: 'step', machine, step: 'verify its peers', status });
          checks = await verify(spec, endpoints(runs), true, progress, (machine) => configChanged.has(machine));
          for (const c of checks) events.emit({ event: 'check', ...c });
          const failed = checks.filter((c) => !c.ok);
          if (failed.length > 0) throw new Error(`${failed.length} of ${checks.length} checks failed`);
          wrapper.title = `verify: ${checks.length} checks passed`;
        },
      },
    ],
    listrOptions(renderer),
  );
  await task.run().catch(() => undefined); // the failed checks are reported with the result
  return checks;
}
