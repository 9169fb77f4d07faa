// guard.sh and observe.sh's view of it, against the real nft, in a network namespace of the test's own (unshare --net):
// the host's rules are never touched. The guard's effect on traffic (a port the tailnet opens, dropped) is proven in
// the lab: test/e2e/pulumi.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseObservation } from '../../src/observe/parse.js';
import { script, type Vars } from '../../src/transport/script.js';
import { home } from './run-template.js';

const nft = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
const skip = !nft ? 'nft is not installed (apt-get install nftables; test/lab/prepare.sh installs it)' : !isRoot ? 'needs root (a network namespace)' : false;

/** The templates, one after the other, in one new network namespace (what one machine's nftables would see). */
function inNamespace(runs: [string, Vars][], dir: string, after = '') {
  const body = runs.map(([name, vars]) => `( ${script(name, vars)}\n) ; echo "exit=$?"`).join('\n');
  const r = spawnSync('unshare', ['--net', 'sh', '-c', `sh -s <<'ALL'\n${body}\n${after}\nALL`], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: dir, LC_ALL: 'C' },
    cwd: dir,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

test('guard.sh: one table of its own lets in only the port on tailscale0; written again it is replaced, not doubled; removed whole', { skip }, () => {
  const dir = home(undefined);
  const add = (port: number): [string, Vars] => ['guard', { ACTION: 'add', TABLE: 'peer-provision-lab', PORT: port }];
  const r = inNamespace(
    [add(9000), add(18789), ['observe', { STACK: 'lab', PORT: 18789, CONFIG_PATH: '', WANT_BACKUP: 0, GUARD: 0 }]],
    dir,
    `nft list ruleset`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stdout.match(/exit=0/g) ?? []).length, 3, r.stdout + r.stderr);
  const ruleset = r.stdout.slice(r.stdout.lastIndexOf('exit=0') + 6);
  assert.equal((ruleset.match(/table inet peer-provision-lab/g) ?? []).length, 1, ruleset);
  assert.match(
    ruleset,
    /iifname "tailscale0" ct state established,related accept\n\s+iifname "tailscale0" tcp dport 18789 accept\n\s+iifname "tailscale0" drop/,
  );
  assert.doesNotMatch(ruleset, /9000/, 'the earlier port is gone');
  assert.ok(existsSync(join(dir, '.peer-provision/lab/guard')), 'recorded, so that leave looks for it');
  // observe (GUARD=0: not wanted) still looks, because it was set up here
  const observed = r.stdout.split('exit=0')[2]!;
  assert.deepEqual(parseObservation(observed.slice(observed.indexOf('{'))).state.guard, { nft: true, table: 'peer-provision-lab', port: 18789 });

  const removed = inNamespace(
    [
      add(18789),
      ['guard', { ACTION: 'remove', TABLE: 'peer-provision-lab', PORT: '' }],
      ['guard', { ACTION: 'remove', TABLE: 'peer-provision-lab', PORT: '' }],
    ],
    dir,
    'nft list ruleset',
  );
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /"changed":true,"values":\{\},"message":"removed the inbound guard/);
  assert.match(removed.stdout, /"changed":false,"values":\{\},"message":"no inbound guard"/, 'a second remove: nothing to do');
  assert.equal(removed.stdout.slice(removed.stdout.lastIndexOf('exit=0') + 6).trim(), '', 'the ruleset is empty: nothing left');
  assert.ok(!existsSync(join(dir, '.peer-provision/lab/guard')));
});

test('guard.sh refuses a port that is not a number (nothing written)', { skip }, () => {
  const dir = home(undefined);
  const r = inNamespace([['guard', { ACTION: 'add', TABLE: 'peer-provision-lab', PORT: '22; flush ruleset' }]], dir, 'nft list ruleset');
  assert.match(r.stdout, /exit=1/);
  assert.match(r.stderr, /not a port: 22; flush ruleset/);
  assert.equal(r.stdout.slice(r.stdout.lastIndexOf('exit=1') + 6).trim(), '', 'the ruleset is empty');
});
