// up and rotate on the change pipeline (change-pipeline.ts): their plan, and the verify that ends them (rotate asks
// for new A2A tokens).

import { configChangedOn } from '../apply/run-plan.js';
import { EXIT, PeerProvisionError } from '../errors.js';
import type { RecordedInvite } from '../friend/pending.js';
import { interrupted } from '../interrupt.js';
import type { FixedPeers } from '../observe/a2a-tokens.js';
import { renderChecks } from '../output/checks.js';
import { renderSummary } from '../output/summary.js';
import type { View } from '../output/view.js';
import type { Spec } from '../peer-yaml/types.js';
import type { NodeKeys } from '../plan/node-keys.js';
import { isEmpty } from '../plan/types.js';
import type { CommonOptions } from '../program.js';
import { type CheckResult, verify } from '../verify/index.js';
import { type Planned, runChange } from './change-pipeline.js';
import { observeAndPlan } from './observe-and-plan.js';
import { localBlockers, refuseBadInput, specForPlanning } from './preflight.js';
import type { SavedPlan } from './saved-plan.js';
import { outsideOf, restrictSpec, targeted, targetSet } from './targets.js';
import { endpoints, verifyAfterApply } from './verify-peers.js';

const COMPLETE = {
  up: 'up complete: every peer pair verified.',
  rotate: 'rotate complete: every peer pair verified.',
  invite: 'invite complete: every peer pair verified, the invite written.',
  accept: "accept complete: this machine reaches each of the inviter's machines.",
  unfriend: 'unfriend complete: every peer pair verified.',
} as const;

/** saved: a plan saved with `plan --out` (applied when still the fresh one); nodeKeys: what to do about node key expiry. */
export interface ApplyExtra {
  saved?: SavedPlan;
  nodeKeys?: Omit<NodeKeys, 'provider'>;
  /** rotate: every A2A peer token new. */
  newA2aTokens?: boolean;
  /** invite: the invite this run makes (its friend's key is minted, Alice's side of the pairs written). */
  invite?: RecordedInvite;
  /** accept: the inviter's machines, as the invite gives them. */
  fixedPeers?: FixedPeers;
  /** Once the answer is yes, before the first step (accept records what it is about to do). */
  beforeRun?: () => void;
  /** Once every step and check passed (converged or applied): what the command does last (invite seals the file). */
  finish?: (planned: Planned) => Promise<{ problems: string[]; text: string }>;
}

export interface UpOptions extends CommonOptions {
  yes?: boolean;
  acceptNewHostKeys?: boolean;
  allowLocalState?: boolean;
  machine?: string[];
}

/**
 * up itself, and rotate (new A2A tokens, node keys re-keyed), on the change pipeline: after the steps, every peer
 * pair is verified; a converged plan is verified too (no message). `command` names the run in the lock, messages
 * and refusals.
 */
export async function converge(spec: Spec, options: UpOptions, command: keyof typeof COMPLETE, view: View, extra: ApplyExtra = {}): Promise<number> {
  const { saved, nodeKeys, newA2aTokens, invite, finish, fixedPeers } = extra;
  const finishIfOk = async (planned: Planned, ok: boolean) => (ok && finish ? finish(planned) : { problems: [], text: '' });
  const only = targetSet(spec, options.machine);
  const outside = outsideOf(spec, only);
  // Everything this side needs (secrets, the Pulumi CLI, credentials, where the state goes), all at once.
  const local = await localBlockers(spec, { secrets: true, ciState: { allowLocalState: Boolean(options.allowLocalState) } });
  refuseBadInput(spec, local);
  const checked = restrictSpec(spec, only); // verify: the pairs among the targeted machines
  const summary = ({ runs, unreachable }: Planned, checks: CheckResult[]) =>
    renderSummary(
      checked.machines.map((m) => ({
        machine: m.name,
        ip: runs.get(m.name)?.ip,
        port: m.gateway.port,
        skipped: unreachable.some((u) => u.machine === m.name) ? 'unreachable' : undefined,
      })),
      checks,
    );
  return runChange(
    spec,
    {
      name: command,
      // with a local problem up will refuse anyway: it observes (read-only) to report the machines too, unlocked
      lock: local.length === 0,
      question: 'Apply this plan?',
      declined: 'Nothing applied.', // as terraform's "Apply cancelled"
      rerun: 'resume',
      complete: COMPLETE[command],
      only,
      saved,
      prepare: (transport) =>
        // machines outside --machine get no key: they count as joined for the tailnet plan
        observeAndPlan(local.length > 0 ? specForPlanning(spec, local) : spec, 'up', transport, { local, outside, nodeKeys, newA2aTokens, invite, fixedPeers }),
      check({ plan, unreachable }) {
        if (unreachable.length === targeted(plan).length) {
          throw new PeerProvisionError(`no machine could be reached:\n${unreachable.map((m) => `  - ${m.machine}: ${m.reason}`).join('\n')}`);
        }
      },
      async nothingToDo(planned) {
        if (!isEmpty(planned.plan)) return undefined;
        // Converged: nothing to write, nothing to restart. Still prove the peers can reach each other
        // (health and token checks; no message, so a converged run never wakes an agent).
        const checks = await verify(checked, endpoints(planned.runs), false);
        for (const c of checks) view.emit({ event: 'check', ...c });
        const failed = checks.filter((c) => !c.ok);
        const last = await finishIfOk(planned, failed.length === 0 && !interrupted());
        const exitCode = failed.length || last.problems.length ? EXIT.failure : EXIT.ok;
        view.tell(
          {
            event: 'result',
            changed: false,
            ok: exitCode === EXIT.ok,
            exitCode,
            restarted: [],
            written: [],
            ...(last.problems.length ? { problems: last.problems } : {}),
            transport: planned.transport.stats(),
          },
          `\nNo changes. ${checks.length - failed.length} of ${checks.length} checks passed.\n${failed.length ? renderChecks(failed) : ''}\n${summary(planned, checks)}${last.text}` +
            (last.problems.length ? `\n${command} finished with problems:\n${last.problems.map((p) => `  - ${p}`).join('\n')}\n` : ''),
        );
        return exitCode;
      },
      async afterRun(planned, result) {
        const checks = await verifyAfterApply(checked, planned.runs, view, view.renderer, result.stopped, configChangedOn(result));
        const problems = checks.filter((c) => !c.ok).map((c) => `verify ${c.from} -> ${c.to} ${c.check}: ${c.detail}`);
        // only after a complete run: every step done (none stopped short, nothing interrupted) and every check passed
        const complete = !interrupted() && result.stopped.size === 0 && result.failures.length === 0 && planned.unreachable.length === 0;
        const last = await finishIfOk(planned, complete && problems.length === 0);
        return {
          problems: [...problems, ...last.problems],
          text: `\n${checks.length ? `Verify:\n${renderChecks(checks)}` : ''}\n${summary(planned, checks)}${last.text}`,
        };
      },
      resultFields: (result) => ({ restarted: result.restarted, written: result.written }),
      beforeRun: extra.beforeRun,
    },
    options,
    view,
  );
}
