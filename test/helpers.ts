// Shared by the tests: the repo root, temp folders, and running the real CLI as a user would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonLine } from '../src/output/events.js';
import { record } from './timing/record.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const CLI = join(ROOT, 'bin/peer-provision.js');

/** The folders tempDir made in this process: removed as it exits (a full run used to leave some 430 in /tmp). */
const madeHere: string[] = [];
process.on('exit', () => {
  for (const dir of madeHere) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // (a folder a test made unreadable to its user: left, as before)
    }
  }
});

/** A fresh private folder (0700) in the system's temp folder, removed when this test process exits. */
export function tempDir(prefix = 'pp-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeHere.push(dir);
  return dir;
}

/** This environment without npm's own variables (set under `npm test`), which would steer an npm a test starts. */
export const npmFreeEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/** A command line that installs peer-provision by name from the npm registry, where it is not (E404). */
export const installsFromRegistry = (line: string) =>
  /\bnpm\s+(install|i|add)\b/.test(line) && line.split(/\s+/).some((word) => /^["'`]?peer-provision(@|["'`]?$)/.test(word));

/** Writes a peer.yaml (or any file) into a fresh temp folder and returns its path. */
export function writeTemp(text: string, name = 'peer.yaml'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** cli: another build of the tool (the migration test runs the previous version); default this one. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; cli?: string } = {}): Promise<CliResult> {
  record(`cli ${args[0]}${options.cli ? ' (another build)' : ''}`);
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [options.cli ?? CLI, ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * A CLI run told for a failing assertion, what matters first: the exit code, stderr, the lines of stdout that
 * name a failure, then stdout's end. (A CI log keeps only part of a long message: the plan would crowd out the
 * error.)
 */
export function explain(r: CliResult): string {
  const lines = r.stdout.split('\n');
  const failing = lines.filter((l) => /fail|error|refused|blocked|denied|timed out|did not|✖|cannot/i.test(l)).slice(0, 30);
  return [
    `exit ${r.code}`,
    `stderr:\n${r.stderr.trimEnd().split('\n').slice(-40).join('\n')}`,
    `stdout, lines naming a failure:\n${failing.join('\n')}`,
    `stdout, the end:\n${lines.slice(-40).join('\n')}`,
  ].join('\n');
}

/** The full path of a command on PATH (for tests that run the CLI with a narrowed PATH). */
export async function which(command: string): Promise<string> {
  return new Promise((done, fail) =>
    execFile('sh', ['-c', 'command -v "$1"', 'sh', command], (error, stdout) => (error ? fail(new Error(`${command} is not on PATH`)) : done(stdout.trim()))),
  );
}

// plain predicates: ajv's ValidateFunction is a type guard, which would narrow a failing line to never
type Validate = ((data: unknown) => boolean) & { errors?: unknown };
let validateLine: Validate | undefined;
let validateDef: ((name: string) => Validate | undefined) | undefined;

/**
 * Every line of --json stdout, parsed and checked against the committed schemas/events.schema.json (what a
 * user's tooling would validate against); fails naming the line and, for a known format or event, what is wrong.
 */
export async function jsonLines(stdout: string): Promise<JsonLine[]> {
  if (!validateLine) {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) && !Number.isNaN(Date.parse(s)));
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/events.schema.json'), 'utf8'));
    validateLine = ajv.compile(schema);
    validateDef = (name) => ajv.getSchema(`${schema.$id}#/$defs/${name}`);
  }
  assert.ok(stdout.endsWith('\n'), `stdout ends with a complete line: ${JSON.stringify(stdout.slice(-200))}`);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((text, i) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        assert.fail(`stdout line ${i + 1} is not JSON: ${text}`);
      }
      if (!validateLine!(line)) {
        // the anyOf's errors name every branch; the branch this line claims to be says what is wrong with it
        const name =
          typeof line.event === 'string'
            ? `event-${line.event}`
            : line.format === 'peer-provision/plan@2'
              ? 'plan'
              : `document-${String(line.format)
                  .replace(/^peer-provision\/|@\d+$/g, '')
                  .replace(/-(\w)/g, (_, c) => c.toUpperCase())}`;
        const specific = validateDef!(name);
        const errors = specific ? (specific(line), specific.errors) : validateLine!.errors;
        assert.fail(`stdout line ${i + 1} does not match schemas/events.schema.json (${name}): ${JSON.stringify(errors)}\n${text}`);
      }
      return line as JsonLine;
    });
}

type Document = Extract<JsonLine, { format: string }>;
export type JsonEvent = Extract<JsonLine, { event: string }>;

/** The one document a --json command printed (validate, plan, verify, status, tailnet init), schema-checked. */
export async function jsonDocument<F extends Document['format']>(stdout: string, format: F): Promise<Extract<Document, { format: F }>> {
  const lines = await jsonLines(stdout);
  assert.equal(lines.length, 1, `one document on stdout:\n${stdout}`);
  assert.equal((lines[0] as Document).format, format);
  return lines[0] as Extract<Document, { format: F }>;
}

/** The events up, down or rotate printed, schema-checked, the last a result. */
export async function jsonEvents(stdout: string): Promise<JsonEvent[]> {
  const lines = await jsonLines(stdout);
  for (const line of lines) assert.ok('event' in line, `an event, not a document: ${JSON.stringify(line)}`);
  assert.equal((lines.at(-1) as JsonEvent | undefined)?.event, 'result', `the last event is a result:\n${stdout}`);
  return lines as JsonEvent[];
}
