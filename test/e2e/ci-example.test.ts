/**
 * The CI example (examples/ci/peer-provision-ci.sh) run as a CI job would run it, against the lab's real machines:
 * the ssh key only through an agent (from an environment variable, never on disk), known_hosts only from an
 * environment variable, CI=true. Proves the plan artifact holds no secret, the exit codes a CI gate relies on
 * (plan 0 with pending changes, drift 3 before up and 0 after), JSON events on stdout and timestamped progress
 * on stderr.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CLI, type CliResult, explain, jsonDocument, jsonEvents, ROOT, runCli, tempDir } from '../helpers.js';
import { type Lab, labStatus } from '../lab/lab.js';
import { labForFile } from '../lab/shared.js';
import { record } from '../timing/record.js';
import { a2aAnswer, assertNoLeak, CONFIG, config, secretsOf, tailnetIp } from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;
const SCRIPT = join(ROOT, 'examples/ci/peer-provision-ci.sh');

describe('examples/ci/peer-provision-ci.sh against the lab', () => {
  let lab: Lab;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  const job = (command: string) => {
    record(`cli ${({ apply: 'up', destroy: 'down' } as Record<string, string>)[command] ?? command}`);
    return new Promise<CliResult>((done) => {
      // only what a CI runner would have: PATH, HOME, and the job's variables (no SSH_AUTH_SOCK of ours)
      const clean = { PATH: process.env.PATH, HOME: dir, ...env };
      execFile('sh', [SCRIPT, command], { cwd: dir, env: clean, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  };

  labForFile(skip, { machines: 2 }, async (ready) => {
    lab = ready;
    dir = tempDir('pp-ci-');
    // The lab's ssh_config without its IdentityFile (the key comes from the agent) and with known_hosts where
    // the job writes them: nothing of the lab's own ssh folder is used.
    const sshConfig = readFileSync(lab.sshConfigPath, 'utf8')
      .replace(/^ *IdentityFile .*\n/m, '')
      .replace(/IdentitiesOnly yes/, 'IdentitiesOnly no')
      .replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${join(dir, 'known_hosts')}`);
    writeFileSync(join(dir, 'ssh_config'), sshConfig);
    lab.peerYaml({ path: join(dir, 'peer.yaml'), name: 'ci', sshConfig: join(dir, 'ssh_config') });
    env = {
      CI: 'true',
      PEER_PROVISION: `${process.execPath} ${CLI}`,
      SSH_PRIVATE_KEY: readFileSync(lab.identityPath, 'utf8'),
      SSH_KNOWN_HOSTS: readFileSync(lab.knownHostsPath, 'utf8'),
      SSH_KNOWN_HOSTS_FILE: join(dir, 'known_hosts'),
    };
  });

  test('plan writes a secret-free JSON artifact, exit 0 with changes pending; drift says 3', { skip, timeout: 120_000 }, async () => {
    assert.ok(!existsSync(join(dir, 'known_hosts')), 'known_hosts come from the job, not from before');
    const plan = await job('plan');
    assert.equal(plan.code, 0, plan.stderr);
    const doc = await jsonDocument(readFileSync(join(dir, 'plan.json'), 'utf8'), 'peer-provision/plan@2'); // the artifact matches the schema
    assert.equal(doc.format, 'peer-provision/plan@2');
    assert.deepEqual(
      doc.machines.map((m) => m.observed),
      ['observed', 'observed'],
      'reached through the agent and the given known_hosts',
    );
    assert.deepEqual(doc.blockers, []);
    assert.ok(doc.summary.add > 0);
    assert.match(readFileSync(join(dir, 'known_hosts'), 'utf8'), /ssh-ed25519/);
    const artifact = { code: 0, stdout: readFileSync(join(dir, 'plan.json'), 'utf8'), stderr: plan.stderr };
    assertNoLeak(lab, [...secretsOf(lab, ['m1', 'm2']), env.SSH_PRIVATE_KEY!.split('\n')[1]!], artifact, plan);
    assert.equal((await job('drift')).code, 3, 'drift before up: changes pending');
  });

  test('apply: JSON events on stdout to the end, progress timestamped on stderr; then drift is 0', { skip, timeout: 300_000 }, async () => {
    const r = await job('apply');
    assert.equal(r.code, 0, `${explain(r)}`);
    const events = await jsonEvents(r.stdout); // every line checked against schemas/events.schema.json
    assert.equal(events[0].event, 'plan');
    const result = events.at(-1)!;
    assert.ok(result.event === 'result');
    assert.deepEqual([result.ok, result.exitCode], [true, 0]);
    assert.ok(
      events.some((e) => e.event === 'step' && e.status === 'done'),
      'the steps are reported',
    );
    assert.match(r.stderr, /^. \[\d\d:\d\d:\d\d\] .*join the tailnet/m, 'timestamped progress on stderr');
    assert.ok(!/^\{/m.test(r.stderr), 'no JSON on stderr');
    assert.equal(readFileSync(join(dir, 'peer-provision-events.jsonl'), 'utf8'), r.stdout, 'the events artifact is what was printed');
    assertNoLeak(lab, [...secretsOf(lab, ['m1', 'm2']), env.SSH_PRIVATE_KEY!.split('\n')[1]!], r);
    const drift = await job('drift');
    assert.equal(drift.code, 0, drift.stdout + drift.stderr);
    // the same stack from a terminal-less shell without --json: the summary table closes a converged up
    const direct = lab.peerYaml({ path: join(dir, 'direct.yaml'), name: 'ci' });
    const again = await runCli(['up', '--yes', '-f', direct]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^MACHINE +TAILNET IP +GATEWAY URL +VERIFIED$/m);
    assert.match(again.stdout, /^m1 +100\.64\.\d+\.\d+ +http:\/\/100\.64\.\d+\.\d+:18789 +yes \(3 checks\)$/m);
  });

  test('--machine m1: down and up act on m1 only; m2 is left exactly as it is', { skip, timeout: 300_000 }, async () => {
    const direct = join(dir, 'direct.yaml');
    const m2 = { pid: lab.gatewayPid('m2'), config: lab.readFile('m2', CONFIG), ip: await tailnetIp(lab, 'm2') };
    const unchanged = async () => {
      assert.equal(lab.gatewayPid('m2'), m2.pid, 'm2 was not restarted');
      assert.equal(lab.readFile('m2', CONFIG), m2.config, "m2's config is byte for byte the same");
      assert.equal(await tailnetIp(lab, 'm2'), m2.ip, 'm2 is still on the tailnet');
    };
    const plan = await runCli(['plan', '--for', 'down', '--machine', 'm1', '-f', direct]);
    assert.match(plan.stdout, /machine m2 \(lab-m2\): not targeted \(--machine\): left as it is/);
    const down = await runCli(['down', '--yes', '--machine', 'm1', '-f', direct]);
    assert.equal(down.code, 0, down.stdout + down.stderr);
    assert.equal(await tailnetIp(lab, 'm1'), undefined, 'm1 left the tailnet');
    await unchanged();
    lab.peerYaml({ path: direct, name: 'ci' }); // joining again takes a fresh single-use key
    const up = await runCli(['up', '--yes', '--machine', 'm1', '-f', direct]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match((await tailnetIp(lab, 'm1')) ?? '', /^100\.64\./, 'm1 joined again');
    await unchanged();
  });

  test('rotate: new A2A tokens for the pair, both sides in one run, no restart; the old one is refused, the new one taken', {
    skip,
    timeout: 300_000,
  }, async () => {
    const direct = join(dir, 'direct.yaml');
    const a2a = (m: string, peer: string) => config(lab, m).channels.a2a.peers[peer] as { token: string; outboundToken: string };
    const owner = { m1: config(lab, 'm1').gateway.auth.token, m2: config(lab, 'm2').gateway.auth.token };
    const old = { m1m2: a2a('m1', 'm2').outboundToken, m2m1: a2a('m2', 'm1').outboundToken };
    const pids = { m1: lab.gatewayPid('m1'), m2: lab.gatewayPid('m2') };
    const preview = await runCli(['plan', '--for', 'rotate', '--detailed-exitcode', '-f', direct]);
    assert.equal(preview.code, 3, preview.stdout + preview.stderr);
    assert.equal(preview.stdout.match(/channels\.a2a\.peers\.m[12]\.(outboundToken|token): \(sensitive value\)/g)?.length, 4, 'both tokens on both sides');
    assert.doesNotMatch(preview.stdout, /gateway-restart/, 'OpenClaw reloads channels.a2a: no restart');
    assert.equal(a2a('m1', 'm2').outboundToken, old.m1m2, 'plan changed nothing');
    const r = await runCli(['rotate', '--yes', '-f', direct]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /rotate complete: every peer pair verified/);
    assert.match(r.stdout, /ok {3}m2 -> m1 message +sent by m2's gateway/, "the new tokens carried a message, m2's gateway sending");
    const now = { m1m2: a2a('m1', 'm2').outboundToken, m2m1: a2a('m2', 'm1').outboundToken };
    assert.notEqual(now.m1m2, old.m1m2);
    assert.notEqual(now.m2m1, old.m2m1);
    assert.equal(a2a('m2', 'm1').token, now.m1m2, 'both sides of the pair agree');
    assert.equal(a2a('m1', 'm2').token, now.m2m1);
    assert.deepEqual({ m1: config(lab, 'm1').gateway.auth.token, m2: config(lab, 'm2').gateway.auth.token }, owner, "the owners' tokens are not rotated");
    assert.deepEqual({ m1: lab.gatewayPid('m1'), m2: lab.gatewayPid('m2') }, pids, 'no gateway restarted');
    // from m2 over the tailnet, the token on curl's stdin as a header line: m1 refuses the old token and takes the new one
    const ip = await tailnetIp(lab, 'm1');
    const call = (t: string) => a2aAnswer(lab, 'm2', ip!, t);
    assert.equal(await call(old.m2m1), '401');
    assert.equal(await call(now.m2m1), '200');
    assertNoLeak(lab, [old.m1m2, old.m2m1, now.m1m2, now.m2m1], r);
    const again = await runCli(['up', '--yes', '-f', direct]);
    assert.match(again.stdout, /No changes\./, 'the next up keeps the new tokens');
  });

  test('destroy: down --yes, a result event, exit 0', { skip, timeout: 300_000 }, async () => {
    const r = await job('destroy');
    assert.equal(r.code, 0, `${explain(r)}`);
    const last = (await jsonEvents(r.stdout)).at(-1)!;
    assert.deepEqual([last.event, 'ok' in last && last.ok], ['result', true]);
  });
});
