// Building steps: ids are "<machine>/<kind>" or "tailnet/<kind>", so a step's needs can name steps of other
// machines before those exist.
import { type RunKind, runOrder, STEP_KINDS, type StepKind } from './step-kinds.js';
import type { Step, StepOf } from './types.js';

export const TAILNET = 'tailnet';
export const stepId = (where: string, kind: StepKind) => `${where}/${kind}`;

type Fields<K extends StepKind> = Omit<StepOf<K>, 'id' | 'kind' | 'machine' | 'needs' | 'resource'> & { needs?: string[] };

/** A step of a kind that runs; its resource is its kind's (step-kinds.ts). */
export function makeStep<K extends RunKind>(kind: K, machine: string | undefined, fields: Fields<K>): Step {
  const { needs = [], ...rest } = fields;
  const resource = STEP_KINDS[kind].resource;
  return { id: stepId(machine ?? TAILNET, kind), kind, ...(machine ? { machine } : {}), needs, resource, ...rest } as unknown as Step;
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

/** A machine's steps in their kinds' order, each needing the one before it: a machine stops at its first failure. */
export function chain(unordered: Step[]): Step[] {
  const steps = [...unordered].sort((a, b) => runOrder(a) - runOrder(b));
  return steps.map((s, i) => (i === 0 || s.op === 'unknown' ? s : { ...s, needs: [...new Set([steps[i - 1]!.id, ...s.needs])] }));
}
