// Building steps: ids are "<machine>/<kind>" or "tailnet/<kind>", so a step's needs can name steps of other
// machines before those exist.
import type { Step, StepKind, StepOf } from './types.js';

export const TAILNET = 'tailnet';
export const stepId = (where: string, kind: StepKind) => `${where}/${kind}`;

type Fields<K extends StepKind> = Omit<StepOf<K>, 'id' | 'kind' | 'machine' | 'needs'> & { needs?: string[] };

export function makeStep<K extends StepKind>(kind: K, machine: string | undefined, fields: Fields<K>): Step {
  const { needs = [], ...rest } = fields;
  return { id: stepId(machine ?? TAILNET, kind), kind, ...(machine ? { machine } : {}), needs, ...rest } as unknown as Step;
}

/** A step that is shown but never run: its state is not known (offline, unreachable, or not read). */
export const unknownStep = (machine: string | undefined, resource: Step['resource'], summary: string, reason: string, extra: Partial<Step> = {}): Step =>
  ({
    id: `${machine ?? TAILNET}/unknown:${resource}`,
    kind: 'unknown',
    ...(machine ? { machine } : {}),
    needs: [],
    op: 'unknown',
    resource,
    summary,
    reason,
    input: {},
    ...extra,
  }) as Step;

/** Each step needs the one before it on the same machine: a machine stops at its first failure. */
export function chain(steps: Step[]): Step[] {
  return steps.map((s, i) => (i === 0 || s.op === 'unknown' ? s : { ...s, needs: [...new Set([steps[i - 1]!.id, ...s.needs])] }));
}
