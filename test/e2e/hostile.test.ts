/**
 * End to end, hostile values on the machines themselves (issue 10 item 7): a gateway token planted in a
 * machine's config that holds quotes, newlines and curl configuration lines. plan shows it as a blocker with
 * the fix and up refuses it (naming the machine and its config), and nothing is touched; with the user's consent
 * (token: generate-replace-weak) up replaces it and peers the machines; a token file planted on a machine
 * cannot turn verify's curl into a file writer. A token the config names by reference (`${VAR}`) stays a reference. The install script comes over https from the lab's mirror
 * on a private CA (curl --proto =https).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain, runCli } from '../helpers.js';
import { defaultGatewayConfig, type Lab, labStatus } from '../lab/lab.js';
import { labForFile } from '../lab/shared.js';
import { CONFIG, config, down, tailnetIp, up } from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;

const PWNED = '/tmp/pp-pwned';
// ends the quoted header of a curl config line, then adds curl config of its own
const HOSTILE_TOKEN = `x"\noutput = "${PWNED}"\nurl = "http://127.0.0.1:18789/health"\nheader = "y`;
const HOSTILE_CONFIG = `// a config whose token was planted by someone else
{
  gateway: {
    mode: "local",
    port: 18789,
    bind: "loopback",
    auth: { mode: "token", token: ${JSON.stringify(HOSTILE_TOKEN)} },
  },
  models: { catalogRefresh: { enabled: false } },
  update: { checkOnStart: false },
}
`;

// m2 names its token by reference, as OpenClaw lets a config do (docs/gateway/config-secrets-env.md): the value is in
// ~/.openclaw/.env, which the gateway and OpenClaw's CLI read. up keeps the reference, never the value, in the config.
// biome-ignore lint/suspicious/noTemplateCurlyInString: OpenClaw's own reference syntax, not a template
const TOKEN_REF = '${OPENCLAW_GATEWAY_TOKEN}';
const ENV_FILE = '/root/.openclaw/.env';
const refConfig = (machine: string) => (token: string) => defaultGatewayConfig(machine, token).replace(`token: "${token}"`, `token: "${TOKEN_REF}"`);

describe('hostile values on the machines', () => {
  let lab: Lab;
  let before1 = '';
  let before2 = '';

  labForFile(skip, { machines: 2, configs: { m1: HOSTILE_CONFIG, m2: refConfig('m2') } }, async (ready) => {
    lab = ready;
    assert.ok(lab.readFile('m2', CONFIG).includes(TOKEN_REF), "m2's config names its token by reference");
    // read by the gateway up restarts (and by OpenClaw's CLI, which verify's message goes through)
    lab.writeFile('m2', ENV_FILE, `OPENCLAW_GATEWAY_TOKEN=${lab.machine('m2').gatewayToken}\n`, 0o600);
    before1 = lab.readFile('m1', CONFIG);
    before2 = lab.readFile('m2', CONFIG);
  });

  const untouched = async () => {
    assert.equal(lab.readFile('m1', CONFIG), before1, 'm1 config untouched');
    assert.equal(lab.readFile('m2', CONFIG), before2, 'm2 config untouched');
    for (const m of ['m1', 'm2']) {
      assert.notEqual((await lab.run(m, 'command -v tailscale')).code, 0, `${m}: tailscale was not installed`);
      assert.equal((await lab.run(m, `test -e /root/.peer-provision || test -e ${PWNED}`)).code, 1, `${m}: no state dir, no planted file`);
    }
  };

  test('plan and up refuse a planted token with quotes and newlines: blocked with the fix, nothing touched', { skip, timeout: 180_000 }, async () => {
    const file = lab.peerYaml();
    for (const args of [
      ['plan', '-f', file],
      ['up', '--yes', '-f', file],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, `${args[0]}: ${explain(r)}`);
      assert.match(
        r.stdout,
        /! blocked: the gateway token already in \/root\/\.openclaw\/openclaw\.json holds characters a token may not have \(a double quote, a line break, white space/,
      );
      assert.match(r.stdout, /fix: set machines\.m1\.gateway\.token: generate-replace-weak/);
      if (args[0] === 'up') assert.match(r.stderr, /up refused, nothing was changed:\n {2}- m1: the gateway token already in/);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(`output = "${PWNED}"`), 'the planted token is not printed');
      await untouched();
    }
  });

  test('with consent (generate-replace-weak) up replaces it with a strong token and peers the machines over an https install', {
    skip,
    timeout: 420_000,
  }, async () => {
    const file = lab.peerYaml({
      machine: (name, entry) => (name === 'm1' ? { ...entry, gateway: { ...entry.gateway, token: 'generate-replace-weak' } } : entry),
    });
    const r = await up(file);
    assert.equal(r.code, 0, `${explain(r)}`);
    assert.match(r.stdout, /\+ tailscale-install +install Tailscale from https:\/\/10\.231\.57\.1:9443\/install\.sh/);
    assert.match(r.stdout, /gateway\.auth\.token/);
    const token = config(lab, 'm1').gateway.auth.token as string;
    assert.match(token, /^[A-Za-z0-9._~+/=-]{24,512}$/);
    assert.equal(config(lab, 'm2').gateway.auth.token, TOKEN_REF, 'm2 kept its reference: the value stays in its .env');
    const m2Plan = /\nmachine m2 \([^\n]*\n([\s\S]*?)\n(?:machine |Plan: )/.exec(r.stdout)?.[1];
    assert.ok(m2Plan, `the plan shows m2's changes: ${r.stdout}`);
    assert.match(m2Plan, /gateway\.bind/, "m2's section is its plan");
    assert.doesNotMatch(m2Plan, /gateway\.auth\.token/, 'no token change planned for m2');
    assert.match((await tailnetIp(lab, 'm1')) ?? '', /^100\.64\./);
    for (const m of ['m1', 'm2']) assert.equal((await lab.run(m, `test -e ${PWNED}`)).code, 1);
  });

  test('verify: an A2A token in a config that holds curl configuration is not sent and writes nothing', { skip, timeout: 240_000 }, async () => {
    const file = lab.peerYaml();
    const good = lab.readFile('m2', CONFIG);
    const hostile = JSON.parse(good);
    hostile.channels.a2a.peers.m1.outboundToken = HOSTILE_TOKEN;
    lab.writeFile('m2', CONFIG, JSON.stringify(hostile, null, 2), 0o600);
    try {
      const r = await runCli(['verify', '-f', file, '--no-message']);
      assert.equal(r.code, 1, `${explain(r)}`);
      assert.match(r.stdout, /FAIL m2 -> m1 agent-card +the A2A token for m1 in m2's config holds characters a token may not have .*: not sent; run up/);
      assert.match(r.stdout, /ok {3}m1 -> m2 token-accepted/);
      for (const m of ['m1', 'm2']) assert.equal((await lab.run(m, `test -e ${PWNED}`)).code, 1, `${m}: curl wrote the planted file`);
    } finally {
      lab.writeFile('m2', CONFIG, good, 0o600);
    }
    const d = await down(file);
    assert.equal(d.code, 0, `${explain(d)}`);
  });
});
