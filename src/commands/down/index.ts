import { lockStack } from '../../apply/lock.js';
import { runPlan } from '../../apply/run-plan.js';
import { tailnetPreflightDown, tailnetSide } from '../../apply/tailnet-side.js';
import { EXIT, PeerProvisionError, UsageError } from '../../errors.js';
import { interrupted } from '../../interrupt.js';
import { confirm } from '../../output/confirm.js';
import { stderr } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import { isEmpty } from '../../plan/types.js';
import type { CommonOptions } from '../../program.js';
import { Transport } from '../../transport/remote.js';
import { prepare } from '../prepare.js';
import { BlockedError, localBlockers, removeEmptyStateFolders } from '../readiness.js';
import { checkNotStale, readPlanFile } from '../saved-plan.js';
import { restrictPlan, targeted, targetSet } from '../targets.js';

interface DownOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  machine?: string[];
}

/** `planFile`: a plan saved with `plan --for down --out`; the fresh plan runs (without asking) when it is still that one. */
export async function run(options: DownOptions & { planFile?: string }, view: View): Promise<number> {
  const planFile = options.planFile;
  const saved = planFile ? readPlanFile(planFile, 'down') : undefined;
  if (saved && options.machine?.length)
    throw new UsageError('--machine cannot be given with a saved plan: the plan names its machines', 'make the plan with --machine instead');
  const spec = loadSpec(options.file);
  const only = targetSet(spec, saved?.targets ?? options.machine); // --machine: those machines only, and the tailnet is left alone
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
  const unlock = lockStack(spec, 'down');
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  let refused = false;
  try {
    const prepared = await prepare(spec, 'down', transport, { local });
    const fresh = restrictPlan(prepared.plan, only);
    const plan = saved ? checkNotStale(saved, fresh, planFile!) : fresh;
    const runs = new Map([...prepared.runs].filter(([name]) => !only || only.has(name)));
    view.emit({ event: 'plan', plan });
    view.print(renderPlan(plan));
    if (plan.blockers.length > 0) {
      refused = true;
      throw new BlockedError(
        'down',
        plan.blockers,
        targeted(plan).filter((m) => m.observed === 'unreachable'),
      );
    }
    const unreachable = targeted(plan).filter((m) => m.observed === 'unreachable');
    const machineWork = plan.machines.some((m) => m.actions.some((a) => a.op !== 'unknown'));
    // the plan says whether the tailnet has work (none with provider provided, none with --machine)
    if (!machineWork && plan.tailnet.actions.length === 0) {
      view.print(
        unreachable.length ? '\nNothing to do on the machines that could be reached.\n' : '\nNothing to do: peer-provision has nothing on these machines.\n',
      );
      view.emit({
        event: 'result',
        changed: false,
        ok: unreachable.length === 0,
        exitCode: unreachable.length ? EXIT.failure : EXIT.ok,
        unreachable: unreachable.map((m) => m.machine),
        transport: transport.stats(),
      });
      return unreachable.length ? EXIT.failure : EXIT.ok;
    }
    if (interrupted()) {
      stderr('Interrupted before anything was changed.\n');
      view.emit({ event: 'result', changed: false, ok: false, exitCode: EXIT.interrupted, interrupted: true, transport: transport.stats() });
      return EXIT.interrupted;
    }
    if (!saved && !isEmpty(plan) && !(await confirm('Tear down?', options))) {
      stderr('Nothing changed.\n');
      return EXIT.failure; // declined, as terraform's "Destroy cancelled": a script must not read it as done
    }
    if (only) stderr('tailnet: left as it is (--machine): only a down of the whole stack revokes keys and removes devices\n');
    const ctx = { spec, runs, tailnet: await tailnetSide(spec), say: (line: string) => stderr(`${line}\n`) };
    const result = await runPlan(plan, ctx, { renderer: view.renderer, events: view });
    const problems = [...unreachable.map((m) => `${m.machine}: unreachable, skipped: ${m.reason}`), ...result.failures.map((f) => f.message)];
    view.emit({
      event: 'result',
      changed: result.done > 0,
      ok: problems.length === 0 && !interrupted(),
      exitCode: interrupted() ? EXIT.interrupted : problems.length ? EXIT.failure : EXIT.ok,
      problems,
      transport: transport.stats(),
    });
    view.print(
      problems.length ? `\ndown finished with problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRe-run down to finish.\n` : '\ndown complete.\n',
    );
    if (interrupted()) {
      stderr('Interrupted: the steps that were running finished; nothing else was started. Re-run down to finish.\n');
      return EXIT.interrupted;
    }
    return problems.length ? EXIT.failure : EXIT.ok;
  } finally {
    await transport.close();
    unlock();
    if (refused) removeEmptyStateFolders(spec);
  }
}
