/**
 * End to end, the inputs and machine states that must never cost a user their config or their way in:
 * a config path that is a directory or a device, one machine listed twice, a node this stack never joined (down must
 * not log it out), and a node on another tailnet reached over its tailnet address (up must refuse, touching nothing).
 * Real CLI, real lab machines.
 * (A config that is a symlink, edited between two ups, is up-down.test.ts's m1: that file's ups and down prove it.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CLI, type CliResult, explain, runCli, tempDir } from '../helpers.js';
import { type Lab, labStatus } from '../lab/lab.js';
import { labForFile } from '../lab/shared.js';
import { CONFIG, down, joinAsSomeoneElse, tailnetIp, up } from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;

/** What a machine holds that peer-provision could touch: the config's bytes, its state folder, its node. */
async function snapshot(lab: Lab, machine: string): Promise<string> {
  // (the gateway itself writes logs and state under ~/.openclaw: only what peer-provision would write is listed)
  const r = await lab.run(
    machine,
    `cat ${CONFIG} | sha256sum; ls -A /root/.openclaw | grep -E 'peer-provision|peer-agent'; ls -A /root/.peer-provision 2>&1; command -v tailscale; tailscale status --json 2>&1 | grep -E '"(BackendState|HostName)"' | head -n 2`,
  );
  return r.stdout;
}

describe('safety: configs, machines and nodes peer-provision must not harm', () => {
  let lab: Lab;

  labForFile(skip, { machines: 2 }, async (ready) => {
    lab = ready;
  });

  test('a configPath that is a directory or a device is refused by plan and up; nothing is touched', { skip, timeout: 180_000 }, async () => {
    const before = [await snapshot(lab, 'm1'), await snapshot(lab, 'm2')];
    for (const bad of ['/root/.openclaw', '/dev/null']) {
      const file = lab.peerYaml({ machine: (name, entry) => (name === 'm1' ? { ...entry, gateway: { ...entry.gateway, configPath: bad } } : entry) });
      const plan = await runCli(['plan', '-f', file]);
      assert.equal(plan.code, 1, `${explain(plan)}`);
      assert.match(plan.stdout, new RegExp(`! blocked: the OpenClaw config path ${bad} is (a directory|not a regular file)`));
      const r = await up(file);
      assert.equal(r.code, 1, `${explain(r)}`);
      assert.match(r.stderr, /up refused, nothing was changed:\n {2}- m1: the OpenClaw config path/);
    }
    assert.deepEqual([await snapshot(lab, 'm1'), await snapshot(lab, 'm2')], before, 'no config, state folder or install changed');
  });

  test('two entries that reach one machine are refused', { skip, timeout: 120_000 }, async () => {
    const file = lab.peerYaml({ machine: (name, entry) => (name === 'm2' ? { ...entry, ssh: `root@${lab.machine('m1').mgmtIp}` } : entry) });
    const r = await up(file);
    assert.equal(r.code, 1, `${explain(r)}`);
    assert.match(r.stderr, /m2: machines m1 and m2 are the same machine/);
  });

  test('down never logs out a node this stack did not join', { skip, timeout: 300_000 }, async () => {
    await joinAsSomeoneElse(lab, 'm2', 'laptop');
    const file = lab.peerYaml();
    const plan = await runCli(['plan', '--for', 'down', '-f', file]);
    assert.match(plan.stdout, /note: the node is not this stack's/);
    const r = await down(file);
    assert.equal(r.code, 0, `${explain(r)}`);
    const st = await lab.run('m2', 'tailscale status --json');
    assert.match(st.stdout, /"BackendState": "Running"/, 'still logged in');
    assert.match(st.stdout, /"HostName": "laptop"/);
    assert.ok(!lab.argvLog('m2').some((e) => e.argv[0] === 'logout'), 'tailscale logout was never run');
  });

  test('a node on a tailnet, reached over its tailnet address: plan shows where it is, up refuses, nothing touched', { skip, timeout: 300_000 }, async () => {
    await joinAsSomeoneElse(lab, 'm1', 'workstation');
    const m1Ip = (await tailnetIp(lab, 'm1'))!;
    assert.match(m1Ip, /^100\./);
    // m2 is on that tailnet too (it joined as "laptop" above); the operator works from m2's network and
    // reaches m1 over its tailnet address, as someone who ssh-es over Tailscale does.
    const dir = tempDir('pp-over-tailnet-');
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(
      sshConfig,
      `Host ${m1Ip}\n  HostKeyAlias lab-m1\n\n` + readFileSync(lab.sshConfigPath, 'utf8').replace(/^Host lab-\* /m, `Host lab-* ${m1Ip} `),
    );
    const file = lab.peerYaml({
      path: join(dir, 'peer.yaml'),
      top: { sshConfig },
      machine: (name, entry) => (name === 'm1' ? { ...entry, ssh: `root@${m1Ip}` } : entry),
    });
    const before = [await snapshot(lab, 'm1'), await snapshot(lab, 'm2')];
    const inM2 = (args: string[]) => runIn(lab.machine('m2').ns, args);
    const plan = await inM2(['plan', '-f', file]);
    assert.equal(plan.code, 1, `${explain(plan)}`);
    assert.match(plan.stdout, /note: Tailscale: logged in to tailnet \S+ as workstation \(user lab\), Running/);
    assert.match(plan.stdout, /! blocked: the node is already logged in elsewhere/);
    assert.match(plan.stdout, /! blocked: peer-provision reaches this machine over Tailscale \(ssh from 100\./);
    assert.match(plan.stdout, /fix: .*tailscale\.takeOver: true/);
    const r = await inM2(['up', '--yes', '-f', file]);
    assert.equal(r.code, 1, `${explain(r)}`);
    assert.match(r.stderr, /up refused, nothing was changed/);
    assert.deepEqual([await snapshot(lab, 'm1'), await snapshot(lab, 'm2')], before, 'nothing changed on either machine');
    assert.equal(await tailnetIp(lab, 'm1'), m1Ip, 'm1 is still on its tailnet');
    // clean slate for the next test: logged out, and the nodes deleted at headscale as their owner would (headscale
    // 0.29 does not let a logged-out node register again with a new key)
    for (const m of ['m1', 'm2']) await lab.run(m, 'tailscale logout');
    lab.deleteNodes();
  });
});

/** The real CLI with its network in a lab machine's namespace (its files are this host's). */
function runIn(ns: string, args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end('');
  });
}
