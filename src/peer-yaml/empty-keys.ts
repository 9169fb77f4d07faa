// The commonest YAML slip, said as what it is: a key whose lines below were not indented under it. YAML then reads
// the key as empty and each line below as a key beside it, and the schema says "tailnet: must be object", then
// "unknown key provider", "unknown key credentials": three complaints about one missing indent. Here the empty key
// says "is empty: indent the lines below", naming them, and their own complaints are dropped.
import type { ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, type Node, type Pair } from 'yaml';
import type { ParsedFile } from './parse.js';
import type { Advice } from './plain-words.js';

type Path = (string | number)[];

/** A schema error as checkSchema words it. */
export interface Worded {
  error: ErrorObject;
  path: Path;
  advice: Advice;
}

const samePath = (a: Path, b: Path) => a.length === b.length && a.every((segment, i) => segment === b[i]);

/** The errors with each empty key explained and the complaints about its stray lines left out. */
export function explainEmptyKeys(parsed: ParsedFile, worded: Worded[]): Worded[] {
  const strays = new Set<Worded>();
  for (const item of worded) {
    const { error, path } = item;
    if (error.keyword !== 'type' || error.data !== null || path.length === 0) continue;
    const expected = (error.params as { type: string }).type;
    if (expected !== 'object' && expected !== 'array') continue;
    const found = straysBelow(parsed, path, error, worded);
    const names = found.map((w) => String(w.path.at(-1)));
    const key = String(path.at(-1));
    if (names.length === 0) {
      item.advice = { message: `is empty: give its ${expected === 'object' ? 'keys' : 'items'} on the lines below, indented under it` };
      continue;
    }
    for (const stray of found) strays.add(stray);
    const they = names.length === 1 ? `${names[0]} is` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are`;
    item.advice = {
      message: 'is empty: indent the lines below',
      hint: `${they} read as ${names.length === 1 ? 'a key' : 'keys'} beside ${key}, not under it: indent ${names.length === 1 ? 'it' : 'them'} under ${key} (two spaces more than ${key})`,
    };
  }
  return worded.filter((w) => !strays.has(w));
}

/**
 * The keys right after the empty one, at its indentation, that the schema refused where they stand and that
 * would fit under it (a key it knows, or any name when it is a map of names such as machines).
 */
function straysBelow(parsed: ParsedFile, path: Path, error: ErrorObject, worded: Worded[]): Worded[] {
  const parentPath = path.slice(0, -1);
  const parent = (parentPath.length ? parsed.doc.getIn(parentPath, true) : parsed.doc.contents) as Node | undefined;
  if (!isMap(parent) || parent.flow) return [];
  const pairs = parent.items.filter((item): item is Pair<Node, Node> => isPair(item));
  const at = pairs.findIndex((pair) => isScalar(pair.key) && pair.key.value === path.at(-1));
  const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const found: Worded[] = [];
  for (const pair of pairs.slice(at + 1)) {
    if (!isScalar(pair.key)) break;
    const name = pair.key.value;
    const refused = worded.find((w) => samePath(w.path, [...parentPath, name as string | number]));
    if (!refused || !['additionalProperties', 'type'].includes(refused.error.keyword)) break;
    const fits = known.length > 0 ? known.includes(String(name)) : refused.error.keyword === 'additionalProperties';
    if (!fits) break;
    found.push(refused);
  }
  return found;
}
