// apply for `up`: the plan's steps on every machine, machines concurrently, each machine's chain in order
// (install -> join -> gateway config -> restart), then peer files (they need every peer's address), then
// verify. A machine whose step fails stops at that step; the others go on.
import { Listr, type ListrTask } from 'listr2';
import type { Spec } from '../peer-yaml/types.js';
import { verify, type CheckResult, type VerifyEndpoint } from '../verify/index.js';
import { has, peerInfos, type MachineRun } from './context.js';
import { peerFilesFor, configureGateway, installTailscale, join, restartGateway, writePeerFiles } from './steps.js';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import { listrOptions, machineStep, machineTitle, type Renderer } from './tasks.js';

export interface ApplyOptions {
  /**
   * The tailnet side: keys for the machines that have to join, minted (pulumi, which also writes this
   * stack's policy entries) or resolved (provided). Runs when a machine has to join or the plan changes
   * the tailnet (a policy change alone).
   */
  authKeys: (machines: string[], rekeyed: string[]) => Promise<Map<string, string>>;
  tailnetChanges: boolean;
  renderer: Renderer;
  events: Events;
  /**
   * --machine: only these machines are worked on and verify checks the pairs among them (verifySpec); the
   * others stay in `runs` only so that peer files can name them.
   */
  only?: Set<string>;
  verifySpec?: Spec;
}

export interface ApplyResult {
  failures: Error[];
  checks: CheckResult[];
  restarted: string[];
  /** What was written where: "m1 gateway-config", "m2 peer-files". */
  written: string[];
}

export async function applyUp(spec: Spec, runs: Map<string, MachineRun>, options: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { failures: [], checks: [], restarted: [], written: [] };
  const list = [...runs.values()].filter((run) => !options.only || options.only.has(run.machine.name));
  const step = (run: MachineRun, name: string, enabled: boolean, work: () => Promise<void>) =>
    machineStep(run, name, enabled, work, { events: options.events, failures: result.failures });

  let keys = new Map<string, string>();
  const needKeys = list.filter((r) => has(r, 'tailnet-node'));
  const tasks = new Listr(
    [
      {
        title: spec.tailnet.provider === 'pulumi' ? 'tailnet: mint auth keys, write policy entries (Pulumi)' : 'tailnet: read the provided auth keys',
        enabled: () => needKeys.length > 0 || options.tailnetChanges,
        skip: () => (interrupted() ? 'skipped: interrupted' : false),
        task: async () => {
          try {
            // re-keyed machines are on the tailnet already (they have an address): they keep their policy tests
            keys = await options.authKeys(needKeys.map((r) => r.machine.name), needKeys.filter((r) => r.ip).map((r) => r.machine.name));
          } catch (error) {
            result.failures.push(error as Error);
            throw error;
          }
          for (const run of needKeys) run.authKey = keys.get(run.machine.name);
        },
      },
      {
        title: 'machines',
        task: (_, task) =>
          task.newListr(
            list.map((run): ListrTask => ({
              title: machineTitle(run),
              task: (_, machineTask) =>
                machineTask.newListr(
                  [
                    step(run, 'install Tailscale', has(run, 'tailscale-install'), () => installTailscale(run)),
                    step(run, run.actions.some((a) => a.rekey) ? 're-key the node' : 'join the tailnet', has(run, 'tailnet-node'), () => join(run)),
                    step(run, 'patch the gateway config', has(run, 'gateway-config'), async () => {
                      await configureGateway(run);
                      result.written.push(`${run.machine.name} gateway-config`);
                    }),
                    step(run, 'restart the gateway', has(run, 'gateway-restart'), async () => {
                      await restartGateway(run);
                      result.restarted.push(run.machine.name);
                    }),
                  ],
                  { concurrent: false, exitOnError: true },
                ),
            })),
            { concurrent: true, exitOnError: false },
          ),
      },
      {
        title: 'peer files',
        task: (_, task) =>
          task.newListr(
            list.map((run) => {
              const peers = () => peerInfos(spec, runs, run.machine.name);
              return step(run, `${run.machine.name}: peer files`, true, async () => {
                const infos = peers();
                if (!infos) throw new Error(`${run.machine.name}: peer files: a peer failed before it had a tailnet address`);
                if (peerFilesFor(run, infos).digest === run.state.peerFilesHash) return;
                await writePeerFiles(run, infos);
                result.written.push(`${run.machine.name} peer-files`);
              });
            }),
            { concurrent: true, exitOnError: false },
          ),
      },
      {
        title: 'verify: health, token enforced, a message delivered',
        skip: () => (interrupted() ? 'skipped: interrupted' : false),
        task: async (_, task) => {
          result.checks = await verify(options.verifySpec ?? spec, endpoints(runs), true, (machine, status) =>
            options.events.emit({ event: 'step', machine, step: 'verify its peers', status }),
          );
          const failed = result.checks.filter((c) => !c.ok);
          for (const c of result.checks) options.events.emit({ event: 'check', ...c });
          if (failed.length > 0) throw new Error(`${failed.length} of ${result.checks.length} checks failed`);
          task.title = `verify: ${result.checks.length} checks passed`;
        },
      },
    ],
    listrOptions(options.renderer),
  );
  await tasks.run().catch(() => undefined); // failures are collected above; listr has shown them
  return result;
}

export function endpoints(runs: Map<string, MachineRun>): Map<string, VerifyEndpoint> {
  return new Map(
    [...runs.values()].map((run) => [
      run.machine.name,
      {
        remote: run.remote,
        ip: run.ip,
        port: run.machine.gateway.port,
        peerDir: run.state.gateway.configPath ? peerFilesFor(run, []).ownedDirs[0] : undefined,
      },
    ]),
  );
}
