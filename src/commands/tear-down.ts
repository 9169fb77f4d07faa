// down's pipeline, for down itself and for leave (the friend's side: a down of this one machine): each config put
// back, the gateways restarted on loopback, the tailnet left; then the stack's keys, devices and policy entries removed.
import { tailnetPreflightDown } from '../apply/tailnet-side.js';
import { stderr } from '../console/io.js';
import { EXIT, PeerProvisionError } from '../errors.js';
import type { View } from '../output/view.js';
import type { Spec } from '../peer-yaml/types.js';
import type { CommonOptions } from '../program.js';
import { runChange } from './change-pipeline.js';
import { observeAndPlan } from './observe-and-plan.js';
import { BlockedError, localBlockers } from './preflight.js';
import type { SavedPlan } from './saved-plan.js';

export interface DownOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  machine?: string[];
}

/** only: --machine (the tailnet is then left alone); saved: a plan saved with `plan --for down --out`; afterDone: once all went well. */
export async function tearDown(
  spec: Spec,
  options: DownOptions,
  view: View,
  extra: { only?: Set<string>; saved?: SavedPlan; name?: 'down' | 'leave'; afterDone?: () => void } = {},
): Promise<number> {
  const { only, saved } = extra;
  const name = extra.name ?? 'down';
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
  if (local.length > 0) throw new BlockedError(name, local);
  const code = await runChange(
    spec,
    {
      name,
      lock: true,
      question: name === 'leave' ? 'Leave?' : 'Tear down?',
      declined: 'Nothing changed.', // as terraform's "Destroy cancelled"
      rerun: 'finish',
      complete: `${name} complete.`,
      only,
      saved,
      async prepare(transport) {
        const observed = await observeAndPlan(spec, 'down', transport, { local });
        return { ...observed, runs: new Map([...observed.runs].filter(([machine]) => !only || only.has(machine))) };
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
  if (code === EXIT.ok) extra.afterDone?.();
  return code;
}
