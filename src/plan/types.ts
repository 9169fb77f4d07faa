// The Plan: pure data, the only thing apply acts on and the only thing plan prints. No secrets in it.

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

export interface Action {
  op: Op;
  resource: Resource;
  /** One line a person reads: "join the tailnet as alpha-agent". */
  summary: string;
  changes?: FieldChange[];
  /** For unknown: why it is not known. */
  reason?: string;
}

export interface MachinePlan {
  machine: string;
  /** "local" or the ssh destination. */
  target: string;
  observed: 'observed' | 'unreachable' | 'offline';
  reason?: string;
  actions: Action[];
}

export interface Plan {
  format: 'peer-provision/plan@1';
  command: 'up' | 'down';
  stack: string;
  file: string;
  tailnet: { provider: 'pulumi' | 'provided'; actions: Action[]; notes: string[] };
  machines: MachinePlan[];
  summary: { add: number; change: number; destroy: number; unknown: number };
}

export function summarise(actions: Action[]): Plan['summary'] {
  const count = (op: Op) => actions.filter((a) => a.op === op).length;
  return { add: count('add'), change: count('change'), destroy: count('destroy'), unknown: count('unknown') };
}

export const isEmpty = (plan: Plan) =>
  plan.summary.add + plan.summary.change + plan.summary.destroy + plan.summary.unknown === 0;
