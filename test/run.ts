/**
 * `npm test`'s runner: every test file, one at a time, with node's test runner and its spec reporter.
 *  - The unit tests first, while this process builds the lab they do not need; then the lab files, which share that
 *    lab (test/lab/shared.ts resets it between files) in an order that changes the lab's shape once: the supervisor
 *    files, then the lab's own tests (they end with its teardown), then the systemd machines.
 *  - At the end a table of where the time went, per file and per lab test: minutes, lab bring-ups and resets, gateway
 *    starts, CLI runs (also written to test-timings.md), and one closing line "tests: N passed, N failed, N skipped".
 * Arguments: test files to run instead of all (paths under dist/test, as `node --test` takes them).
 * TEST_NAME_PATTERN=REGEX: only the tests whose names match (a file's tests can depend on those before them).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { ROOT } from './helpers.js';
import { goBuilt } from './lab/go-builds.js';
import { headscaleBinary } from './lab/headscale.js';
import { CACHE_DIR, labDown, labHeldByMe, labStatus, labUp } from './lab/lab.js';
import { tailscaledBinary } from './lab/tailscale-installer.js';
import type { Recorded } from './timing/record.js';

const DIST = join(ROOT, 'dist/test');
/**
 * The files that need the lab (or, tailnet/pulumi-process, only the lab's Pulumi CLI), in the order they run; any
 * other *.test.js is a unit test. On a new machine the Pulumi CLI may still be building when the lab files start
 * (`prepare.sh --go-in-background`; it compiles after tailscale and headscale, at the lowest priority): the files
 * that need it come as late as the run's lab allows (lab/lab takes it down), about 45 minutes of lab files later, so
 * that the compile has their idle CPU to itself until then, and they wait for it if they must. (Measured on a new
 * machine, not taken: the lab files waiting until the compile is done. They waited 4.5 minutes for it, and the six
 * files it had run beside took 2.6 minutes less in all: a lowest-priority compile costs them less than it takes.)
 */
const LAB_ORDER = [
  'e2e/up-down',
  'e2e/headscale',
  'e2e/migration',
  'e2e/safety',
  'e2e/hostile',
  'e2e/ci-example',
  'e2e/faults',
  'bench/bench',
  'tailnet/pulumi-process',
  'e2e/pulumi',
  'lab/lab',
  'e2e/systemd',
].map((f) => join(DIST, `${f}.test.js`));
/** In LAB_ORDER for its place only: it needs the lab's Pulumi CLI, not its machines (run alone, it builds no lab). */
const NO_MACHINES = [join(DIST, 'tailnet/pulumi-process.test.js')];

function allTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allTests(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : []))
    .sort();
}

interface Timed {
  file: string;
  test: string;
  ms: number;
  failed: boolean;
}

