// What up and rotate share: observe, check, plan, ask, apply, verify (rotate asks for new A2A tokens).

import { lockStack } from '../apply/lock.js';
import { runPlan } from '../apply/run-plan.js';
import { tailnetSide } from '../apply/tailnet-side.js';
import { EXIT, PeerProvisionError } from '../errors.js';
import { interrupted } from '../interrupt.js';
import { confirm } from '../output/confirm.js';
import { stderr } from '../output/io.js';
import { renderPlan } from '../output/render-plan.js';
import { renderSummary } from '../output/summary.js';
import type { View } from '../output/view.js';
import type { Spec } from '../peer-yaml/types.js';
import type { NodeKeys } from '../plan/machine.js';
import { isEmpty, type Plan } from '../plan/types.js';
import type { CommonOptions } from '../program.js';
import { Transport } from '../transport/remote.js';
import { type CheckResult, renderChecks, verify } from '../verify/index.js';
import { prepare } from './prepare.js';
import { BlockedError, localBlockers, refuseBadInput, removeEmptyStateFolders, specForPlanning } from './readiness.js';
import { checkNotStale } from './saved-plan.js';
import { outsideOf, restrictPlan, restrictSpec, targeted, targetSet } from './targets.js';
import { endpoints, verifyAfterApply } from './verify-peers.js';

/** saved: a plan saved with `plan --out` (applied when still the fresh one); nodeKeys: what to do about node key expiry. */
export interface ApplyExtra {
  saved?: { plan: Plan; file: string };
  nodeKeys?: Omit<NodeKeys, 'provider'>;
  /** rotate: every A2A peer token new. */
  newA2aTokens?: boolean;
}

export interface UpOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  allowLocalState?: boolean;
  machine?: string[];
}

/**
 * up itself, and rotate (new A2A tokens, node keys re-keyed): observe, check, plan, ask, apply, verify.
 * `command` names the run in the lock, messages and refusals.
 */
export async function apply(spec: Spec, options: UpOptions, command: 'up' | 'rotate', view: View, extra: ApplyExtra = {}): Promise<number> {
  const { saved, nodeKeys, newA2aTokens } = extra;
  const only = targetSet(spec, options.machine);
  const outside = outsideOf(spec, only);
  // Everything this side needs (secrets, the Pulumi CLI, credentials, where the state goes), all at once.
  const local = await localBlockers(spec, { secrets: true, ciState: { allowLocalState: Boolean(options.allowLocalState) } });
  refuseBadInput(spec, local);
  // With a local problem up will refuse anyway: observe (read-only) to report the machines too, without the lock.
  const unlock = local.length > 0 ? () => undefined : lockStack(spec, command);
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  let refused = false;
  try {
    // machines outside --machine get no key: they count as joined for the tailnet plan
    const prepared = await prepare(local.length > 0 ? specForPlanning(spec, local) : spec, 'up', transport, { local, outside, nodeKeys, newA2aTokens });
    const fresh = restrictPlan(prepared.plan, only);
    const plan = saved ? checkNotStale(saved.plan, fresh, saved.file) : fresh;
    const checked = restrictSpec(spec, only); // verify: the pairs among the targeted machines
    const runs = prepared.runs;
    view.emit({ event: 'plan', plan });
    view.print(renderPlan(plan));
    if (plan.blockers.length > 0) {
      refused = true;
      throw new BlockedError(
        command,
        plan.blockers,
        targeted(plan).filter((m) => m.observed === 'unreachable'),
      );
    }
    const unreachable = targeted(plan).filter((m) => m.observed === 'unreachable');
    const summary = (checks: CheckResult[]) =>
      renderSummary(
        checked.machines.map((m) => ({
          machine: m.name,
          ip: runs.get(m.name)?.ip,
          port: m.gateway.port,
          skipped: unreachable.find((u) => u.machine === m.name) ? 'unreachable' : undefined,
        })),
        checks,
      );
    if (unreachable.length === targeted(plan).length) {
      throw new PeerProvisionError(`no machine could be reached:\n${unreachable.map((m) => `  - ${m.machine}: ${m.reason}`).join('\n')}`);
    }

    if (isEmpty(plan)) {
      // Converged: nothing to write, nothing to restart. Still prove the peers can reach each other
      // (health and token checks; no message, so a converged run never wakes an agent).
      const checks = await verify(checked, endpoints(runs), false);
      for (const c of checks) view.emit({ event: 'check', ...c });
      const failed = checks.filter((c) => !c.ok);
      view.print(
        `\nNo changes. ${checks.length - failed.length} of ${checks.length} checks passed.\n${failed.length ? renderChecks(failed) : ''}\n${summary(checks)}`,
      );
      view.emit({
        event: 'result',
        changed: false,
        ok: failed.length === 0,
        exitCode: failed.length ? EXIT.failure : EXIT.ok,
        restarted: [],
        written: [],
        transport: transport.stats(),
      });
      return failed.length ? EXIT.failure : EXIT.ok;
    }
    if (interrupted()) {
      stderr('Interrupted before anything was changed.\n');
      view.emit({ event: 'result', changed: false, ok: false, exitCode: EXIT.interrupted, interrupted: true, transport: transport.stats() });
      return EXIT.interrupted;
    }
    if (!saved && !(await confirm('Apply this plan?', options))) {
      stderr('Nothing applied.\n');
      return EXIT.failure; // declined, as terraform's "Apply cancelled": a script must not read it as applied
    }
    const ctx = { spec, runs, tailnet: await tailnetSide(spec), say: (line: string) => stderr(`${line}\n`) };
    const result = await runPlan(plan, ctx, { renderer: view.renderer, events: view });
    const checks = await verifyAfterApply(checked, runs, view, view.renderer, result.stopped);
    const failedChecks = checks.filter((c) => !c.ok);
    const problems = [
      ...unreachable.map((m) => `${m.machine}: unreachable, skipped: ${m.reason}`),
      ...result.failures.map((f) => f.message),
      ...failedChecks.map((c) => `verify ${c.from} -> ${c.to} ${c.check}: ${c.detail}`),
    ];
    view.emit({
      event: 'result',
      changed: result.done > 0,
      ok: problems.length === 0 && !interrupted(),
      exitCode: interrupted() ? EXIT.interrupted : problems.length ? EXIT.failure : EXIT.ok,
      restarted: result.restarted,
      written: result.written,
      problems,
      transport: transport.stats(),
    });
    view.print(`\n${checks.length ? `Verify:\n${renderChecks(checks)}` : ''}`);
    view.print(`\n${summary(checks)}`);
    view.print(
      problems.length
        ? `\n${command} finished with problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRe-run ${command} to resume.\n`
        : `\n${command} complete: every peer pair verified.\n`,
    );
    if (interrupted()) {
      stderr(`Interrupted: the steps that were running finished; nothing else was started. Re-run ${command} to resume.\n`);
      return EXIT.interrupted;
    }
    return problems.length ? EXIT.failure : EXIT.ok;
  } finally {
    await transport.close();
    unlock();
    if (refused) removeEmptyStateFolders(spec);
  }
}
