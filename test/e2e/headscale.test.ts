/**
 * End to end with your own control server: `provider: provided` with `tailnet.controlUrl` naming the lab's headscale,
 * keys headscale minted, and machines whose Tailscale has no device policy (its default control server is
 * Tailscale's own): only the tool's `--login-server` brings them to headscale. And what the join checks after
 * `tailscale up`: a key without the machine's tags leaves no node behind and names the tags the key must carry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain } from '../helpers.js';
import { type Lab, labStatus } from '../lab/lab.js';
import { labForFile } from '../lab/shared.js';
import { assertNoLeak, down, secretsOf, tailnetIp, up } from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;

describe('provider provided with tailnet.controlUrl: headscale as the control server', () => {
  let lab: Lab;

  labForFile(skip, { machines: 2 }, async (ready) => {
    lab = ready;
  });

  /** The lab's peer.yaml, Tailscale installed without device policy, the control server named in peer.yaml. */
  const peerYaml = (key?: (m: string) => { file: string }) =>
    lab.peerYaml({
      top: { tailnet: { provider: 'provided', controlUrl: lab.controlUrl } },
      machine: (name, entry) => ({
        ...entry,
        tailscale: { ...entry.tailscale, installUrl: `${lab.installUrl}?policy=none`, ...(key ? { authKey: `file:${key(name).file}` } : {}) },
      }),
    });

  test('a key that does not carry the machine tags: the node is logged out again and the error names the tags', { skip, timeout: 300_000 }, async () => {
    const file = peerYaml((m) => lab.mintKey({ label: `${m}-untagged` })); // a key of the lab's user: an untagged node
    const r = await up(file);
    assert.equal(r.code, 1, explain(r));
    for (const m of ['m1', 'm2']) {
      assert.match(
        r.stderr,
        new RegExp(`${m}: join the tailnet failed: the node joined without tag:peer-lab, tag:peer-lab--${m} \\(it has no tags\\), so it was logged out again`),
      );
      assert.equal(await tailnetIp(lab, m), undefined, `${m} is not left on the tailnet`);
      assert.equal((await lab.run(m, 'test -e /etc/tailscale/syspolicy.json')).code, 1, 'no device policy: only --login-server leads to headscale');
    }
  });

  // issue 19 item 2: 0.1's machine tag tag:peer-lab-m1 is the stack tag of a stack named lab-m1. A node that still
  // carries it is the stack's: up asks for down first and touches nothing, down leaves it, up joins with the new tags.
  // It ends with the route this file is about: up joins through --login-server with headscale keys, verify passes, and
  // a second up changes nothing.
  test("machines joined with peer-provision 0.1's tags: up is blocked, touching nothing; down leaves them; up joins through --login-server with tag:peer-lab--<machine>, verified; a second up changes nothing", {
    skip,
    timeout: 600_000,
  }, async () => {
    const file = peerYaml();
    lab.deleteNodes(); // the untagged nodes of the test before, as the user deletes them at headscale
    // as 0.1 left them: Tailscale installed, the node joined with 0.1's tags. joinTailnet is the by-hand route for a
    // machine new to Tailscale (its installer's device policy names headscale; no --login-server), as in the migration
    // test; on these machines, logged out after a --login-server join, its `tailscale up` timed out
    for (const m of ['m1', 'm2']) {
      await lab.removeTailscale(m);
      await lab.joinTailnet(m, 'lab', ['tag:peer-lab', `tag:peer-lab-${m}`]);
    }
    const configs = new Map(['m1', 'm2'].map((m) => [m, lab.readFile(m, lab.machine(m).configPath)]));

    const blocked = await up(file);
    assert.equal(blocked.code, 1, explain(blocked));
    for (const m of ['m1', 'm2']) {
      assert.match(
        blocked.stdout + blocked.stderr,
        new RegExp(`${m}: the node joined with the tags of peer-provision 0\\.1 \\(tag:peer-lab,tag:peer-lab-${m}\\)`),
      );
      assert.equal(lab.readFile(m, lab.machine(m).configPath), configs.get(m), `${m}: config untouched`);
      assert.match((await tailnetIp(lab, m)) ?? '', /^100\./, `${m} is still on the tailnet`);
    }
    assert.match(blocked.stdout + blocked.stderr, /run peer-provision down, then up/);

    const left = await down(file);
    assert.equal(left.code, 0, explain(left));
    for (const m of ['m1', 'm2']) assert.equal(await tailnetIp(lab, m), undefined, `${m} left the tailnet`);

    lab.deleteNodes(); // headscale keeps a logged-out tagged node (juanfont/headscale#3371): the admin deletes it
    // Tailscale removed (with the device policy 0.1's by-hand install left): up installs it again without one, so
    // only --login-server brings the machines to headscale
    for (const m of ['m1', 'm2']) await lab.removeTailscale(m);
    const joined = peerYaml(); // (fresh keys: a new join)
    const back = await up(joined);
    assert.equal(back.code, 0, explain(back));
    assert.match(back.stdout, /up complete: every peer pair verified/);
    for (const m of ['m1', 'm2']) {
      assert.match((await tailnetIp(lab, m)) ?? '', /^100\./, `${m} joined`);
      const ups = lab.argvLog(m).filter((e) => e.argv[0] === 'up');
      assert.ok(ups.at(-1)!.argv.includes(`--login-server=${lab.controlUrl}`), ups.at(-1)!.argv.join(' '));
      assert.ok(!ups.at(-1)!.argv.some((a) => a.startsWith('--advertise-tags')), 'a headscale key carries the tags itself');
      assert.equal((await lab.run(m, 'test -e /etc/tailscale/syspolicy.json')).code, 1, `${m}: no device policy`);
    }
    assert.deepEqual(
      lab.headscale
        .nodes()
        .map((n) => [n.name, n.tags])
        .sort(),
      [
        ['m1', ['tag:peer-lab', 'tag:peer-lab--m1']],
        ['m2', ['tag:peer-lab', 'tag:peer-lab--m2']],
      ],
    );
    const again = await up(joined);
    assert.equal(again.code, 0, explain(again));
    assert.match(again.stdout, /Plan: 0 to add, 0 to change, 0 to destroy\./);
    assertNoLeak(lab, secretsOf(lab, ['m1', 'm2']), blocked, left, back, again);
  });
});
