// What the rule checks (rules.ts) may read when the schema found faults, so that both kinds of problem are
// reported in one run: the data with each faulty part left out. A part is left out at the size a rule reads it
// as one: a machine whose ssh or tailscale settings are wrong is left out whole (its target, hostname and
// name are compared with the others'), the tailnet without a sound provider too (every provider rule reads it).
// Rules never read a gateway's settings or an unknown key: those are left out alone. A secret reference the
// schema refused (a pasted key) stays in: the rules only ask whether one is given, and it is.
import type { RuleInput } from './rules.js';

type Path = (string | number)[];

/** A place where the data is not what the schema says. */
export interface Fault {
  path: Path;
  /** A key the schema does not know: no rule reads it, so only the key itself goes. */
  unknownKey: boolean;
}

export interface LeftOut {
  input: RuleInput;
  /** The dotted fields left out: a rule problem at or under one of them is not reported (the schema's says it). */
  fields: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function ruleInput(data: Record<string, unknown>, faults: Fault[]): LeftOut {
  const copy = structuredClone(data);
  const fields = new Set<string>();
  for (const fault of faults) {
    const part = partOf(data, fault);
    if (!part) continue;
    fields.add(part.join('.'));
    remove(copy, part);
  }
  // peers are checked against every machine named, a left-out one too ("no machine named a" would be false)
  const machines = isObject(data.machines) && !fields.has('machines') ? Object.keys(data.machines) : undefined;
  return { input: { ...(copy as RuleInput), machineNames: machines }, fields: [...fields] };
}

/** True when a rule problem at this field is about a part that was left out. */
export const aboutLeftOut = (field: string, leftOut: string[]) => leftOut.some((part) => field === part || field.startsWith(`${part}.`));

/** The part to leave out for a fault at this path; undefined: nothing (a key missing at the top is absent anyway). */
function partOf(data: Record<string, unknown>, { path, unknownKey }: Fault): Path | undefined {
  if (unknownKey) return path;
  // up to the first list: the rules read a list (peers) whole or not at all
  const part: Path = [];
  let node: unknown = data;
  for (const segment of path) {
    if (!isObject(node)) break;
    part.push(segment);
    node = node[String(segment)];
  }
  if (part.length === 0) return undefined;
  const [top, second, third] = part;
  if (top === 'tailnet') {
    if (part.length === 1 || second === 'provider') return ['tailnet'];
    if (second === 'credentials' && part.length === 3) return undefined; // a refused reference is still given
    return part;
  }
  if (top === 'machines' && part.length >= 2) {
    if (third === 'gateway') return part;
    if (third === 'tailscale' && part[3] === 'authKey') return undefined; // a refused reference is still given
    return part.slice(0, 2);
  }
  return part;
}

function remove(data: Record<string, unknown>, path: Path): void {
  let node: unknown = data;
  for (const segment of path.slice(0, -1)) {
    if (!isObject(node)) return;
    node = node[String(segment)];
  }
  if (isObject(node)) delete node[String(path.at(-1))];
}
