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
function fakeTailscale(failures: number, error = '500 Internal Server Error: fetch control key: use of closed network connection', status = '{}') {
  const dir = home(undefined);
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'status.json'), status);
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/bin/sh\necho "$1" >> ${log}\n[ "$1" = status ] && { cat ${join(dir, 'status.json')}; exit 0; }\n[ "$1" = logout ] || exit 0\n` +
      `[ "$(grep -c logout ${log})" -gt ${failures} ] && exit 0\n` +
      `echo '${error}' >&2; exit 1\n`,
    { mode: 0o755 },
  );
  const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { env: { HOME: dir, PATH: `${dir}:/usr/bin:/bin` }, calls, logouts: () => calls().filter((c) => c === 'logout').length };
}

test('leave.sh: the node is stopped (tailscale down) before the logout, which then has no stop to race', () => {
  const ts = fakeTailscale(0);
  const r = runTemplate('leave', { DETACH: 0, TAGS: '' }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ts.calls(), ['down', 'logout']);
});

test('leave.sh: a logout that fails for a moment is tried again', () => {
  const ts = fakeTailscale(2);
  const r = runTemplate('leave', { DETACH: 0, TAGS: '' }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseResult(r.stdout, 'leave.sh').changed, true);
  assert.equal(ts.logouts(), 3);
});

/**
 * A `tailscale` that behaves as 1.102.5 does around a failed logout: the first logout fails, and its control client
 * forgets the node key (TryLogout clears it whatever control answered) while the profile keeps it, so each later
 * logout says "no nodekey to log out" until the backend is started again (`debug localapi POST start`, when
 * `startWorks`) and makes a new control client from the profile. systemd is there but does not run tailscaled.
 */
function lostKeyTailscale(startWorks: boolean) {
  const dir = home(undefined);
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  writeFileSync(join(dir, 'cc-key'), '');
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/bin/sh
echo "$*" >> ${log}
case "$1" in\n` +
      `  logout)\n` +
      `    if [ ! -f ${dir}/failed-once ]; then touch ${dir}/failed-once; rm -f ${dir}/cc-key; echo '500 Internal Server Error: fetch control key: use of closed network connection' >&2; exit 1; fi\n` +
      `    [ -f ${dir}/cc-key ] || { echo '500 Internal Server Error: no nodekey to log out' >&2; exit 1; }\n` +
      `    exit 0 ;;\n` +
      `  debug) [ "$*" = "debug localapi POST start {}" ] && ${startWorks} && { touch ${dir}/cc-key; exit 0; }; exit 1 ;;\n` +
      `  *) exit 0 ;;\nesac\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, 'systemctl'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  return { env: { HOME: dir, PATH: `${dir}:/usr/bin:/bin` }, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

test('leave.sh: after a failed logout has cost tailscaled its node key, the backend is started again and the logout finishes', () => {
  const ts = lostKeyTailscale(true);
  const r = runTemplate('leave', { DETACH: 0, TAGS: '' }, ts.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseResult(r.stdout, 'leave.sh').changed, true);
  assert.deepEqual(ts.calls(), ['down', 'logout', 'logout', 'debug localapi POST start {}', 'logout']);
});

test("leave.sh: a node key that stays lost is an error naming the first logout's own words and the fix", () => {
  const ts = lostKeyTailscale(false);
  const r = runTemplate('leave', { DETACH: 0, TAGS: '' }, ts.env, false);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /lost the node key .*the first logout said: 500 Internal Server Error: fetch control key: use of closed network connection\): restart tailscaled \(sudo systemctl restart tailscaled\), then run down again/,
  );
  assert.deepEqual(ts.calls(), ['down', 'logout', 'logout', 'debug localapi POST start {}']);
});

test('leave.sh: a logout that keeps failing fails with what tailscale said, after three tries', () => {
  const ts = fakeTailscale(5);
  const r = runTemplate('leave', { DETACH: 0, TAGS: '' }, ts.env, false);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /500 Internal Server Error: fetch control key/);
  assert.equal(ts.logouts(), 3);
});

/** `tailscale status --json --peers=false` as 1.102.5 prints it (MarshalIndent), trimmed to what leave.sh reads. */
const statusJson = (state: string, tags: string[]) =>
  JSON.stringify({ BackendState: state, Self: { HostName: 'm1', Tags: tags }, User: { '1': { LoginName: 'tagged-devices' } } }, null, 2);

test('leave.sh reads the node again: a node without the tags the plan saw stays logged in (issue 19 item 1: a plan edited to name another node)', () => {
  const ts = fakeTailscale(0, undefined, statusJson('Running', ['tag:peer-other', 'tag:peer-other--m1']));
  for (const detach of [0, 1]) {
    const r = runTemplate('leave', { DETACH: detach, TAGS: 'tag:peer-lab,tag:peer-lab--m1' }, ts.env, false);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the node does not carry tag:peer-lab \(it changed since the plan, or is another stack's\): it stays logged in/);
  }
  assert.deepEqual(ts.calls(), ['status', 'status'], 'no down, no logout');
  // a tag that only begins like ours is not ours
  const prefix = fakeTailscale(0, undefined, statusJson('Running', ['tag:peer-lab', 'tag:peer-lab--m10']));
  assert.equal(runTemplate('leave', { DETACH: 0, TAGS: 'tag:peer-lab,tag:peer-lab--m1' }, prefix.env, false).code, 1);
});

test('leave.sh: the node with the tags is logged out; one already logged out is left as it is', () => {
  const ours = fakeTailscale(0, undefined, statusJson('Running', ['tag:peer-lab', 'tag:peer-lab--m1']));
  const r = runTemplate('leave', { DETACH: 0, TAGS: 'tag:peer-lab,tag:peer-lab--m1' }, ours.env, false);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(ours.calls(), ['status', 'down', 'logout']);
  const out = fakeTailscale(0, undefined, statusJson('NeedsLogin', ['tag:peer-lab', 'tag:peer-lab--m1']));
  const again = runTemplate('leave', { DETACH: 0, TAGS: 'tag:peer-lab,tag:peer-lab--m1' }, out.env, false);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(parseResult(again.stdout, 'leave.sh').changed, false);
  assert.deepEqual(out.calls(), ['status']);
});
