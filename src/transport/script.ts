// Remote scripts live in templates/*.sh. A run sends one to `sh -s` on stdin, after its variables as
// shell assignments: the values (secrets included) travel inside ssh's encrypted stdin, never in argv
// or in the environment of a process another user could inspect.
import { readFileSync } from 'node:fs';

const TEMPLATES = new URL('../../../templates/', import.meta.url);
const cache = new Map<string, string>();

export type Vars = Record<string, string | number | undefined>;

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function template(name: string): string {
  let body = cache.get(name);
  if (body === undefined) {
    body = readFileSync(new URL(`${name}.sh`, TEMPLATES), 'utf8');
    cache.set(name, body);
  }
  return body;
}

/** The variables, then templates/lib.sh (the functions every script may use), then the template itself. */
export function script(name: string, vars: Vars): string {
  const assignments = Object.entries(vars)
    .map(([key, value]) => `${key}=${shellQuote(String(value ?? ''))}`)
    .join('\n');
  return `${assignments}\n${template('lib')}\n${template(name)}`;
}
