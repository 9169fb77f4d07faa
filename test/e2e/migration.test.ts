/**
 * End to end: machines patched by the previous version of peer-provision (each peer held the other's gateway token in
 * a 0600 token file, sessions_send was allowed on /tools/invoke, and the nodes carry its tags, which could collide):
 * `up` asks for `down` first, `down` puts the configs back byte for byte, and `up` then peers them on OpenClaw's A2A
 * channel. The previous version is the real one: commit PREVIOUS of this repository (the last before A2A peering),
 * built beside this one and run against the same lab.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { explain, ROOT, runCli, tempDir } from '../helpers.js';
import { type Lab, labStatus } from '../lab/lab.js';
import { filesOf, labForFile } from '../lab/shared.js';
import { assertNoLeak, CONFIG, config, down, secretsOf, up } from './lab-helpers.js';

/** The last commit whose `up` gave peers each other's gateway token. */
const PREVIOUS = 'd73555e';
const status = labStatus();
const previousThere = (() => {
  try {
    execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${PREVIOUS}^{commit}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip: string | false = !status.ok
  ? `lab cannot run: ${status.reason}`
  : previousThere
    ? false
    : `commit ${PREVIOUS} is not in this clone (a shallow clone?)`;

describe('migration from the previous version (gateway tokens shared, sessions_send allowed)', () => {
  let lab: Lab;
  let file: string;
  let previous: string;
  let original = new Map<string, string>();

  labForFile(skip, { machines: 2 }, async (ready) => {
    // the previous version's source, with this one's node_modules (the same dependencies), compiled
    previous = tempDir('pp-previous-');
    execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${PREVIOUS} | tar -x -C "${previous}"`]);
    symlinkSync(join(ROOT, 'node_modules'), join(previous, 'node_modules'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(previous, 'tsconfig.json')]);
    lab = ready;
    file = lab.peerYaml();
    original = filesOf(lab, ['m1', 'm2'], CONFIG);
  });

  // the previous version always passed --advertise-tags, which headscale refuses with a pre-auth key: the machines
  // are put on the tailnet by hand first (as that version's users on Tailscale had them, with its tags:
  // tag:peer-<stack>-<machine>), and it joins nothing itself. As on their machines, each reaches the other over the
  // tailnet before that version runs: its verify gave a path still being set up 15 s (seen on a loaded machine).
  const previousUp = async () => {
    for (const m of ['m1', 'm2'])
      if (!(await lab.run(m, 'tailscale ip -4')).stdout.trim()) await lab.joinTailnet(m, 'lab', ['tag:peer-lab', `tag:peer-lab-${m}`]);
    for (const [from, to] of [
      ['m1', 'm2'],
      ['m2', 'm1'],
    ] as const) {
      const ip = (await lab.run(to, 'tailscale ip -4')).stdout.trim();
      const ping = await lab.run(
        from,
        `i=0; until tailscale ping -c 1 --timeout 3s ${ip} >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 40 ] || exit 1; sleep 1; done`,
      );
      assert.equal(ping.code, 0, `${from} reaches ${to} (${ip}) over the tailnet before the previous version runs`);
    }
    return runCli(['up', '--yes', '-f', file], { cli: join(previous, 'bin/peer-provision.js') });
  };

  // issue 19 item 2: the previous version's machine tags could equal another stack's tags; its nodes are sent through
  // down (which knows them as the stack's) before this version's up joins them again with tags that cannot collide
  test("the previous version's machines: up asks for down first and touches nothing; down puts back the configs it found, byte for byte", {
    skip,
    timeout: 600_000,
  }, async () => {
    const old = await previousUp();
    assert.equal(old.code, 0, `the previous version's up: ${explain(old)}`);
    assert.ok(config(lab, 'm1').gateway.tools.allow.includes('sessions_send'), 'the previous version allowed sessions_send');
    assert.equal(lab.readFile('m1', '/root/.openclaw/peer-agent/tokens/m2.token').trim(), config(lab, 'm2').gateway.auth.token, "and gave m1 m2's token");
    const patched = new Map(['m1', 'm2'].map((m) => [m, lab.readFile(m, CONFIG)]));

    const blocked = await up(file);
    assert.equal(blocked.code, 1, explain(blocked));
    assert.match(blocked.stderr, /m1: the node joined with the tags of peer-provision 0\.1 \(tag:peer-lab,tag:peer-lab-m1\)/);
    assert.match(blocked.stderr, /run peer-provision down, then up/);
    for (const m of ['m1', 'm2']) assert.equal(lab.readFile(m, CONFIG), patched.get(m), `${m}: untouched`);

    const r = await down(file);
    assert.equal(r.code, 0, explain(r));
    for (const m of ['m1', 'm2']) {
      assert.equal(lab.readFile(m, CONFIG), original.get(m), `${m}: the original config`);
      assert.equal((await lab.run(m, 'ls /root/.openclaw/peer-agent /root/.peer-provision 2>&1')).code, 2, `${m}: nothing of peer-provision left`);
      assert.equal((await lab.run(m, 'tailscale ip -4')).stdout.trim(), '', `${m} left the tailnet`);
    }
  });

  test('then up peers them on A2A: no sessions_send, no token files, each config lists its peer, the owner tokens stay home', {
    skip,
    timeout: 600_000,
  }, async () => {
    file = lab.peerYaml(); // fresh keys; the nodes down logged out are deleted, as headscale needs (juanfont/headscale#3371)
    const plan = await up(file, '--json');
    assert.equal(plan.code, 0, explain(plan));
    for (const m of ['m1', 'm2'] as const) {
      const peer = m === 'm1' ? 'm2' : 'm1';
      const c = config(lab, m);
      assert.deepEqual(c.gateway.tools?.allow ?? [], [], `${m}: the sessions_send the previous version added is gone`);
      assert.deepEqual(Object.keys(c.channels.a2a.peers), [peer]);
      const files = await lab.run(m, 'ls -R /root/.openclaw/peer-agent');
      assert.doesNotMatch(files.stdout, /\.token/, `${m}: the token files are gone`);
      // the peer's gateway token is its owner's: m must hold it nowhere any more
      const owner = config(lab, peer).gateway.auth.token as string;
      const holders = await lab.run(m, 'grep -rlF -f - /root/.openclaw /root/.peer-provision 2>/dev/null || true', { input: `${owner}\n` });
      assert.equal(holders.stdout.trim(), '', `${m} holds ${peer}'s gateway token nowhere`);
    }
    assertNoLeak(lab, secretsOf(lab, ['m1', 'm2']), plan);
    const again = await up(file);
    assert.match(again.stdout, /No changes\./, 'peered once');
  });
});
