// leave.sh on this machine's sh, with a `tailscale` of the test's own first on PATH: a logout that fails for a
// moment is tried again; one that keeps failing is an error naming tailscale's own words.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { home, runTemplate } from './run-template.js';

/**
 * A `tailscale` that records its subcommands; its logout fails `failures` times with `error` (as tailscaled did
 * while the control connection closed), then works.
 */
function fakeTailscale(failures: number, error = '500 Internal Server Error: fetch control key: use of closed network connection') {
  const dir = home(undefined);
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/bin/sh\necho "$1" >> ${log}\n[ "$1" = logout ] || exit 0\n[ "$(grep -c logout ${log})" -gt ${failures} ] && exit 0\n` + `echo '${error}' >&2; exit 1\n`,
    { mode: 0o755 },
  );
  const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { env: { HOME: dir, PATH: `${dir}:/usr/bin:/bin` }, calls, logouts: () => calls().filter((c) => c === 'logout').length };
}

test('leave.sh: the node is stopped (tailscale down) before the logout, which then has no stop to race', () => {
  const ts = fakeTailscale(0);
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ts.calls(), ['down', 'logout']);
});

test('leave.sh: a logout that fails for a moment is tried again', () => {
  const ts = fakeTailscale(2);
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseResult(r.stdout, 'leave.sh').changed, true);
  assert.equal(ts.logouts(), 3);
});

test('leave.sh: tailscaled without the node key it reports is not tried again: the fix is named', () => {
  const ts = fakeTailscale(5, '500 Internal Server Error: no nodekey to log out');
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /restart tailscaled \(sudo systemctl restart tailscaled\), then run down again/);
  assert.equal(ts.logouts(), 1);
});

test('leave.sh: a logout that keeps failing fails with what tailscale said, after three tries', () => {
  const ts = fakeTailscale(5);
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /500 Internal Server Error: fetch control key/);
  assert.equal(ts.logouts(), 3);
});
