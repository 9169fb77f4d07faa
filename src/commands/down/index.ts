// peer-provision down [PLAN]: the change pipeline (../change-pipeline.ts) with down's plan: each config put back,
// the gateways restarted on loopback, the tailnet left; then the stack's keys, devices and policy entries removed.
import { tailnetPreflightDown } from '../../apply/tailnet-side.js';
import { stderr } from '../../console/io.js';
import { EXIT, PeerProvisionError } from '../../errors.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';
import { runChange } from '../change-pipeline.js';
import { observeAndPlan } from '../observe-and-plan.js';
import { BlockedError, localBlockers } from '../preflight.js';
import { savedPlanArgs } from '../saved-plan.js';
import { targetSet } from '../targets.js';

interface DownOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  machine?: string[];
}

/** `planFile`: a plan saved with `plan --for down --out`; the fresh plan runs (without asking) when it is still that one. */
export async function run(options: DownOptions & { planFile?: string }, view: View): Promise<number> {
  const { saved, machine } = savedPlanArgs(options.planFile, 'down', options.machine);
  const spec = loadSpec(options.file);
  const only = targetSet(spec, machine); // --machine: those machines only, and the tailnet is left alone
  // provider pulumi: the CLI and plugin, the credentials and an existing stack's passphrase are needed to revoke;
  // all checked (and reported together) before any machine is touched. Not with --machine: the tailnet stays.
  const local = await localBlockers(spec, { secrets: false, tailnet: !only });
  if (local.length === 0 && !only) {
    try {
      await tailnetPreflightDown(spec);
    } catch (error) {
      if (!(error instanceof PeerProvisionError)) throw error;
      local.push({ where: 'tailnet', kind: 'tool', reason: error.message, fix: error.hint ?? 'see docs/tailnet.md' });
    }
  }
  // Unlike up, down stops here: with the tailnet side unable to revoke, it does not even observe the machines.
  if (local.length > 0) throw new BlockedError('down', local);
  return runChange(
    spec,
    {
      name: 'down',
      lock: true,
      question: 'Tear down?',
      declined: 'Nothing changed.', // as terraform's "Destroy cancelled"
      rerun: 'finish',
      complete: 'down complete.',
      only,
      saved,
      async prepare(transport) {
        const observed = await observeAndPlan(spec, 'down', transport, { local });
        return { ...observed, runs: new Map([...observed.runs].filter(([name]) => !only || only.has(name))) };
      },
      async nothingToDo({ plan, unreachable, transport }) {
        // the plan says whether the tailnet has work (none with provider provided, none with --machine)
        const machineWork = plan.machines.some((m) => m.actions.some((a) => a.op !== 'unknown'));
        if (machineWork || plan.tailnet.actions.length > 0) return undefined;
        const exitCode = unreachable.length ? EXIT.failure : EXIT.ok;
        view.tell(
          {
            event: 'result',
            changed: false,
            ok: unreachable.length === 0,
            exitCode,
            unreachable: unreachable.map((m) => m.machine),
            transport: transport.stats(),
          },
          unreachable.length ? '\nNothing to do on the machines that could be reached.\n' : '\nNothing to do: peer-provision has nothing on these machines.\n',
        );
        return exitCode;
      },
      beforeRun() {
        if (only) stderr('tailnet: left as it is (--machine): only a down of the whole stack revokes keys and removes devices\n');
      },
    },
    options,
    view,
  );
}
