// Progress in CI: listr2's lines go to stderr with a timestamp; stdout stays for data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers.js';

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
