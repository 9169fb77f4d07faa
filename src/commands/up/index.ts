import type { CommonOptions } from '../../cli.js';
import { EXIT, PeerProvisionError } from '../../errors.js';
import { lockStack } from '../../apply/lock.js';
import { prepareUp } from '../../apply/prepare.js';
import { authKeys } from '../../apply/tailnet.js';
import { applyUp, endpoints } from '../../apply/up.js';
import { interrupted } from '../../interrupt.js';
import { confirm } from '../../output/confirm.js';
import { jsonEvents, noEvents } from '../../output/events.js';
import { stderr, stdout } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import { withBlockers } from '../../plan/index.js';
import { isEmpty } from '../../plan/types.js';
import { DEFAULT_REKEY_WINDOW_SECONDS, type NodeKeys } from '../../plan/machine.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { Spec } from '../../peer-yaml/types.js';
import { Transport } from '../../transport/remote.js';
import { renderChecks, verify, type CheckResult } from '../../verify/index.js';
import { renderSummary } from '../../output/summary.js';
import { outsideOf, restrictPlan, restrictSpec, targeted, targetSet } from '../targets.js';
import { BlockedError, refuseBadInput, localBlockers, removeEmptyStateFolders, planTailnet, specForPlanning } from '../readiness.js';
import { rendererFor } from '../shared.js';

export interface UpOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  allowLocalState?: boolean;
  machine?: string[];
}

export async function run(options: UpOptions): Promise<number> {
  // up re-keys only an expired node (it has to join again anyway); a key near expiry is a note suggesting rotate
  return apply(loadSpec(options.file), options, 'up', { now: Date.now(), windowSeconds: DEFAULT_REKEY_WINDOW_SECONDS, rekey: false });
}

/**
 * up itself, and rotate (which hands in a spec whose tokens are new): observe, check, plan, ask, apply, verify.
 * `command` names the run in the lock, messages and refusals.
 */
export async function apply(spec: Spec, options: UpOptions, command: 'up' | 'rotate', nodeKeys?: Omit<NodeKeys, 'provider'>): Promise<number> {
  const only = targetSet(spec, options.machine);
  const outside = outsideOf(spec, only);
  // Everything this side needs (secrets, the Pulumi CLI, credentials, where the state goes), all at once.
  const local = await localBlockers(spec, { pulumi: 'version', secrets: true, ciState: { allowLocalState: Boolean(options.allowLocalState) } });
  refuseBadInput(spec, local);
  // With a local problem up will refuse anyway: observe (read-only) to report the machines too, without the lock.
  const unlock = local.length > 0 ? () => undefined : lockStack(spec, command);
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  const events = options.json ? jsonEvents() : noEvents;
  let refused = false;
  try {
    // machines outside --machine get no key: they count as joined for the tailnet plan
    const tailnet = (joined: Set<string>, rekey: Set<string>) =>
      planTailnet(spec, local, new Set([...joined, ...outside]), new Set([...rekey].filter((m) => !outside.includes(m))));
    const prepared = await prepareUp(local.length > 0 ? specForPlanning(spec, local) : spec, transport, tailnet, nodeKeys);
    const plan = restrictPlan(withBlockers(prepared.plan, local), only);
    const checked = restrictSpec(spec, only); // verify: the pairs among the targeted machines
    const runs = prepared.runs;
    events.emit({ event: 'plan', plan });
    if (!options.json) stdout(renderPlan(plan));
    if (plan.blockers.length > 0) {
      refused = true;
      throw new BlockedError(command, plan.blockers, targeted(plan).filter((m) => m.observed === 'unreachable'));
    }
    const unreachable = targeted(plan).filter((m) => m.observed === 'unreachable');
    const summary = (checks: CheckResult[]) =>
      renderSummary(
        checked.machines.map((m) => ({ machine: m.name, ip: runs.get(m.name)?.ip, port: m.gateway.port, skipped: unreachable.find((u) => u.machine === m.name) ? 'unreachable' : undefined })),
        checks,
      );
    if (unreachable.length === targeted(plan).length) {
      throw new PeerProvisionError(`no machine could be reached:\n${unreachable.map((m) => `  - ${m.machine}: ${m.reason}`).join('\n')}`);
    }

    if (isEmpty(plan)) {
      // Converged: nothing to write, nothing to restart. Still prove the peers can reach each other
      // (health and token checks; no message, so a converged run never wakes an agent).
      const checks = await verify(checked, endpoints(runs), false);
      for (const c of checks) events.emit({ event: 'check', ...c });
      const failed = checks.filter((c) => !c.ok);
      if (!options.json) stdout(`\nNo changes. ${checks.length - failed.length} of ${checks.length} checks passed.\n${failed.length ? renderChecks(failed) : ''}\n${summary(checks)}`);
      events.emit({ event: 'result', changed: false, ok: failed.length === 0, exitCode: failed.length ? EXIT.failure : EXIT.ok, restarted: [], written: [], transport: transport.stats() });
      return failed.length ? EXIT.failure : EXIT.ok;
    }
    if (interrupted()) {
      stderr('Interrupted before anything was changed.\n');
      events.emit({ event: 'result', changed: false, ok: false, exitCode: EXIT.interrupted, interrupted: true, transport: transport.stats() });
      return EXIT.interrupted;
    }
    if (!(await confirm('Apply this plan?', options))) {
      stderr('Nothing applied.\n');
      return EXIT.ok;
    }
    const result = await applyUp(spec, runs, {
      authKeys: (machines, rekeyed) => authKeys(spec, machines, rekeyed),
      tailnetChanges: plan.tailnet.actions.length > 0,
      renderer: rendererFor(options.json),
      events,
      only,
      verifySpec: checked,
    });
    const failedChecks = result.checks.filter((c) => !c.ok);
    const problems = [
      ...unreachable.map((m) => `${m.machine}: unreachable, skipped: ${m.reason}`),
      ...result.failures.map((f) => f.message),
      ...failedChecks.map((c) => `verify ${c.from} -> ${c.to} ${c.check}: ${c.detail}`),
    ];
    events.emit({ event: 'result', changed: true, ok: problems.length === 0 && !interrupted(), exitCode: interrupted() ? EXIT.interrupted : problems.length ? EXIT.failure : EXIT.ok, restarted: result.restarted, written: result.written, problems, transport: transport.stats() });
    if (!options.json) {
      stdout(`\n${result.checks.length ? `Verify:\n${renderChecks(result.checks)}` : ''}`);
      stdout(`\n${summary(result.checks)}`);
      stdout(problems.length ? `\n${command} finished with problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRe-run ${command} to resume.\n` : `\n${command} complete: every peer pair verified.\n`);
    }
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
