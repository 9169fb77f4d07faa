// The one answer format of every template: its last stdout line, written by lib.sh's `result`,
//   {"changed":true|false,"values":{"KEY":"VALUE",...},"message":"..."}
// Whatever the script's commands printed comes before that line and is ignored here.

export interface ScriptResult {
  /** The script changed something on the machine. */
  changed: boolean;
  /** Named string values (file contents as base64 under *_b64 keys). */
  values: Record<string, string>;
  /** For the operator; may be empty. */
  message: string;
}

export class ScriptResultError extends Error {}

/**
 * The result line at the end of a template's stdout. The error says what arrived, never the output itself:
 * it may hold a config and its secrets (observe.sh) that redaction does not know yet.
 */
export function parseResult(stdout: string, template = 'the script'): ScriptResult {
  const text = stdout.replace(/\n+$/, '');
  const line = text.slice(text.lastIndexOf('\n') + 1);
  const broken = (why: string) =>
    new ScriptResultError(`${template} did not end with a result line (${why}; ${stdout.length} bytes of output, last line ${line.length} characters)`);
  if (!line.startsWith('{')) throw broken(line ? 'the last line is not JSON' : 'no output');
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw broken('the last line is not valid JSON: cut short?');
  }
  const { changed, values, message, ...extra } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof changed !== 'boolean' || typeof message !== 'string' || !values || typeof values !== 'object' || Array.isArray(values)) {
    throw broken('the last line is JSON but not {"changed","values","message"}');
  }
  if (Object.keys(extra).length > 0) throw broken(`unexpected keys ${Object.keys(extra).join(', ')}`);
  const bad = Object.entries(values).find(([, v]) => typeof v !== 'string');
  if (bad) throw broken(`value ${bad[0]} is not a string`);
  return { changed, values: values as Record<string, string>, message };
}

/** A base64 value (file contents) as text; undefined when the script did not report it. */
export const decoded = (values: Record<string, string>, key: string): string | undefined =>
  values[key] === undefined ? undefined : Buffer.from(values[key], 'base64').toString('utf8');
