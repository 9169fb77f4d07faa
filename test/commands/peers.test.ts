// peer-provision peers against stand-in machines (test/fake-ssh.ts): one observe per machine and nothing else, each
// pair's state from what the machines hold (joined, A2A entries both ways, tokens agreeing: compared, never shown),
// an unreachable machine named, and no verify result invented.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeA2aToken, fakeSshMachines } from '../fake-ssh.js';
import { explain, jsonLines, runCli } from '../helpers.js';

test('peers: every pair peered; --json is the peers document; only observe.sh is sent; no token printed', async () => {
  const m = fakeSshMachines(['alpha', 'beta', 'gamma'], { joined: true, a2a: true });
  const r = await runCli(['peers', '-f', m.file], { env: m.env });
  assert.equal(r.code, 0, explain(r));
  assert.match(r.stdout, /^PAIR +STATE +JOINED +A2A ENTRIES +TOKENS AGREE\nalpha <-> beta +peered +yes\/yes +yes\/yes +yes\n/);
  assert.match(r.stdout, /no verify result is recorded \(peer-provision keeps none\): `peer-provision verify` checks every pair/);
  const json = await runCli(['peers', '-f', m.file, '--json'], { env: m.env });
  assert.equal(json.code, 0, explain(json));
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.format, 'peer-provision/peers@1');
  assert.equal(doc.lastVerify, null);
  assert.deepEqual(
    doc.pairs.map((p: { pair: string[]; state: string }) => [p.pair.join('-'), p.state]),
    [
      ['alpha-beta', 'peered'],
      ['alpha-gamma', 'peered'],
      ['beta-gamma', 'peered'],
    ],
  );
  assert.deepEqual(doc.pairs[0].sides[0], { machine: 'alpha', reachable: true, joined: true, tailnetIp: '100.64.0.1', entry: true, urlCurrent: true });
  const scripts = readFileSync(join(m.dir, 'ssh.stdin'), 'utf8');
  assert.equal(scripts.split('# observe.sh:').length - 1, 6, 'one observe per machine per run, nothing else');
  assert.ok(!/# (verify|send|gateway-config|join)\.sh:/.test(scripts));
  for (const out of [r.stdout, json.stdout, r.stderr]) assert.ok(!out.includes(fakeA2aToken('alpha', 'beta')));
});

test('peers: a missing entry, disagreeing tokens, a machine not joined and one unreachable, each said; exit 1 only for the unreachable', async () => {
  const partial = fakeSshMachines(['alpha', 'beta', 'gamma'], {
    joined: true,
    a2a: { alpha: ['beta'], beta: ['alpha', 'gamma'], gamma: ['beta'] },
    mismatch: ['gamma'],
  });
  const r = await runCli(['peers', '-f', partial.file], { env: partial.env });
  assert.equal(r.code, 0, explain(r));
  assert.match(r.stdout, /alpha <-> gamma +not peered +yes\/yes +no\/no +\?/);
  assert.match(r.stdout, /beta <-> gamma +incomplete .* no\n/);
  assert.match(r.stdout, /alpha <-> gamma: alpha's OpenClaw config has no A2A entry for gamma \(channels\.a2a\.peers\.gamma\)/);
  assert.match(r.stdout, /beta <-> gamma: the A2A tokens of beta and gamma do not agree/);
  const notJoined = fakeSshMachines(['alpha', 'beta'], { a2a: true });
  const j = await runCli(['peers', '-f', notJoined.file, '--json'], { env: notJoined.env });
  const pair = JSON.parse(j.stdout).pairs[0];
  assert.equal(pair.state, 'incomplete');
  assert.ok(pair.problems.includes('alpha has not joined the tailnet'), pair.problems.join('\n'));
  const gone = fakeSshMachines(['alpha', 'beta'], { joined: true, a2a: true, unreachable: ['beta'] });
  const u = await runCli(['peers', '-f', gone.file], { env: gone.env });
  assert.equal(u.code, 1, explain(u));
  assert.match(u.stdout, /alpha <-> beta +unknown +yes\/\? +yes\/\? +\?/);
  assert.match(u.stdout, /alpha <-> beta: beta is unreachable: /);
});

test("peers: each friend's machine with each of yours it peers with, your side only: waiting before it joins, the entry said", async () => {
  const m = fakeSshMachines(['alpha', 'beta'], { joined: true, a2a: { alpha: ['beta', 'bob-laptop'], beta: ['alpha'] } });
  appendFileSync(
    m.file,
    'friends:\n  bob: {publicKey: age1zhfnnu29cm2ne83a9nqse7vc367sy9tn7vfxhakw99ve3zsj6qfqhnn9gy, hostname: bob-laptop, with: [alpha, beta]}\n',
  );
  const r = await runCli(['peers', '-f', m.file], { env: m.env });
  assert.equal(r.code, 0, explain(r));
  assert.match(r.stdout, /FRIEND +WITH +STATE +JOINED +A2A ENTRY\nbob \(bob-laptop\) +alpha +waiting +no +yes\nbob \(bob-laptop\) +beta +incomplete +no +no\n/);
  assert.match(r.stdout, /bob <-> beta: beta's OpenClaw config has no A2A entry for bob-laptop \(channels\.a2a\.peers\.bob-laptop\): run up/);
  assert.match(r.stdout, /A friend's own side is on their machine and is not read here/);
  const [doc] = (await jsonLines((await runCli(['peers', '-f', m.file, '--json'], { env: m.env })).stdout)) as { friends: unknown[] }[]; // the schema holds it
  assert.deepEqual(doc!.friends[0], {
    friend: 'bob',
    hostname: 'bob-laptop',
    machine: 'alpha',
    state: 'waiting',
    joined: false,
    tailnetIp: null,
    entry: true,
    urlCurrent: null, // a url, but his address is not known
    problems: ["bob's machine is not on the tailnet as alpha sees it: not invited, not accepted yet, or left (`peer-provision invite bob`)"],
  });
  for (const out of [r.stdout, JSON.stringify(doc)]) assert.ok(!out.includes(fakeA2aToken('bob-laptop', 'alpha')));
});