async function main(): Promise<number> {
  const chosen = process.argv.slice(2).map((f) => join(process.cwd(), f));
  const files = chosen.length ? chosen : allTests(DIST);
  const lab = files.filter((f) => LAB_ORDER.includes(f)).sort((a, b) => LAB_ORDER.indexOf(a) - LAB_ORDER.indexOf(b));
  const unit = files.filter((f) => !LAB_ORDER.includes(f));

  const timings = join(tmpdir(), `peer-provision-timings-${process.pid}.jsonl`);
  writeFileSync(timings, '');
  process.env.PEER_LAB_RUN = String(process.pid);
  process.env.PEER_TEST_TIMINGS = timings;

  // the lab boots while the unit tests run; the lab files start once it is up (or failed)
  const failures: string[] = [];
  const needsLab = lab.some((f) => !NO_MACHINES.includes(f));
  let built = needsLab ? 'not built' : 'not needed';
  const building = needsLab ? buildRunLab(failures).then((b) => (built = b)) : Promise.resolve();

  const timed: Timed[] = [];
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  /** Runs files with node's test runner, spec output on stdout, counting and timing what it reports. */
  const runFiles = async (list: string[], concurrency: number) => {
    if (!list.length) return;
    // TEST_NAME_PATTERN (a regular expression): only the tests whose names match, as node --test-name-pattern
    const pattern = process.env.TEST_NAME_PATTERN;
    const stream = run({ files: list, concurrency, ...(pattern ? { testNamePatterns: [new RegExp(pattern)] } : {}) });
    stream.on('test:pass', (d) => {
      if (d.details.type !== 'suite') d.skip || d.todo ? skipped++ : passed++;
      if (d.nesting === 0 || d.details.type !== 'suite') timed.push(row(d, false));
    });
    stream.on('test:fail', (d) => {
      if (d.details.type !== 'suite') {
        failed++;
        failures.push(failureDigest(d));
      }
      if (d.nesting === 0 || d.details.type !== 'suite') timed.push(row(d, true));
    });
    // (spec is a class in node 20's typings and at run time, a function in later versions)
    const reporter = stream.compose(typeof spec === 'function' && 'prototype' in spec ? new (spec as unknown as new () => NodeJS.ReadWriteStream)() : spec);
    reporter.pipe(process.stdout, { end: false });
    await new Promise((done) => reporter.on('end', done));
  };
  // unit tests two at a time (a core each; they share no files or ports), lab files one at a time (one lab)
  await runFiles(unit, 2);
  await building;
  await runFiles(lab, 1);
  if (labHeldByMe()) await labDown();

  const table = timingTable(timed, readRecorded(timings), `The run's lab (2 supervisor machines), built alongside the unit tests: ${built}.`);
  rmSync(timings, { force: true });
  writeFileSync(join(ROOT, 'test-timings.md'), table);
  // the failures again, last: a CI log is often read from its tail, and the spec reporter's account is far above
  const digest = failures.length ? `\n## Failures\n\n${failures.join('\n\n')}\n` : '';
  process.stdout.write(`\n${table}${digest}\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  return failed || failures.length ? 1 : 0;
}

/**
 * The run's lab of 2 machines, once the Go builds it needs are done (on a new machine they may still be going on in
 * the background). Says how it went, for the timing table. A failed Go build is a failure of the run: the lab files
 * would only be skipped.
 */
async function buildRunLab(failures: string[]): Promise<string> {
  const started = Date.now();
  try {
    await goBuilt([tailscaledBinary(CACHE_DIR), headscaleBinary(CACHE_DIR)]);
  } catch (error) {
    failures.push(`### the lab's Go builds\n${(error as Error).message.replace(/^/gm, '    ')}`);
    return 'not built: the Go builds failed';
  }
  const status = labStatus();
  if (!status.ok) return `not built (${status.reason})`;
  try {
    await labUp({ machines: 2 });
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`# the run's lab could not be built; each lab file builds its own: ${message}\n`);
    return `failed: ${message}`;
  }
  return `up in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/** A test file as the tables and the failures name it: its path under dist/test, without .test.js. */
const testFileName = (file: string) => relative(DIST, file).replace(/\.test\.js$/, '');

/** A failed test's name and the start of its error (the assertion's message carries the CLI output it explains). */
function failureDigest(d: { file?: string; name: string; details: { error?: unknown } }): string {
  const error = d.details.error as { cause?: unknown; message?: string } | undefined;
  const cause = (error?.cause ?? error) as { message?: string } | undefined;
  const message = String(cause?.message ?? cause ?? 'no error')
    .split('\n')
    .slice(0, 40)
    .join('\n')
    .slice(0, 4000);
  return `### ${d.file ? testFileName(d.file) : ''}: ${d.name}\n${message.replace(/^/gm, '    ')}`;
}

function row(d: { file?: string; name: string; nesting: number; details: { duration_ms: number } }, failed: boolean): Timed {
  return { file: d.file ?? '', test: d.nesting === 0 ? '' : d.name, ms: d.details.duration_ms, failed };
}

function readRecorded(path: string): Recorded[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recorded);
}

/** Markdown: one row per file (slowest first), then one per lab test; counts from what the tests recorded. */
export function timingTable(timed: Timed[], recorded: Recorded[], note: string): string {
  const count = (match: (r: Recorded) => boolean, what: (w: string) => boolean) =>
    recorded.filter((r) => match(r) && what(r.what)).reduce((a, r) => a + r.n, 0);
  const cells = (match: (r: Recorded) => boolean) =>
    [
      count(match, (w) => w === 'lab up'),
      count(match, (w) => w === 'lab reset'),
      count(match, (w) => w === 'gateway starts'),
      count(match, (w) => w === 'cli up'),
      count(match, (w) => w === 'cli down'),
      count(match, (w) => w.startsWith('cli ') && w !== 'cli up' && w !== 'cli down'),
    ].join(' | ');
  const files = new Map<string, number>();
  for (const t of timed) if (!t.test) files.set(t.file, (files.get(t.file) ?? 0) + t.ms);
  const min = (ms: number) => (ms / 60_000).toFixed(2);
  const head = '| lab ups | resets | gateway starts | up | down | other CLI |';
  const lines = [
    '## Where the time went',
    '',
    note,
    '',
    `| file | minutes ${head}`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...[...files].sort((a, b) => b[1] - a[1]).map(([f, ms]) => `| ${testFileName(f)} | ${min(ms)} | ${cells((r) => r.file === f)} |`),
    `| **all** | ${min([...files.values()].reduce((a, b) => a + b, 0))} | ${cells(() => true)} |`,
    '',
    `| lab test | seconds ${head}`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...timed
      .filter((t) => t.test && LAB_ORDER.includes(t.file))
      .map(
        (t) =>
          `| ${testFileName(t.file)}: ${t.test.replaceAll('|', '\\|').slice(0, 90)}${t.failed ? ' (failed)' : ''} | ${(t.ms / 1000).toFixed(1)} | ${cells((r) => r.file === t.file && r.test === t.test)} |`,
      ),
    '',
  ];
  return lines.join('\n');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`test/run: ${(error as Error).stack}\n`);
    process.exitCode = 1;
  },
);
