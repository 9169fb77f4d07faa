// Remote scripts live in templates/*.sh. A run sends one to `sh -s` on stdin, after its variables as
// shell assignments: the values (secrets included) travel inside ssh's encrypted stdin, never in argv
// or in the environment of a process another user could inspect.
// Each template declares its variables in its header, one line each: `# @var NAME: why` or
// `# @var NAME secret: why` (a secret's value is registered for redaction here, whoever passes it).
// Each ends by printing one result line (src/transport/result.ts).
import { readFileSync } from 'node:fs';
import { registerSecret } from '../model/redact.js';

const TEMPLATES = new URL('../../../templates/', import.meta.url);
const cache = new Map<string, string>();
const declared = new Map<string, Map<string, { secret: boolean }>>();

export type Vars = Record<string, string | number | undefined>;

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function template(name: string): string {
  let body = cache.get(name);
  if (body === undefined) {
    body = readFileSync(new URL(`${name}.sh`, TEMPLATES), 'utf8');
    cache.set(name, body);
  }
  return body;
}

const DECLARATION = /^# @var ([A-Z][A-Z0-9_]*)( secret)?:/;

/** The variables a template declares, by name (in its header's order). */
export function declaredVars(name: string): Map<string, { secret: boolean }> {
  let vars = declared.get(name);
  if (vars === undefined) {
    vars = new Map();
    for (const line of template(name).split('\n')) {
      const match = DECLARATION.exec(line);
      if (match) vars.set(match[1], { secret: Boolean(match[2]) });
    }
    declared.set(name, vars);
  }
  return vars;
}

/** The variables, then templates/lib.sh (the functions every script may use), then the template itself. */
export function script(name: string, vars: Vars): string {
  const wanted = declaredVars(name);
  const missing = [...wanted.keys()].filter((key) => !(key in vars));
  const extra = Object.keys(vars).filter((key) => !wanted.has(key));
  if (missing.length || extra.length) {
    // a programming error: the caller and the template's header disagree
    throw new Error(
      `template ${name}: ${[missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not declared ${extra.join(', ')}` : ''].filter(Boolean).join('; ')}`,
    );
  }
  const assignments = Object.entries(vars)
    .map(([key, value]) => {
      const text = String(value ?? '');
      if (wanted.get(key)!.secret) registerSecret(text);
      return `${key}=${shellQuote(text)}`;
    })
    .join('\n');
  return `${assignments}\n${template('lib')}\n${template(name)}`;
}
