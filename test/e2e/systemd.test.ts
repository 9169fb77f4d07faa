/**
 * End to end on machines of kind `systemd` (the way most people run OpenClaw): real systemd as PID 1, ssh as the
 * non-root user `lab` with sudo, the gateway a systemd USER unit from `openclaw gateway install`, lingering on,
 * Tailscale (the real client, built by the lab) installed as a `tailscaled` system service by its install script.
 * One lab for the file (m1, m2: systemd; m3: supervisor); the tests run in order and each builds on the last:
 * the machine itself; what stops an up on this kind before anything is touched (lingering off, sudo that asks for a
 * password); then one stack of all three (a systemd pair and two mixed pairs in one up: fresh up, converged re-run,
 * a pair taken out), on which m2's user unit fails and up starts it again, then m2's gateway moves to a system unit,
 * which a converged up finds and down restarts; down puts back every config byte for byte. (One stack for all of
 * it: each fresh up and each down restarts every gateway, and most of CI's time goes to gateway starts. sshd killed
 * in the middle of up is in faults.test.ts, unknown host keys and drift in up-down.test.ts: none depends on the kind
 * of machine; a restart through systemctl --user, which drift repairs with, is fresh up's.)
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import JSON5 from 'json5';
import { sha256 } from '../../src/model/hash.js';
import { explain, runCli } from '../helpers.js';
import { type Lab, labStatus, waitFor } from '../lab/lab.js';
import { filesOf, labForFile } from '../lab/shared.js';
import { assertNoLeak, down, filesWithSecrets, listening, secretsOf, tailnetIp, up } from './lab-helpers.js';

const status = labStatus(['supervisor', 'systemd']);
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;
const out = explain;

describe('systemd machines: a user unit, a non-root user with sudo, tailscaled as a service', () => {
  let lab: Lab;
  let file: string;
  let original = new Map<string, string>();
  const cfg = (m: string) => lab.machine(m).configPath;
  const config = (m: string) => JSON5.parse(lab.readFile(m, cfg(m))) as { gateway: Record<string, any> };
  const user = (m: string, cmd: string) => lab.runAsUser(m, cmd);
  /** MainPID of lab's gateway user unit (0 when it does not run). */
  const unitPid = async (m: string) => Number((await user(m, 'systemctl --user show -p MainPID --value openclaw-gateway.service')).stdout.trim());
  /** MainPID of the gateway's system unit (0 when it does not run). */
  const systemPid = async (m: string) => Number((await lab.run(m, 'systemctl show -p MainPID --value openclaw-gateway.service')).stdout.trim());
  const unitState = async (m: string) => (await user(m, 'systemctl --user is-active openclaw-gateway.service')).stdout.trim();
  const bytes = (names: string[]) => names.map((m) => lab.readFile(m, cfg(m)));
  const pair = (a: string, b: string, path: string) => lab.peerYaml({ machines: [a, b], path: join(lab.stateDir, path), name: path.replace(/\.yaml$/, '') });

  labForFile(skip, { machines: 3, kinds: ['systemd', 'systemd', 'supervisor'] }, async (ready) => {
    lab = ready;
    file = lab.peerYaml({ path: join(lab.stateDir, 'lab.yaml') });
    original = filesOf(lab, ['m1', 'm2', 'm3'], cfg);
  });

  test('the machine: systemd PID 1, ssh as lab (root refused), passwordless sudo, lingering, the gateway a user unit', { skip, timeout: 60_000 }, async () => {
    for (const m of ['m1', 'm2']) {
      assert.equal((await lab.run(m, 'cat /proc/1/comm')).stdout.trim(), 'systemd');
      // each machine's systemd has a cgroup tree of its own (not one shared /payload)
      assert.match(readFileSync(`/proc/${lab.machine(m).initPid}/cgroup`, 'utf8'), new RegExp(`^0::/pplab-${m}/payload/`, 'm'));
      const who = await lab.ssh(m, 'id -un; echo $XDG_RUNTIME_DIR; sudo -n id -un; loginctl show-user lab -p Linger --value');
      assert.equal(who.stdout, 'lab\n/run/user/1000\nroot\nyes\n', who.stderr);
      const root = await lab.ssh(m, 'true', { user: 'root' });
      assert.equal(root.code, 255);
      assert.match(root.stderr, /Permission denied/);
      assert.equal((await lab.run(m, 'systemctl is-active ssh.service')).stdout.trim(), 'active');
      assert.equal(await unitState(m), 'active');
      const pid = await unitPid(m);
      assert.ok(pid > 0);
      assert.equal(lab.gatewayPid(m), pid);
      assert.match(lab.readFile(m, `/proc/${pid}/cgroup`), /user@1000\.service\/app\.slice\/openclaw-gateway\.service/);
      assert.ok(lab.readFile(m, '/home/lab/.config/systemd/user/openclaw-gateway.service').includes('ExecStart='));
      assert.equal(statSync(lab.hostPath(m, cfg(m))).uid, 1000);
      assert.notEqual((await lab.run(m, 'command -v tailscale')).code, 0, 'no tailscale yet');
    }
  });

  // ---- before the stack: what refuses an up on this kind; each case starts from m2 + m3 as the users had them, and leaves them so
  test('lingering off: plan and up name the fix, nothing is touched on any machine', { skip, timeout: 180_000 }, async () => {
    const file23 = pair('m2', 'm3', 'linger.yaml');
    assert.equal((await lab.run('m2', 'loginctl disable-linger lab')).code, 0);
    const before = bytes(['m2', 'm3']);
    const plan = await runCli(['plan', '-f', file23]);
    assert.match(plan.stdout, /machine m2 [\s\S]*! blocked: lingering is off for lab: .*\n +fix: sudo loginctl enable-linger lab \(on m2\)/);
    const r = await up(file23);
    assert.equal(r.code, 1, out(r));
    assert.match(
      r.stderr,
      /up refused, nothing was changed:\n {2}- m2: lingering is off for lab: .*\n +fix: sudo loginctl enable-linger lab \(on m2\), then re-run/,
    );
    assert.deepEqual(bytes(['m2', 'm3']), before, 'no config written');
    assert.equal(await tailnetIp(lab, 'm3'), undefined, 'm3 did not join either');
    assert.equal((await lab.run('m2', 'ls /home/lab/.peer-provision 2>&1')).code, 2);
    // the fix the tool named works: the user manager starts the enabled unit again
    assert.equal((await lab.run('m2', 'loginctl enable-linger lab')).code, 0);
    await lab.waitGateways(['m2'], 60_000);
  });

  test('sudo that asks for a password: refused at once with a clear message, nothing touched', { skip, timeout: 120_000 }, async () => {
    const file23 = pair('m2', 'm3', 'sudo.yaml');
    const sudoers = lab.readFile('m2', '/etc/sudoers.d/lab');
    lab.writeFile('m2', '/etc/sudoers.d/lab', 'lab ALL=(ALL) ALL\n', 0o440);
    assert.equal((await lab.run('m2', "echo 'lab:a-password' | chpasswd")).code, 0);
    try {
      const before = bytes(['m2', 'm3']);
      const t0 = Date.now();
      const r = await up(file23);
      assert.equal(r.code, 1, out(r));
      assert.ok(Date.now() - t0 < 60_000, 'no hang');
      assert.match(
        r.stderr,
        /up refused, nothing was changed:\n {2}- m2: lab cannot run commands as root without a password \(sudo -n: sudo: a password is required\); Tailscale needs root\n +fix: allow lab passwordless sudo on m2/,
      );
      assert.deepEqual(bytes(['m2', 'm3']), before);
      assert.equal(await tailnetIp(lab, 'm3'), undefined);
      assert.equal(await tailnetIp(lab, 'm2'), undefined);
    } finally {
      lab.writeFile('m2', '/etc/sudoers.d/lab', sudoers, 0o440);
      await lab.run('m2', "usermod -p '*' lab");
    }
  });

  test('fresh up: sudo for tailscale, tailscaled running, restart through systemctl --user gives a new process bound to the tailnet', {
    skip,
    timeout: 300_000,
  }, async () => {
    const before = { m1: await unitPid('m1'), m2: await unitPid('m2') };
    const m3Pid = lab.gatewayPid('m3');
    const r = await up(file);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /~ gateway-config +back up, then patch \/home\/lab\/\.openclaw\/openclaw\.json/);
    // the systemd pair, and each systemd machine with the supervisor one (root), both ways
    for (const [a, b] of [
      ['m1', 'm2'],
      ['m2', 'm1'],
      ['m1', 'm3'],
      ['m3', 'm1'],
      ['m2', 'm3'],
      ['m3', 'm2'],
    ]) {
      assert.match(r.stdout, new RegExp(`ok {3}${a} -> ${b} message +sent by ${a}'s gateway; ${b} holds the task `));
    }
    assert.match(r.stdout, /up complete/);
    const ip3 = await tailnetIp(lab, 'm3');
    assert.match(ip3 ?? '', /^100\.64\./, 'm3 joined');
    assert.ok((await listening(lab, 'm3')).includes(ip3!), 'm3 listens on its tailnet address');
    assert.notEqual(lab.gatewayPid('m3'), m3Pid, "m3's gateway is a new process");
    assert.equal(config('m3').gateway.bind, 'tailnet');
    for (const m of ['m1', 'm2'] as const) {
      const ip = await tailnetIp(lab, m);
      assert.match(ip ?? '', /^100\.64\./, `${m} joined`);
      assert.ok((await listening(lab, m)).includes(ip!), `${m} listens on its tailnet address`);
      const pid = await unitPid(m);
      assert.ok(pid > 0 && pid !== before[m], `${m}: the user unit runs a new gateway process (${before[m]} -> ${pid})`);
      assert.equal(await unitState(m), 'active');
      assert.equal((await lab.run(m, 'systemctl is-active tailscaled.service')).stdout.trim(), 'active', 'tailscaled is a system service');
      assert.equal(config(m).gateway.bind, 'tailnet');
      const st = statSync(lab.hostPath(m, cfg(m)));
      assert.deepEqual([st.uid, (st.mode & 0o777).toString(8)], [1000, '600'], "the config stays the user's, 0600");
      const backup = `/home/lab/.peer-provision/lab/configs/${sha256(cfg(m)).slice(0, 16)}/orig`;
      assert.equal((statSync(lab.hostPath(m, backup)).mode & 0o777).toString(8), '600', 'the backup of the config');
      // tailscale up ran as root (through sudo -n): the node's state file is root's
      assert.equal(statSync(lab.hostPath(m, '/var/lib/tailscale/tailscaled.state')).uid, 0);
      assert.ok(lab.argvLog(m).some((e) => e.argv[0] === 'up'));
    }
    const secrets = secretsOf(lab, ['m1', 'm2', 'm3']);
    assertNoLeak(lab, secrets, r);
    for (const m of ['m1', 'm2', 'm3']) {
      const found = await filesWithSecrets(lab, m, secrets);
      assert.ok(
        found.some((f) => f.endsWith(` ${cfg(m)}`)),
        `the scan finds the config on ${m}: ${found}`,
      );
      assert.deepEqual(
        found.filter((f) => !f.startsWith('600 ')),
        [],
        `${m}: secrets in files that are not 0600`,
      );
    }
  });

  test('a second up changes nothing: no restart, no write', { skip, timeout: 120_000 }, async () => {
    const pids = [await unitPid('m1'), await unitPid('m2'), lab.gatewayPid('m3')];
    const before = bytes(['m1', 'm2', 'm3']);
    const r = await up(file);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /Plan: 0 to add, 0 to change, 0 to destroy\./);
    assert.match(r.stdout, /No changes\. 18 of 18 checks passed\./);
    assert.deepEqual([await unitPid('m1'), await unitPid('m2'), lab.gatewayPid('m3')], pids);
    assert.deepEqual(bytes(['m1', 'm2', 'm3']), before);
  });

  test('a pair taken out of peers: m2 and m3 drop each other without a restart, and m2 refuses m3 from then on', { skip, timeout: 300_000 }, async () => {
    const partial = lab.peerYaml({
      path: join(lab.stateDir, 'partial.yaml'),
      top: {
        peers: [
          ['m1', 'm2'],
          ['m1', 'm3'],
        ],
      },
    });
    const a2a = (m: string) =>
      (JSON5.parse(lab.readFile(m, cfg(m))) as { channels: { a2a: { peers: Record<string, { outboundToken: string }> } } }).channels.a2a;
    const m3ToM2 = a2a('m3').peers.m2!.outboundToken;
    const pids = [await unitPid('m2'), lab.gatewayPid('m3')];
    const r = await up(partial);
    assert.equal(r.code, 0, out(r));
    assert.doesNotMatch(r.stdout, /gateway-restart/, 'OpenClaw reloads channels.a2a: no restart');
    assert.deepEqual([await unitPid('m2'), lab.gatewayPid('m3')], pids);
    assert.deepEqual(Object.keys(a2a('m2').peers), ['m1']);
    assert.deepEqual(Object.keys(a2a('m3').peers), ['m1']);
    // m3, no longer m2's peer, is refused by m2 with the token it held (once m2's channel has reloaded: moments)
    const ip2 = await tailnetIp(lab, 'm2');
    let code = '';
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && code !== '401'; await new Promise((done) => setTimeout(done, 500))) {
      code = (
        await lab.run(
          'm3',
          `printf 'Authorization: Bearer %s\\n' "$(cat)" | curl -s -o /dev/null -w '%{http_code}' -H @- -X POST -H 'Content-Type: application/json' --data '{"jsonrpc":"2.0","id":"1","method":"GetTask","params":{"id":"x"}}' http://${ip2}:18789/a2a/v1`,
          { input: m3ToM2 },
        )
      ).stdout;
    }
    assert.equal(code, '401', 'm2 refuses m3, which is not its peer any more');
  });

  // (failed rather than stopped: an inactive unit is started the same way, by the same `systemctl --user restart`)
  // The whole stack's up: m2's config is already what up writes, so the restart is the only change there, and the
  // pair m2-m3 that the case before took out comes back (a reload, no restart).
  test('the user unit failed (killed, and systemd told not to restart it): up starts it through systemctl --user with the tailnet bind', {
    skip,
    timeout: 420_000,
  }, async () => {
    const dropIn = '/home/lab/.config/systemd/user/openclaw-gateway.service.d';
    const pids = { m1: await unitPid('m1'), m3: lab.gatewayPid('m3') };
    try {
      const f = await user(
        'm2',
        `mkdir -p ${dropIn} && printf '[Service]\\nRestart=no\\n' > ${dropIn}/lab.conf && systemctl --user daemon-reload` +
          ' && kill -KILL $(systemctl --user show -p MainPID --value openclaw-gateway.service); sleep 1; systemctl --user is-failed openclaw-gateway.service',
      );
      assert.equal(f.stdout.trim(), 'failed', f.stderr);
      const plan = await runCli(['plan', '-f', file]);
      assert.match(
        plan.stdout,
        /machine m2 [^\n]*\n(?:  [^\n]*\n)*  ~ gateway-restart +restart the gateway \(the gateway is not listening on the tailnet address\)/,
        out(plan),
      );
      const r = await up(file);
      assert.equal(r.code, 0, out(r));
      assert.match(r.stdout, /ok {3}m3 -> m2 message +sent by m3's gateway; m2 holds the task /);
      assert.equal(await unitState('m2'), 'active');
      assert.ok((await listening(lab, 'm2')).includes((await tailnetIp(lab, 'm2'))!));
      assert.deepEqual({ m1: await unitPid('m1'), m3: lab.gatewayPid('m3') }, pids, 'only m2 is restarted');
    } finally {
      // also when a step above failed: from here on systemd restarts the unit again
      await user('m2', `rm -rf ${dropIn} && systemctl --user daemon-reload && systemctl --user start openclaw-gateway.service`);
    }
  });

  // m2's gateway moves to a system unit, on the config up wrote. A converged up finds it (and changes nothing), verify
  // delivers m3's message to it, and down (next) restarts it through sudo systemctl: the same restart step up takes.
  let systemUnitPid = 0;
  test('the gateway as a system unit (User=lab) instead of a user unit: found, verified with a message', { skip, timeout: 420_000 }, async () => {
    const unit = lab
      .readFile('m2', '/home/lab/.config/systemd/user/openclaw-gateway.service')
      .replace('[Service]', '[Service]\nUser=lab')
      .replace('WantedBy=default.target', 'WantedBy=multi-user.target');
    assert.equal(
      (
        await user(
          'm2',
          'systemctl --user disable --now openclaw-gateway.service && rm ~/.config/systemd/user/openclaw-gateway.service && systemctl --user daemon-reload',
        )
      ).code,
      0,
    );
    lab.writeFile('m2', '/etc/systemd/system/openclaw-gateway.service', unit, 0o644);
    assert.equal((await lab.run('m2', 'systemctl daemon-reload && systemctl enable --now openclaw-gateway.service')).code, 0);
    const ip = (await tailnetIp(lab, 'm2'))!;
    await waitFor("m2's system unit listening on its tailnet address", async () => (await listening(lab, 'm2')).includes(ip), 120_000, 1000);
    systemUnitPid = await systemPid('m2');
    assert.ok(systemUnitPid > 0, 'the system unit runs the gateway');

    const again = await up(file);
    assert.equal(again.code, 0, out(again));
    assert.match(again.stdout, /Plan: 0 to add, 0 to change, 0 to destroy\./, out(again));
    assert.equal(await systemPid('m2'), systemUnitPid, 'a converged up restarts nothing');

    const v = await runCli(['verify', '--machine', 'm2', '--machine', 'm3', '-f', file]); // (the pair: m1's are fresh up's)
    assert.equal(v.code, 0, out(v));
    for (const check of ['agent-card', 'token-enforced', 'token-accepted', 'message']) {
      assert.match(v.stdout, new RegExp(`ok {3}m3 -> m2 ${check} `), `m3 -> m2 ${check}`);
      assert.match(v.stdout, new RegExp(`ok {3}m2 -> m3 ${check} `), `m2 -> m3 ${check}`);
    }
  });

  test('down: original bytes back, tailnet left, every gateway running on loopback (m2 restarted through sudo systemctl)', {
    skip,
    timeout: 300_000,
  }, async () => {
    assert.ok(systemUnitPid > 0, "the case before moved m2's gateway to a system unit");
    const r = await down(file);
    assert.equal(r.code, 0, out(r));
    for (const m of ['m1', 'm2', 'm3']) {
      assert.equal(lab.readFile(m, cfg(m)), original.get(m), `${m} restored byte for byte`);
      assert.equal(await tailnetIp(lab, m), undefined, `${m} left the tailnet`);
      assert.deepEqual(await listening(lab, m), ['127.0.0.1']);
      const home = m === 'm3' ? '/root' : '/home/lab';
      assert.equal((await lab.run(m, `ls ${home}/.openclaw/peer-agent ${home}/.peer-provision 2>&1`)).code, 2, 'peer files and state removed');
    }
    assert.equal(await unitState('m1'), 'active');
    const pid = await systemPid('m2');
    assert.ok(pid > 0 && pid !== systemUnitPid, 'down restarted the system unit: a new gateway process');
  });
});
