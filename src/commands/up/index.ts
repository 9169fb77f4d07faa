import type { CommonOptions } from '../../cli.js';
import { EXIT, PeerProvisionError } from '../../errors.js';
import { lockStack } from '../../apply/lock.js';
import { prepareUp } from '../../apply/prepare.js';
import { authKeys, planTailnetForUp, tailnetPreflight } from '../../apply/tailnet.js';
import { applyUp, endpoints } from '../../apply/up.js';
import { interrupted } from '../../interrupt.js';
import { confirm } from '../../output/confirm.js';
import { jsonEvents, noEvents } from '../../output/events.js';
import { stderr, stdout } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import { blockers, isEmpty } from '../../plan/types.js';
import { loadSpec } from '../../spec/load.js';
import { Transport } from '../../transport/remote.js';
import { renderChecks, verify } from '../../verify/index.js';
import { preflightSecrets, rendererFor } from '../shared.js';

interface UpOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
}

export async function run(options: UpOptions): Promise<number> {
  const spec = loadSpec(options.file);
  preflightSecrets(spec); // every env:/file: reference resolves, before anything is touched
  await tailnetPreflight(spec);
  const unlock = lockStack(spec, 'up');
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  const events = options.json ? jsonEvents() : noEvents;
  try {
    const { plan, runs } = await prepareUp(spec, transport, (joined) => planTailnetForUp(spec, joined, true));
    events.emit({ event: 'plan', plan });
    if (!options.json) stdout(renderPlan(plan));
    const unreachable = plan.machines.filter((m) => m.observed === 'unreachable');
    const blocked = blockers(plan);
    if (blocked.length > 0) {
      throw new PeerProvisionError(
        `up refused, nothing was changed:\n${blocked.map((b) => `  - ${b.machine}: ${b.reason}\n    fix: ${b.fix}`).join('\n')}`,
      );
    }
    if (unreachable.length === plan.machines.length) {
      throw new PeerProvisionError(`no machine could be reached:\n${unreachable.map((m) => `  - ${m.machine}: ${m.reason}`).join('\n')}`);
    }

    if (isEmpty(plan)) {
      // Converged: nothing to write, nothing to restart. Still prove the peers can reach each other
      // (health and token checks; no message, so a converged run never wakes an agent).
      const checks = await verify(spec, endpoints(runs), false);
      for (const c of checks) events.emit({ event: 'check', ...c });
      const failed = checks.filter((c) => !c.ok);
      if (!options.json) stdout(`\nNo changes. ${checks.length - failed.length} of ${checks.length} checks passed.\n${failed.length ? renderChecks(failed) : ''}`);
      events.emit({ event: 'result', changed: false, ok: failed.length === 0, restarted: [], written: [], transport: transport.stats() });
      return failed.length ? EXIT.failure : EXIT.ok;
    }
    if (interrupted()) {
      stderr('Interrupted before anything was changed.\n');
      return EXIT.interrupted;
    }
    if (!(await confirm('Apply this plan?', options))) {
      stderr('Nothing applied.\n');
      return EXIT.ok;
    }
    const result = await applyUp(spec, runs, {
      authKeys: (machines) => authKeys(spec, machines),
      tailnetChanges: plan.tailnet.actions.length > 0,
      renderer: rendererFor(options.json),
      events,
    });
    const failedChecks = result.checks.filter((c) => !c.ok);
    const problems = [
      ...unreachable.map((m) => `${m.machine}: unreachable, skipped: ${m.reason}`),
      ...result.failures.map((f) => f.message),
      ...failedChecks.map((c) => `verify ${c.from} -> ${c.to} ${c.check}: ${c.detail}`),
    ];
    events.emit({ event: 'result', changed: true, ok: problems.length === 0, restarted: result.restarted, written: result.written, problems, transport: transport.stats() });
    if (!options.json) {
      stdout(`\n${result.checks.length ? `Verify:\n${renderChecks(result.checks)}` : ''}`);
      stdout(problems.length ? `\nup finished with problems:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRe-run up to resume.\n` : '\nup complete: every peer pair verified.\n');
    }
    if (interrupted()) {
      stderr('Interrupted: the steps that were running finished; nothing else was started. Re-run up to resume.\n');
      return EXIT.interrupted;
    }
    return problems.length ? EXIT.failure : EXIT.ok;
  } finally {
    await transport.close();
    unlock();
  }
}
