/**
 * End to end: the real CLI against the lab's real machines (real sshd, real OpenClaw gateways, the
 * Tailscale test double). The run's lab, reset for the file; the tests run in order and each builds on the last:
 * fresh up (run on m1 itself: `ssh: local`), converged re-run, peers and send, --json, drift with saved plans, down (byte for byte /
 * keeping later edits), unknown host keys. m1's config is a relative symlink into a dotfiles folder, as GNU stow makes
 * them: it stays a link through up, drift and down, and the user's edits made between two ups survive down. (A machine
 * lost in the middle of up, with the named error and the other machine going through, is in faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sha256 } from '../../src/model/hash.js';
import { explain, jsonDocument, jsonEvents, runCli, tempDir } from '../helpers.js';
import { type Lab, labStatus, MACHINE_REPO } from '../lab/lab.js';
import { filesOf, labForFile } from '../lab/shared.js';
import { record } from '../timing/record.js';
import {
  assertNoLeak,
  CONFIG,
  config,
  down,
  filesWithSecrets,
  listening,
  mode,
  secretsOf,
  sendAndShow,
  tailnetIp,
  up,
  writeConfigAndSettle,
} from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;
/** m1's config is a link (relative, so the host reads through it too) to a file in a dotfiles folder. */
const LINK = '../dotfiles/openclaw.json';
const DOTFILE = '/root/dotfiles/openclaw.json';

// m1 starts as a user who already has settings of their own: a JSON5 comment, a tools allow-list, logging.
const USER_CONFIG = (token: string) => `// my gateway (hand-written JSON5)
{
  gateway: {
    mode: "local",
    port: 18789,
    bind: "loopback",
    auth: { mode: "token", token: "${token}" },
    tools: { allow: ["sessions_list"] }, // mine
  },
  models: { catalogRefresh: { enabled: false } },
  update: { checkOnStart: false },
  logging: { file: "/root/.openclaw/logs/openclaw.log", level: "info" },
}
`;

