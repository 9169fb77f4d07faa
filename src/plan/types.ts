// The Plan: pure data, the only thing apply acts on and the only thing plan prints. No secrets in it.
// A plan is a list of typed steps. Each step carries every decision apply needs (its `input`); apply runs the
// steps in `needs` order, one executor per kind (src/apply/executors/), and decides nothing the plan did not.
import type { MachineState } from '../observe/types.js';
import type { SshTarget } from '../peer-yaml/types.js';
import type { Resource, StepInputs, StepKind } from './step-kinds.js';

export type Op = 'add' | 'change' | 'destroy' | 'unknown';
export const SYMBOL: Record<Op, string> = { add: '+', change: '~', destroy: '-', unknown: '?' };

export interface FieldChange {
  field: string;
  /** Absent: not set, or not known (see known). Values of secret fields are never here. */
  from?: unknown;
  to?: unknown;
  sensitive?: boolean;
}

interface StepBase<K extends StepKind> {
  /** Unique in the plan: "<machine>/<kind>" or "tailnet/<kind>". */
  id: string;
  kind: K;
  /** The machine it runs on; undefined: the tailnet side (this host, Pulumi and the Tailscale API). */
  machine?: string;
  /** Steps that must succeed first; when one fails or is skipped, this one is skipped. */
  needs: string[];
  /** Steps that must have finished first, however they ended (down's tailnet side waits for the machines). */
  after?: string[];
  op: Op;
  resource: Resource;
  /** One line a person reads: "join the tailnet as alpha-agent". */
  summary: string;
  changes?: FieldChange[];
  /** For unknown: why it is not known; otherwise a remark on the step. */
  reason?: string;
  input: StepInputs[K];
}
export type Step = { [K in StepKind]: StepBase<K> }[StepKind];
export type StepOf<K extends StepKind> = StepBase<K>;

/** Why up (or down) must not touch a machine, and what the user can do about it. */
export interface Blocker {
  reason: string;
  fix: string;
}

export interface MachinePlan {
  machine: string;
  /** "local" or the ssh destination, with its port when peer.yaml gives one. */
  target: string;
  observed: 'observed' | 'unreachable' | 'offline';
  reason?: string;
  /** This machine's steps, in an order that respects their needs. */
  actions: Step[];
  /** Reasons nothing may be done on this machine; any blocker anywhere stops up before it touches anything. */
  blockers?: Blocker[];
  /** What a person should know about the machine: the tailnet it is on, a step deliberately left out. */
  notes?: string[];
  /** Why this run leaves the machine alone (--machine named others); its observation is still shown. */
  skipped?: string;
}

/**
 * Every blocker of a plan in one list (what --json readers and the error boundary see): a machine's, or one
 * found on this side (a secret, the Pulumi CLI, credentials, where the state goes).
 */
export interface PlanBlocker extends Blocker {
  /** The machine's name, or 'tailnet' (credentials, the Pulumi CLI, the state), or 'peer.yaml' (a secret). */
  where: string;
  kind: 'machine' | 'secret' | 'tool' | 'credentials' | 'state';
}

/**
 * What the plan was made from, so that a saved plan can be refused when the world moved (terraform's stale plan):
 * peer.yaml's digest, each machine's observed state (no secret in it: a token is absent, not hashed; no identifier:
 * the machine id stays on the machine) and the tailnet policy's hash.
 */
export interface PlanBasis {
  specDigest: string;
  machines: Record<
    string,
    (Omit<MachineState, 'gateway' | 'machineId'> & { gateway: Omit<MachineState['gateway'], 'tokenHash'> & { tokenSet: boolean } }) | 'unreachable' | 'offline'
  >;
  policyHash?: string;
}

export interface Plan {
  format: 'peer-provision/plan@2';
  command: 'up' | 'down';
  stack: string;
  file: string;
  tailnet: { provider: 'pulumi' | 'provided'; actions: Step[]; notes: string[] };
  machines: MachinePlan[];
  /** Empty when the plan can be applied; otherwise every reason it cannot, found in one pass. */
  blockers: PlanBlocker[];
  summary: { add: number; change: number; destroy: number; unknown: number };
  basis: PlanBasis;
  /** --machine: the machines this plan acts on (absent: all). */
  targets?: string[];
}

export function summarise(steps: Step[]): Plan['summary'] {
  const count = (op: Op) => steps.filter((a) => a.op === op).length;
  return { add: count('add'), change: count('change'), destroy: count('destroy'), unknown: count('unknown') };
}

/** Every step of the plan: the tailnet's, then each machine's. */
export const allSteps = (plan: Pick<Plan, 'tailnet' | 'machines'>): Step[] => [...plan.tailnet.actions, ...plan.machines.flatMap((m) => m.actions)];

/** A machine's own blockers as PlanBlockers. */
export const machineBlockers = (machines: MachinePlan[]): PlanBlocker[] =>
  machines.flatMap((m) => (m.blockers ?? []).map((b) => ({ where: m.machine, kind: 'machine' as const, ...b })));

export const isEmpty = (plan: Plan) => plan.summary.add + plan.summary.change + plan.summary.destroy + plan.summary.unknown === 0;

/** How a person names where a machine is: "local", or the ssh destination with its port when one is given. */
export const describeTarget = (ssh: SshTarget) => (ssh.kind === 'local' ? 'local' : `${ssh.destination}${ssh.port ? `:${ssh.port}` : ''}`);
