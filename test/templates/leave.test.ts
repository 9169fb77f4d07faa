// leave.sh on this machine's sh, with a `tailscale` of the test's own first on PATH: a logout that fails for a
// moment is tried again; one that keeps failing is an error naming tailscale's own words.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { home, runTemplate } from './run-template.js';

/** A `tailscale` whose logout fails `failures` times (as tailscaled did while the control connection closed), then works. */
function fakeTailscale(failures: number): { env: { HOME: string; PATH: string }; calls: () => number } {
  const dir = home(undefined);
  const count = join(dir, 'calls');
  writeFileSync(count, '');
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/bin/sh\necho x >> ${count}\n[ "$(wc -l < ${count})" -gt ${failures} ] && exit 0\n` +
      `echo '500 Internal Server Error: fetch control key: use of closed network connection' >&2; exit 1\n`,
    { mode: 0o755 },
  );
  return { env: { HOME: dir, PATH: `${dir}:/usr/bin:/bin` }, calls: () => readFileSync(count, 'utf8').split('\n').filter(Boolean).length };
}

test('leave.sh: a logout that fails for a moment is tried again', () => {
  const ts = fakeTailscale(2);
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseResult(r.stdout, 'leave.sh').changed, true);
  assert.equal(ts.calls(), 3);
});

test('leave.sh: a logout that keeps failing fails with what tailscale said, after three tries', () => {
  const ts = fakeTailscale(5);
  const r = runTemplate('leave', { DETACH: 0 }, ts.env, false);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /500 Internal Server Error: fetch control key/);
  assert.equal(ts.calls(), 3);
});