describe('up, verify, status, down against the lab', () => {
  let lab: Lab;
  let file: string;
  let original = new Map<string, string>();

  labForFile(skip, { machines: 2, configs: { m1: USER_CONFIG } }, async (ready) => {
    lab = ready;
    // m1's config lives in a dotfiles folder; its gateway reads it through the link
    const linked = await lab.run('m1', `mkdir -p /root/dotfiles && mv ${CONFIG} ${DOTFILE} && ln -s ${LINK} ${CONFIG}`);
    assert.equal(linked.code, 0, linked.stderr);
    file = lab.peerYaml();
    original = filesOf(lab, ['m1', 'm2'], CONFIG);
  });

  // Run on m1 itself, as someone who runs peer-provision on one of their machines does: m1 is `ssh: local`, m2 is
  // reached over ssh (every other file runs the tool from the host, over ssh to every machine).
  test('fresh up, run on m1 itself (ssh: local) and over ssh to m2: install, join, patch, restart, peer files, verify with a real message', {
    skip,
    timeout: 300_000,
  }, async () => {
    const pids = { m1: lab.gatewayPid('m1'), m2: lab.gatewayPid('m2') };
    assert.equal(await tailnetIp(lab, 'm1'), undefined, 'tailscale is not installed yet');
    const local = lab.peerYaml({ path: `${lab.stateDir}/peer-local.yaml`, machine: (name, entry) => (name === 'm1' ? { ...entry, ssh: 'local' } : entry) });
    record('cli up');
    const r = await lab.run('m1', `cd ${MACHINE_REPO} && node bin/peer-provision.js up --yes -f ${local}`, { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `${explain(r)}`);
    assert.match(r.stdout, /\+ tailscale-install +install Tailscale from https:\/\/.*install\.sh/);
    assert.match(r.stdout, /~ gateway-config +back up, then patch \/root\/\.openclaw\/openclaw\.json/);
    assert.match(r.stdout, /ok {3}m1 -> m2 message +sent by m1's gateway; m2 holds the task /);
    assert.match(r.stdout, /ok {3}m2 -> m1 message +sent by m2's gateway; m1 holds the task /);
    assert.match(r.stdout, /ok {3}m2 -> m1 token-enforced +no token: 401, a wrong token: 401/);
    assert.match(r.stdout, /ok {3}m1 -> m1 audit +no critical finding about the gateway or A2A/);
    assert.match(r.stdout, /ok {3}m2 -> m2 audit +no critical finding about the gateway or A2A/);
    assert.match(r.stdout, /up complete/);

    for (const m of ['m1', 'm2'] as const) {
      const ip = await tailnetIp(lab, m);
      assert.match(ip ?? '', /^100\.64\./, `${m} joined`);
      assert.ok((await listening(lab, m)).includes(ip!), `${m} listens on its tailnet address`);
      assert.notEqual(lab.gatewayPid(m), pids[m], `${m}'s gateway is a new process`);
      const gw = config(lab, m).gateway;
      assert.equal(gw.bind, 'tailnet');
      assert.equal(gw.auth.mode, 'token');
      const peer = m === 'm1' ? 'm2' : 'm1';
      assert.ok(!(gw.tools?.allow ?? []).includes('sessions_send'), 'no tool re-enabled on /tools/invoke');
      const a2a = config(lab, m).channels.a2a;
      assert.equal(a2a.enabled, true);
      assert.deepEqual(Object.keys(a2a.peers), [peer], `${m} lists exactly its peer`);
      assert.equal(a2a.peers[peer].url, `http://${await tailnetIp(lab, peer)}:18789/a2a/v1`);
      assert.equal(mode(lab, m, CONFIG), '600');
      assert.equal(mode(lab, m, `/root/.peer-provision/lab/configs/${sha256(CONFIG).slice(0, 16)}/orig`), '600', 'the backup of the config');
    }
    assert.equal((await lab.run('m1', `readlink ${CONFIG}`)).stdout.trim(), LINK, "m1's config is still a link to the same file");
    // the user's own settings survive
    const m1 = config(lab, 'm1');
    assert.deepEqual(m1.gateway.tools.allow, ['sessions_list']);
    // one token per direction: what m1 presents to m2 is what m2 expects from m1, and not the other way's
    const m2 = config(lab, 'm2');
    assert.equal(m1.channels.a2a.peers.m2.outboundToken, m2.channels.a2a.peers.m1.token);
    assert.equal(m2.channels.a2a.peers.m1.outboundToken, m1.channels.a2a.peers.m2.token);
    assert.notEqual(m1.channels.a2a.peers.m2.token, m1.channels.a2a.peers.m2.outboundToken);
    // each gateway messages the other through its outbound A2A peer, and the receiver shows it in the sender's session
    await sendAndShow(lab, 'm1', 'm2');
    await sendAndShow(lab, 'm2', 'm1');
    const m2ip = await tailnetIp(lab, 'm2');
    // Nothing readable on m1 grants operator access to m2. First m2's operator WebSocket (OpenClaw's own client, the candidate in a 0600 probe config on m1): refused as
    // "unauthorized". m2's own gateway token, handed in for the probe, gets past the token to OpenClaw's next gate
    // (device pairing), so the probe tells an accepted token from a refused one. (First, and few: OpenClaw rate-limits
    // failed authentication per client address, which the scan below reaches.)
    const operator = async (token: string) => {
      const r = await lab.run(
        'm1',
        `p=$(umask 077 && mktemp); printf '{ gateway: { mode: "remote", remote: { url: "ws://${m2ip}:18789", token: "%s" } } }\\n' "$(cat)" > "$p"; OPENCLAW_CONFIG_PATH="$p" openclaw gateway call health --json 2>&1; rm -f "$p"`,
        { input: token },
      );
      return r.stdout;
    };
    assert.match(await operator(m2.gateway.auth.token), /"code": "NOT_PAIRED"/, "the probe: m2's own token passes m2's token check");
    for (const t of [m1.gateway.auth.token, m1.channels.a2a.peers.m2.token, m1.channels.a2a.peers.m2.outboundToken]) {
      const answer = await operator(t);
      assert.match(answer, /unauthorized: gateway token mismatch/, "a token on m1 passed m2's operator WebSocket's token check");
      assert.doesNotMatch(answer, /"ok": true|NOT_PAIRED/);
    }
    // Then every secret-looking string in m1's config, peer files, skill and state folder is refused by m2's
    // /tools/invoke (401, or 429 once OpenClaw rate-limits the failures).
    const scan = await lab.run(
      'm1',
      `cat ${CONFIG} /root/.openclaw/peer-agent/* /root/.openclaw/workspace/skills/peer-messaging/SKILL.md $(find /root/.peer-provision -type f) | grep -oE '[A-Za-z0-9._~+=-]{24,512}' | sort -u`,
    );
    const candidates = scan.stdout.split('\n').filter(Boolean);
    for (const t of [m1.gateway.auth.token, m1.channels.a2a.peers.m2.token, m1.channels.a2a.peers.m2.outboundToken]) {
      assert.ok(candidates.includes(t), 'the scan finds the tokens m1 holds');
    }
    const codes = await lab.run(
      'm1',
      `while read -r t; do printf 'Authorization: Bearer %s\\n' "$t" | curl -s -o /dev/null -w '%{http_code}\\n' -H @- -X POST -H 'Content-Type: application/json' --data '{"tool":"sessions_list","args":{}}' http://${m2ip}:18789/tools/invoke; done`,
      { input: `${candidates.join('\n')}\n` },
    );
    const answered = codes.stdout.split('\n').filter(Boolean);
    assert.equal(answered.length, candidates.length, codes.stderr);
    assert.deepEqual(
      answered.filter((c) => c !== '401' && c !== '429'),
      [],
      "a string on m1 opened m2's /tools/invoke",
    );
    for (const m of ['m1', 'm2']) {
      const files = await lab.run(m, 'ls /root/.openclaw/peer-agent; test ! -e /root/.openclaw/peer-agent/tokens || ls /root/.openclaw/peer-agent/tokens');
      assert.equal(files.stdout.trim(), 'peer-config.md', `${m}: no token files`);
    }
    assert.equal(m1.logging.level, 'info');
    // generate kept each gateway's existing token
    assert.equal(m1.gateway.auth.token, lab.machine('m1').gatewayToken);
    // the peer files tell the agent where its peer is
    const peerConfig = lab.readFile('m1', '/root/.openclaw/peer-agent/peer-config.md');
    assert.ok(peerConfig.includes(`http://${await tailnetIp(lab, 'm2')}:18789/a2a/v1`));
    assert.match(lab.readFile('m1', '/root/.openclaw/workspace/skills/peer-messaging/SKILL.md'), /^---\nname: peer-messaging/);
    // independently of the tool: m2 reaches m1's gateway over the tailnet, and m1's token is enforced there
    const health = await lab.run('m2', `curl -fsS -m 5 http://${await tailnetIp(lab, 'm1')}:18789/health`);
    assert.equal(health.code, 0, health.stderr);
    assertNoLeak(lab, secretsOf(lab, ['m1', 'm2']), r);
    // every file on a machine that holds a key or a token is 0600
    for (const m of ['m1', 'm2']) {
      const found = await filesWithSecrets(lab, m, secretsOf(lab, ['m1', 'm2']));
      assert.ok(
        found.some((f) => f.endsWith(m === 'm1' ? ` ${DOTFILE}` : ` ${CONFIG}`)),
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
    const pids = [lab.gatewayPid('m1'), lab.gatewayPid('m2')];
    const bytes = [lab.readFile('m1', CONFIG), lab.readFile('m2', CONFIG)];
    const r = await up(file);
    assert.equal(r.code, 0, `${explain(r)}`);
    assert.match(r.stdout, /Plan: 0 to add, 0 to change, 0 to destroy\./);
    assert.match(r.stdout, /No changes\. 6 of 6 checks passed\./);
    assert.deepEqual([lab.gatewayPid('m1'), lab.gatewayPid('m2')], pids);
    assert.deepEqual([lab.readFile('m1', CONFIG), lab.readFile('m2', CONFIG)], bytes);
    const plan = await runCli(['plan', '-f', file, '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  // issue 20: what a person uses after up: peers (each pair's state) and send (a real message, the agents' path)
  test('peers: peered after up, in text and --json; --check passes; an entry taken out is named', { skip, timeout: 300_000 }, async () => {
    const r = await runCli(['peers', '-f', file]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /^m1 <-> m2 +peered +yes\/yes +yes\/yes +yes$/m);
    const json = JSON.parse((await runCli(['peers', '-f', file, '--json', '--check'])).stdout);
    assert.equal(json.pairs[0].state, 'peered');
    assert.ok(json.pairs[0].checks.length >= 6 && json.pairs[0].checks.every((c: { ok: boolean }) => c.ok), JSON.stringify(json.pairs[0].checks));
    const good = lab.readFile('m2', CONFIG);
    const edited = JSON.parse(good);
    delete edited.channels.a2a.peers.m1;
    await writeConfigAndSettle(lab, 'm2', JSON.stringify(edited, null, 2));
    try {
      const partial = await runCli(['peers', '-f', file]);
      assert.equal(partial.code, 0, explain(partial));
      assert.match(partial.stdout, /m1 <-> m2 +incomplete/);
      assert.match(partial.stdout, /m2's OpenClaw config has no A2A entry for m1/);
      // and send from m2 to m1 stops at m2's config: exit 1, nothing sent
      const none = await runCli(['send', '-f', file, 'm1', 'hello']);
      assert.equal(none.code, 1, explain(none));
      assert.match(none.stderr, /m2's OpenClaw config \(\/root\/\.openclaw\/openclaw\.json\) has no A2A channel entry for m1/);
    } finally {
      await writeConfigAndSettle(lab, 'm2', good);
    }
  });

  test('send: a hostile message reaches m2 byte for byte, in no argv on m1; refusals are exit 2', { skip, timeout: 300_000 }, async () => {
    const id = `pp-e2e-${Date.now().toString(36)}`;
    const message = `-${id} it's "quoted" $(id) \`id\`\nsecond line; rm -rf /tmp/x`;
    // every command line on m1 while the send runs, to show the message was in none
    await lab.run('m1', `rm -f /tmp/pp-ps; (for i in $(seq 1 200); do ps -eo args >> /tmp/pp-ps; sleep 0.1; done) >/dev/null 2>&1 &`);
    const r = await runCli(['send', '-f', file, '--json', '--verbose', 'm2', '--', message]);
    assert.equal(r.code, 0, explain(r));
    const doc = JSON.parse(r.stdout);
    assert.deepEqual([doc.from, doc.to, doc.accepted], ['m1', 'm2', true]);
    assert.ok(!r.stderr.includes('$(id)'), 'the trace shows the message only as base64');
    const ps = (await lab.run('m1', 'sleep 21; cat /tmp/pp-ps')).stdout;
    assert.ok(ps.includes('send.mjs'), 'the ps sampler saw the send');
    assert.ok(!ps.includes(id), 'no process on m1 had the message in its argv');
    const params = JSON.stringify({ sessionKey: 'agent:main:a2a:default:direct:m1:ctx-oc-m2', limit: 50 });
    let last = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !last.includes(id); await new Promise((done) => setTimeout(done, 2000)))
      last = (await lab.run('m2', `openclaw gateway call chat.history --json --params '${params}'`)).stdout;
    // the history is JSON: the text as a JSON string, quotes and newline escaped
    assert.ok(last.includes(JSON.stringify(message).slice(1, -1)), `m2 shows the message as sent: ${last.slice(0, 1500)}`);
    for (const args of [
      ['m3', 'hi'],
      ['--', '--from', 'hi'],
      ['m2', 'hi', '--from', 'm2'],
    ]) {
      const refused = await runCli(['send', '-f', file, ...args]);
      assert.equal(refused.code, 2, `${args.join(' ')}: ${explain(refused)}`);
    }
  });

  test('--json: events on stdout, one JSON object per line, no secrets; status and verify', { skip, timeout: 120_000 }, async () => {
    const r = await up(file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const events = await jsonEvents(r.stdout); // every line checked against schemas/events.schema.json
    assert.equal(events[0].event, 'plan');
    const result = events.at(-1)!;
    assert.ok(result.event === 'result');
    assert.equal(result.changed, false);
    const s = await runCli(['status', '-f', file, '--json']);
    assert.equal(s.code, 0, s.stderr);
    const doc = await jsonDocument(s.stdout, 'peer-provision/status@1');
    assert.deepEqual(
      doc.machines.map((m) => ('joined' in m ? [m.joined, m.healthy] : m)),
      [
        [true, true],
        [true, true],
      ],
    );
    const vj = await runCli(['verify', '-f', file, '--json', '--no-message']);
    assert.equal(vj.code, 0, vj.stderr);
    assert.equal((await jsonDocument(vj.stdout, 'peer-provision/verify@1')).checks.length, 6, 'agent card and both token checks, both ways');
    const v = await runCli(['verify', '-f', file]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /All 10 checks passed/, 'a message each way and the security audit on each machine too');
    assertNoLeak(lab, secretsOf(lab, ['m1', 'm2']), r, s, v, vj);
  });

  // (one drift for both: writing it costs a gateway restart)
  test('drift and saved plans: plan shows bind set back to loopback; a saved plan from before is refused, a new one applied exactly repairs it, keeping the user edit made beside it', {
    skip,
    timeout: 300_000,
  }, async () => {
    const dir = tempDir('pp-saved-');
    const [p1, p2] = [join(dir, 'p1.json'), join(dir, 'p2.json')];
    const converged = await runCli(['plan', '-f', file, '--out', p1]);
    assert.equal(converged.code, 0, converged.stderr);
    for (const s of secretsOf(lab, ['m1', 'm2'])) assert.ok(!readFileSync(p1, 'utf8').includes(s), 'no secret in a saved plan');
    // someone sets m1's bind back behind the plan's back (and turns its logging up): the reviewed plan no longer
    // describes what up would do. Written through the link, as an editor following it does.
    const drifted = config(lab, 'm1');
    drifted.gateway.bind = 'loopback';
    drifted.logging = { ...drifted.logging, level: 'debug' };
    await writeConfigAndSettle(lab, 'm1', JSON.stringify(drifted, null, 2));
    const plan = await runCli(['plan', '-f', file, '--json', '--detailed-exitcode']);
    assert.equal(plan.code, 3, explain(plan));
    const m1: any = (await jsonDocument(plan.stdout, 'peer-provision/plan@2')).machines.find((m) => m.machine === 'm1');
    const configAction = m1.actions.find((a: { resource: string }) => a.resource === 'gateway-config');
    assert.deepEqual(configAction.changes, [{ field: 'gateway.bind', from: 'loopback', to: 'tailnet' }]);
    const stale = await runCli(['up', p1, '-f', file]);
    assert.equal(stale.code, 1, `${explain(stale)}`);
    assert.match(stale.stderr, /is stale, nothing was changed:\n {2}- m1: gateway\.bind: "tailnet" -> "loopback"/);
    assert.equal(config(lab, 'm1').gateway.bind, 'loopback', 'nothing was applied');
    // a new plan, reviewed, then applied exactly: no question asked (there is no terminal here, and no --yes)
    assert.equal((await runCli(['plan', '-f', file, '--out', p2])).code, 0);
    const applied = await runCli(['up', p2, '-f', file]);
    assert.equal(applied.code, 0, `${explain(applied)}`);
    assert.equal(config(lab, 'm1').gateway.bind, 'tailnet');
    assert.equal(config(lab, 'm1').logging.level, 'debug', "the user's own edit stays");
    assert.equal((await lab.run('m1', `readlink ${CONFIG}`)).stdout.trim(), LINK, 'still a link');
    assert.ok((await listening(lab, 'm1')).includes((await tailnetIp(lab, 'm1'))!));
    // applied once: the world it saw is gone (m1's bind and gateway process changed)
    const again = await runCli(['up', p2, '-f', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /m1: gateway\.bind: "loopback" -> "tailnet"/);
  });

  test('down: original bytes back where nobody edited; later edits kept where someone did; tailnet left', { skip, timeout: 300_000 }, async () => {
    const oldToken = config(lab, 'm1').channels.a2a.peers.m2.outboundToken;
    const m2ip = await tailnetIp(lab, 'm2');
    // the user edits m1 after up (again: its logging went up between two ups, in the drift test): a new allowed tool
    const edited = config(lab, 'm1');
    edited.gateway.tools.allow.push('sessions_history');
    lab.writeGatewayConfig('m1', JSON.stringify(edited, null, 2));
    const r = await down(file);
    assert.equal(r.code, 0, `${explain(r)}`);
    assert.match(r.stdout, /remove peer-provision's keys \(edited since\)/);
    assert.equal(lab.readFile('m2', CONFIG), original.get('m2'), 'm2 restored byte for byte');
    const m1 = config(lab, 'm1');
    assert.equal(m1.gateway.bind, 'loopback');
    assert.equal(m1.gateway.auth.token, lab.machine('m1').gatewayToken);
    assert.deepEqual(m1.gateway.tools.allow, ['sessions_list', 'sessions_history'], 'the later edit is kept');
    assert.equal(m1.logging.level, 'debug', 'the edit made between two ups is kept');
    assert.equal((await lab.run('m1', `readlink ${CONFIG}`)).stdout.trim(), LINK, 'the link is left as it was');
    assert.equal(m1.channels, undefined, 'channels.a2a, which peer-provision added, is gone');
    for (const m of ['m1', 'm2']) {
      assert.equal(await tailnetIp(lab, m), undefined, `${m} left the tailnet`);
      assert.equal((await lab.run(m, 'ls /root/.openclaw/peer-agent /root/.peer-provision 2>&1')).code, 2, 'peer files and state removed');
      assert.deepEqual(await listening(lab, m), ['127.0.0.1']);
    }
    // m2 refuses m1's old A2A token (reached over loopback on m2 itself: m2 has left the tailnet)
    const refused = await lab.run(
      'm2',
      `printf 'Authorization: Bearer %s\n' "$(cat)" | curl -s -o /dev/null -w '%{http_code}' -H @- -X POST -H 'Content-Type: application/json' --data '{"jsonrpc":"2.0","id":"1","method":"GetTask","params":{"id":"x"}}' http://127.0.0.1:18789/a2a/v1`,
      { input: oldToken },
    );
    assert.notEqual(refused.stdout, '200', `m2 (was ${m2ip}) still accepts m1's old A2A token`);
    const again = await down(file);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to do/);
  });

  test('unknown host keys: refused by default (machine unknown, reason given); --accept-new-host-keys learns them', { skip, timeout: 120_000 }, async () => {
    const dir = tempDir('pp-hostkeys-');
    const known = join(dir, 'known_hosts');
    writeFileSync(known, '');
    const config = join(dir, 'ssh_config');
    writeFileSync(config, readFileSync(lab.sshConfigPath, 'utf8').replaceAll(lab.knownHostsPath, known));
    const strange = lab.peerYaml({ path: join(dir, 'peer.yaml'), top: { sshConfig: config } });
    const refused = await runCli(['plan', '-f', strange, '--json']);
    assert.equal(refused.code, 1, refused.stderr); // a plan with unreachable machines must not pass a CI gate (issue 12)
    const machines = (await jsonDocument(refused.stdout, 'peer-provision/plan@2')).machines;
    assert.deepEqual(
      machines.map((m: { observed: string }) => m.observed),
      ['unreachable', 'unreachable'],
    );
    assert.match(machines[0].reason ?? '', /Host key verification failed/);
    const accepted = await runCli(['plan', '-f', strange, '--json', '--accept-new-host-keys']);
    assert.deepEqual(
      (await jsonDocument(accepted.stdout, 'peer-provision/plan@2')).machines.map((m) => m.observed),
      ['observed', 'observed'],
    );
    assert.match(readFileSync(known, 'utf8'), /ssh-ed25519/);
  });
});
