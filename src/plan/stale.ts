// A saved plan is applied only while the world is as the plan saw it (terraform's stale-plan check): the same
// peer.yaml, the same machines in the same state, the same tailnet policy, and the same steps planned now. Pure.
import { allSteps, type Plan } from './types.js';

/** Each difference between what the saved plan saw and what a fresh plan sees, as a line a person reads. */
export function staleness(saved: Plan, fresh: Plan): string[] {
  const moved: string[] = [];
  if (saved.command !== fresh.command) return [`the plan is for ${saved.command}, not ${fresh.command}`];
  if (saved.stack !== fresh.stack) return [`the plan is for stack ${saved.stack}, not ${fresh.stack}`];
  if (saved.basis.specDigest !== fresh.basis.specDigest) moved.push(`${fresh.file} changed since the plan was made`);
  for (const [machine, then] of Object.entries(saved.basis.machines)) {
    const now = fresh.basis.machines[machine];
    if (now === undefined) moved.push(`${machine}: no longer in ${fresh.file}`);
    else if (typeof then === 'string' || typeof now === 'string') {
      if (then !== now) moved.push(`${machine}: was ${typeof then === 'string' ? then : 'observed'}, now ${typeof now === 'string' ? now : 'observed'}`);
    } else for (const d of differences(then, now)) moved.push(`${machine}: ${d}`);
  }
  if (saved.basis.policyHash !== fresh.basis.policyHash) moved.push('the tailnet policy changed since the plan was made');
  if (moved.length === 0) {
    // whole steps (machine, summary and all) and blockers, each as a multiset: the saved plan is only ever compared,
    // the fresh one is what runs (a saved plan is a record for review, never a program)
    if (!sameMultiset(allSteps(saved), allSteps(fresh))) moved.push('the steps planned now differ from the saved ones');
    // (a machine's blockers: this host's own, a secret or a tool missing here, refuse the fresh plan by themselves)
    const onMachines = (p: Plan) => (p.blockers ?? []).filter((b) => b.kind === 'machine');
    if (!sameMultiset(onMachines(saved), onMachines(fresh))) moved.push('the blockers planned now differ from the saved ones');
  }
  return moved;
}

function sameMultiset(a: unknown[], b: unknown[]): boolean {
  const key = (x: unknown) => canonical(x);
  const sorted = (xs: unknown[]) => xs.map(key).sort();
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

/** JSON with object keys sorted: the same step read back from a file compares equal whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** "gateway.port: 18789 -> 18790", one per leaf that differs. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return [`${path}: ${JSON.stringify(a) ?? '(unset)'} -> ${JSON.stringify(b) ?? '(unset)'}`];
}
