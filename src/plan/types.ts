// The Plan: pure data, the only thing apply acts on and the only thing plan prints. No secrets in it.
import type { SshTarget } from '../peer-yaml/types.js';

export type Op = 'add' | 'change' | 'destroy' | 'unknown';
export const SYMBOL: Record<Op, string> = { add: '+', change: '~', destroy: '-', unknown: '?' };

/** What a step acts on. The order here is the order apply runs them in on one machine. */
export type Resource =
  | 'tailnet-key'
  | 'tailnet-policy'
  | 'tailnet-devices'
  | 'tailscale-install'
  | 'tailnet-node'
  | 'gateway-config'
  | 'gateway-restart'
  | 'peer-files';

export interface FieldChange {
  field: string;
  /** Absent: not set, or not known (see known). Values of secret fields are never here. */
  from?: unknown;
  to?: unknown;
  sensitive?: boolean;
}

/** down: how one config peer-provision patched is put back (decided from what was observed, never at apply). */
export interface RestoreDecision {
  id: string;
  path: string;
  /** bytes: the original, byte for byte; patch: only peer-provision's keys undone; none: it is the original already. */
  mode: 'bytes' | 'patch' | 'none';
}

export interface Action {
  op: Op;
  resource: Resource;
  /** One line a person reads: "join the tailnet as alpha-agent". */
  summary: string;
  changes?: FieldChange[];
  /** For unknown: why it is not known. */
  reason?: string;
  /** gateway-config in down: each config and how it is put back. */
  restore?: RestoreDecision[];
  /** gateway-restart in down: the port the restored config listens on (where to wait for /health). */
  port?: number;
  /** gateway-config in up: someone else changed the config since peer-provision's last write (down keeps it). */
  edited?: boolean;
  /** tailnet-node: log the node out of the tailnet it is on first (takeOver). leave: in the background. */
  takeOver?: boolean;
  /**
   * tailnet-node: re-key a node of this stack (its node key expires soon or has expired): join again with a freshly
   * minted auth key and --force-reauth. Same hostname, same tags, same address.
   */
  rekey?: boolean;
}

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
  actions: Action[];
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

export interface Plan {
  format: 'peer-provision/plan@1';
  command: 'up' | 'down';
  stack: string;
  file: string;
  tailnet: { provider: 'pulumi' | 'provided'; actions: Action[]; notes: string[] };
  machines: MachinePlan[];
  /** Empty when the plan can be applied; otherwise every reason it cannot, found in one pass. */
  blockers: PlanBlocker[];
  summary: { add: number; change: number; destroy: number; unknown: number };
}

export function summarise(actions: Action[]): Plan['summary'] {
  const count = (op: Op) => actions.filter((a) => a.op === op).length;
  return { add: count('add'), change: count('change'), destroy: count('destroy'), unknown: count('unknown') };
}

/** A machine's own blockers as PlanBlockers. */
export const machineBlockers = (machines: MachinePlan[]): PlanBlocker[] =>
  machines.flatMap((m) => (m.blockers ?? []).map((b) => ({ where: m.machine, kind: 'machine' as const, ...b })));

export const isEmpty = (plan: Plan) =>
  plan.summary.add + plan.summary.change + plan.summary.destroy + plan.summary.unknown === 0;

/** The machines' blockers, each with its machine (plan.blockers also holds the ones found on this side). */
/** How a person names where a machine is: "local", or the ssh destination with its port when one is given. */
export const describeTarget = (ssh: SshTarget) => (ssh.kind === 'local' ? 'local' : `${ssh.destination}${ssh.port ? `:${ssh.port}` : ''}`);
