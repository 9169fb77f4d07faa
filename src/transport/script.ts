// Remote scripts live in templates/*.sh. A run sends one to `sh -s` on stdin, after its variables as
// shell assignments: the values (secrets included) travel inside ssh's encrypted stdin, never in argv
// or in the environment of a process another user could inspect.
import { readFileSync } from 'node:fs';

const TEMPLATES = new URL('../../../templates/', import.meta.url);
const cache = new Map<string, string>();

export type Vars = Record<string, string | number | undefined>;

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function script(template: string, vars: Vars): string {
  let body = cache.get(template);
  if (body === undefined) {
    body = readFileSync(new URL(`${template}.sh`, TEMPLATES), 'utf8');
    cache.set(template, body);
  }
  const assignments = Object.entries(vars)
    .map(([name, value]) => `${name}=${shellQuote(String(value ?? ''))}`)
    .join('\n');
  return `${assignments}\n${body}`;
}
