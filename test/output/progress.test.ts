// Progress in CI: listr2's lines go to stderr with a timestamp; stdout stays for data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { jsonLines, ROOT } from '../helpers.js';

const SCRIPT = `
const { Listr } = await import('listr2');
const { listrOptions } = await import(${JSON.stringify(join(ROOT, 'dist/src/apply/tasks.js'))});
const { humanView, jsonView } = await import(${JSON.stringify(join(ROOT, 'dist/src/output/view.js'))});
const tasks = [{ title: 'install Tailscale', task: async () => {} }, { title: 'join the tailnet', task: async () => { throw new Error('key expired'); } }];
await new Listr(tasks, listrOptions((process.env.PP_JSON === '1' ? jsonView(true) : humanView()).renderer)).run().catch(() => {});
`;

const run = (env: NodeJS.ProcessEnv) =>
  new Promise<{ stdout: string; stderr: string }>((done, fail) =>
    execFile(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      error ? fail(error) : done({ stdout, stderr }),
    ),
  );

test('with CI set: every progress line on stderr, timestamped; nothing on stdout', async () => {
  const r = await run({ CI: 'true' });
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length >= 3, r.stderr);
  for (const line of lines) assert.match(line, /^. \[\d\d:\d\d:\d\d\] /, line);
  assert.ok(lines.some((l) => /join the tailnet \[FAILED: key expired\]/.test(l)), r.stderr);
});

test('in a pipe without CI: the same plain lines on stderr', async () => {
  const r = await run({ CI: '' });
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\[\d\d:\d\d:\d\d\] install Tailscale/);
});

test('with --json: stdout is left to the events; progress lines still go to stderr', async () => {
  const r = await run({ CI: '', PP_JSON: '1' });
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\[\d\d:\d\d:\d\d\] join the tailnet \[FAILED: key expired\]/);
});

// up and down's steps through the JSON view: a step event as each step starts and ends, schema-valid, while
// listr2's lines still go to stderr
const STEPS = `
const { Listr } = await import('listr2');
const { listrOptions, machineStep } = await import(${JSON.stringify(join(ROOT, 'dist/src/apply/tasks.js'))});
const { jsonView } = await import(${JSON.stringify(join(ROOT, 'dist/src/output/view.js'))});
const view = jsonView(true);
const run = { machine: { name: 'm1', ssh: { kind: 'local' } } };
const context = { events: view, failures: [] };
const tasks = [
  machineStep(run, 'install Tailscale', true, async () => {}, context),
  machineStep(run, 'join the tailnet', true, async () => { throw new Error('key expired'); }, context),
  machineStep(run, 'patch the gateway config', true, async () => {}, context),
];
await new Listr(tasks, listrOptions(view.renderer)).run().catch(() => {});
view.emit({ event: 'result', ok: false, exitCode: 1, problems: context.failures.map((f) => f.message) });
`;

test('with --json: each step is a step event on stdout (start, done or failed with why), checked against the schema', async () => {
  const r = await new Promise<{ stdout: string; stderr: string }>((done, fail) =>
    execFile(process.execPath, ['--input-type=module', '-e', STEPS], { cwd: ROOT, env: { ...process.env, CI: '' } }, (error, stdout, stderr) => (error ? fail(error) : done({ stdout, stderr }))),
  );
  const lines = (await jsonLines(r.stdout)).map((l) => ('step' in l ? `${l.step} ${l.status}${l.error ? `: ${l.error}` : ''}` : 'event' in l ? l.event : '?'));
  assert.deepEqual(lines, ['install Tailscale start', 'install Tailscale done', 'join the tailnet start', 'join the tailnet failed: key expired', 'result'], 'the failed step stops the machine: the next is skipped, without an event');
  assert.match(r.stderr, /join the tailnet \[FAILED: key expired\]/);
});
