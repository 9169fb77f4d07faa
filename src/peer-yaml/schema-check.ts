// Step 2 of peer.yaml -> Spec: structure, checked against schemas/peer.schema.json with ajv.
// Every problem is reported at once, with its position and, for a typo'd key, the closest known key; the
// commonest mistakes in plain words with what to do (plain-words.ts, empty-keys.ts).
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import type { Problem } from '../errors.js';
import { explainEmptyKeys, type Worded } from './empty-keys.js';
import { locate, type ParsedFile } from './parse.js';
import validatePeerSchema from './peer-schema.validate.js';
import { plainWords } from './plain-words.js';
import type { Fault } from './rule-input.js';

// ajv's code for schemas/peer.schema.json, generated (npm run schema) rather than compiled at each run: compiling it
// was a third of a second of every command's start
const validator = () => validatePeerSchema as unknown as ValidateFunction;

function messageFor(error: ErrorObject, value: unknown): string {
  const where = error.schemaPath;
  if (error.keyword === 'pattern' && where.includes('dnsLabel')) {
    return 'must be a lowercase DNS label: letters a-z, digits and dashes, not starting or ending with a dash, at most 63 characters';
  }
  if (error.keyword === 'pattern' && error.instancePath === '/name') {
    return typeof value === 'string' && /^[a-z0-9-]+$/.test(value) && value.includes('--')
      ? 'must not hold "--": in machine tags it separates the stack name from the machine name (tag:peer-<name>--<machine>)'
      : 'must be lowercase letters, digits and dashes (at most 32), not starting or ending with a dash, never two dashes in a row';
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/ssh')) {
    return typeof value === 'string' && /(^|@)-/.test(value)
      ? 'must not start with a dash: ssh would read it as an option (user@host[:port] or an ssh_config alias)'
      : 'must be local, user@host[:port], or an alias from ssh_config';
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/installUrl')) {
    return typeof value === 'string' && !/^https:\/\//i.test(value)
      ? 'must be an https:// URL: the script is run as root, so it must come over TLS (a mirror on a private CA is fine)'
      : 'must be an https:// URL without spaces or control characters';
  }
  if (error.keyword === 'pattern' && /^\/friends\/[^/]+\/publicKey$/.test(error.instancePath)) {
    return typeof value === 'string' && value.startsWith('AGE-SECRET-KEY-')
      ? 'is a secret key: publicKey is the age1... line `peer-provision keygen` prints; ask your friend to make a new key, this one is no longer secret'
      : 'must be an age public key, as `peer-provision keygen` prints it: age1 and 58 more letters and digits';
  }
  if (error.keyword === 'pattern' && error.instancePath === '/tailnet/controlUrl') {
    return "must be the control server's http:// or https:// URL, without spaces or control characters";
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/configPath')) {
    return typeof value === 'string' && /^(?:\/|~\/)/.test(value)
      ? 'must not hold control characters (NUL, line breaks, tabs)'
      : 'must be an absolute path or start with ~/ (expanded on the machine); a relative path would depend on where the script runs';
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/restart')) {
    return 'must be one line without control characters (NUL, line breaks)';
  }
  if (error.keyword === 'pattern' && error.instancePath === '/sshConfig') {
    return 'must not hold control characters (NUL, line breaks, tabs)';
  }
  if (error.keyword === 'pattern' && error.instancePath.endsWith('/expiry')) {
    return 'must be a duration: a number and a unit s, m, h or d (for example 1h)';
  }
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
    const guess = known.length > 0 ? closest(key, known) : undefined;
    const hint = guess && distance(key, guess) <= Math.max(2, Math.floor(guess.length / 3)) ? ` (did you mean "${guess}"?)` : '';
    return `unknown key "${key}"${hint}; known keys: ${known.join(', ')}`;
  }
  if (error.keyword === 'required') {
    return `missing required key "${(error.params as { missingProperty: string }).missingProperty}"`;
  }
  if (error.keyword === 'enum') {
    return `must be one of: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  }
  if (error.keyword === 'const') return `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  if (error.keyword === 'minProperties' && error.instancePath === '/machines') return 'needs at least two machines';
  return error.message ?? 'is invalid';
}

const pathOf = (instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));

export interface SchemaCheck {
  problems: Problem[];
  /** Where the data is not what the schema says: the rule checks leave these parts out (rule-input.ts). */
  faults: Fault[];
}

/** Counts of a whole (too few or too many machines): the parts themselves are sound, the rules can read them. */
const COUNT_KEYWORDS = new Set(['minProperties', 'maxProperties']);

export function checkSchema(parsed: ParsedFile): SchemaCheck {
  const validate = validator();
  if (validate(parsed.data)) return { problems: [], faults: [] };
  const faults: Fault[] = [];
  const worded: Worded[] = [];
  for (const error of validate.errors ?? []) {
    // propertyNames errors come in pairs (the name's pattern, then "property name is invalid"): keep the first
    if (error.keyword === 'propertyNames') continue;
    let path = pathOf(error.instancePath);
    if (error.keyword === 'additionalProperties') path = [...path, (error.params as { additionalProperty: string }).additionalProperty];
    if (error.propertyName !== undefined) path = [...path, error.propertyName];
    if (!COUNT_KEYWORDS.has(error.keyword)) faults.push({ path, unknownKey: error.keyword === 'additionalProperties' });
    worded.push({ error, path, advice: plainWords(error) ?? { message: messageFor(error, error.data) } });
  }
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const { error, path, advice } of explainEmptyKeys(parsed, worded)) {
    const field = path.join('.');
    const id = `${field}\0${advice.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    // a key is pointed at, not its value: an unknown or misnamed key, and an empty value (there is nothing to point at)
    const atKey = error.keyword === 'additionalProperties' || error.propertyName !== undefined || (error.keyword === 'type' && error.data === null);
    problems.push({ file: parsed.file, ...locate(parsed, path, atKey), field, message: advice.message, ...(advice.hint ? { hint: advice.hint } : {}) });
  }
  return { problems, faults };
}
