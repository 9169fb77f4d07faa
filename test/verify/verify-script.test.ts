/**
 * templates/verify.sh run for real (sh, the system curl) against a local HTTP server that answers as OpenClaw's A2A
 * channel does (docs/channels/a2a.md; its answers checked against a real gateway in the lab's e2e tests): the peer's
 * token reaches it only as the Authorization header, few refused probes are made, a token that a config change has
 * not reached yet is retried, and the test message counts only when the peer holds the task the sender was given.
 * The `openclaw` on PATH here stands in for the sender's CLI (`openclaw gateway call send`): it prints what the real
 * one prints.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { script } from '../../src/transport/script.js';
import { auditCheck, checksOf, withUnanswered } from '../../src/verify/index.js';
import { tempDir } from '../helpers.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eHp5enp5Lmdvb2QtdG9rZW4';
const NONCE = 'n0nce123';
const TASK = '5f0c8d2e-1111-4a2b-9c3d-0123456789ab';
/** What `openclaw gateway call send --json` prints when the gateway cannot take its state database's write lock. */
const CONTENTION =
  'Gateway call failed: {\\n  "error": {\\n    "type": "gateway_request_error",\\n    "code": "UNAVAILABLE",\\n    "message": "StateDatabaseCoordinatorContentionError: another OpenClaw process owns state-lifecycle",\\n    "retryable": false\\n  }\\n}\\n';

describe('verify.sh against an A2A endpoint', () => {
  let server: Server;
  let port = 0;
  const seen: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
  /** The right token is refused until then (a gateway whose A2A channel has not reloaded yet). */
  let acceptFrom = 0;
  /** Until then every request is answered 503 (the channel's route restarting after a config change). */
  let restartingUntil = 0;
  let tasks = new Set([TASK]);
  /** Each POST is answered this late; inFlight counts those being answered, most: the highest count seen. */
  let postDelayMs = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const dir = tempDir('pp-verify-');
  const bin = join(dir, 'bin');

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        if (req.method === 'POST' && postDelayMs > 0) {
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          await new Promise((done) => setTimeout(done, postDelayMs));
          inFlight--;
        }
        seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
        if (Date.now() < restartingUntil) return res.writeHead(503).end('plugin route is restarting; retry');
        if (req.method === 'GET' && req.url === '/.well-known/agent-card.json')
          return res.writeHead(200).end(JSON.stringify({ supportedInterfaces: [{ url: `http://127.0.0.1:${port}/a2a/v1` }] }));
        if (req.headers.authorization !== `Bearer ${TOKEN}` || Date.now() < acceptFrom)
          return res.writeHead(401).end('{"error":"Unauthorized; configure channels.a2a.peers with a matching Bearer token"}');
        const id = /"params":\{"id":"([^"]*)"/.exec(body)?.[1] ?? '';
        const answer = tasks.has(id)
          ? { jsonrpc: '2.0', id: 'pp-verify', result: { id, status: { state: 'TASK_STATE_COMPLETED' } } }
          : { jsonrpc: '2.0', id: 'pp-verify', error: { code: -32001, message: 'Task not found' } };
        res.writeHead(200).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
    mkdirSync(bin);
    // what `openclaw gateway call send --json` prints on success (2026.9.6); it notes its arguments and config
    writeFileSync(
      join(bin, 'openclaw'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> "${dir}/openclaw-args"\nprintf '%s\\n' "$OPENCLAW_CONFIG_PATH" >> "${dir}/openclaw-config"\n` +
        // refuse-first: the gateway refuses the first send, and answers that key with the same error from then on
        // (2026.9.6 keeps a failed result under its idempotency key for 5 minutes)
        `key=$(printf '%s' "$*" | sed -n 's/.*"idempotencyKey":"\\([^"]*\\)".*/\\1/p')\n` +
        `if [ -f "${dir}/refuse-first" ] && { [ ! -f "${dir}/refused" ] || grep -qxF "$key" "${dir}/refused"; }; then\n` +
        `  printf '%s\\n' "$key" >> "${dir}/refused"; printf '${CONTENTION}'; exit 1\nfi\n` +
        `printf '{\\n  "runId": "pp-x",\\n  "messageId": "${TASK}",\\n  "channel": "a2a"\\n}\\n'\n`,
    );
    chmodSync(join(bin, 'openclaw'), 0o755);
  });
  after(() => server.close());

  const realCurl = execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
  /** verify.sh run with sh; `first` goes before the rest of PATH (a curl that counts its runs) */
  const sh = (text: string, first?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const env = { PATH: `${first ? `${first}:` : ''}${bin}:${process.env.PATH}`, HOME: dir, TMPDIR: dir };
      const child = execFile('sh', ['-s'], { env }, (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
      child.stdin!.end(text);
    });
  const vars = (send: 0 | 1) => ({ PEERS: `p1 127.0.0.1 ${port} ${TOKEN}`, NONCE, SEND_MESSAGE: send, FROM: 'me', CONFIG: '/cfg/openclaw.json', AUDIT: 0 });
  const checks = (stdout: string) => checksOf('me', parseResult(stdout)).map((c) => [c.to, c.check, c.ok]);

  test('every check passes; the token travels only as "Authorization: Bearer", two probes are refused, no model is needed', async () => {
    seen.length = 0;
    const r = await sh(script('verify', vars(0)));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checks(r.stdout), [
      ['p1', 'agent-card', true],
      ['p1', 'token-enforced', true],
      ['p1', 'token-accepted', true],
    ]);
    const authorised = seen.filter((s) => s.headers.authorization === `Bearer ${TOKEN}`);
    assert.equal(authorised.length, 1, 'one GetTask with the token');
    assert.match(authorised[0]!.body, /"method":"GetTask"/);
    assert.equal(seen.filter((s) => s.method === 'POST' && s.headers.authorization !== `Bearer ${TOKEN}`).length, 2, 'no token, a wrong token');
    assert.ok(!seen.some((s) => s.url.includes(TOKEN) || s.body.includes(TOKEN)), 'the token only ever in the header');
  });

  test('a converged peer costs one curl: its four requests at the first try, the refused ones not asked again', async () => {
    const counting = join(dir, 'counting');
    mkdirSync(counting, { recursive: true });
    writeFileSync(join(counting, 'curl'), `#!/bin/sh\necho curl >> "${dir}/curl-runs"\nexec ${realCurl} "$@"\n`);
    chmodSync(join(counting, 'curl'), 0o755);
    rmSync(join(dir, 'curl-runs'), { force: true });
    seen.length = 0;
    const r = await sh(script('verify', vars(0)), counting);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      checks(r.stdout).map((c) => c[2]),
      [true, true, true],
    );
    assert.equal(readFileSync(join(dir, 'curl-runs'), 'utf8'), 'curl\n');
    assert.equal(seen.length, 4, 'the card and the three token probes, once each');

    // a curl older than 7.66 knows no -Z (curl: option -sSZ: is unknown): every check is asked one by one instead
    writeFileSync(join(counting, 'curl'), `#!/bin/sh\ncase "$1" in -sSZ) echo "curl: option $1: is unknown" >&2; exit 2;; esac\nexec ${realCurl} "$@"\n`);
    const old = await sh(script('verify', vars(0)), counting);
    assert.deepEqual(
      checks(old.stdout).map((c) => c[2]),
      [true, true, true],
      old.stdout,
    );
  });

  test('the three token probes go out at once: a slow channel costs one round trip, not three', async () => {
    postDelayMs = 800;
    mostInFlight = 0;
    const r = await sh(script('verify', vars(0)));
    postDelayMs = 0;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      checks(r.stdout).map((c) => c[2]),
      [true, true, true],
    );
    assert.equal(mostInFlight, 3, 'no token, a wrong token and the right one asked together');
  });

  test('a channel answering "503 plugin route is restarting" after a config change is asked again before the refusals count', async () => {
    seen.length = 0;
    restartingUntil = Date.now() + 1500; // every probe, the refused ones too, meets the restart first
    const run = sh(script('verify', vars(0)));
    const r = await run;
    restartingUntil = 0;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checks(r.stdout), [
      ['p1', 'agent-card', true],
      ['p1', 'token-enforced', true],
      ['p1', 'token-accepted', true],
    ]);
  });

  test('a token refused for a moment (the channel reloading after a config change) is retried, then accepted', async () => {
    acceptFrom = Date.now() + 1500;
    const r = await sh(script('verify', vars(0)));
    acceptFrom = 0;
    assert.deepEqual(
      checks(r.stdout).find((c) => c[1] === 'token-accepted'),
      ['p1', 'token-accepted', true],
      r.stdout,
    );
  });

  test('a gateway not listening yet (just restarted on a loaded machine) is waited for, not reported unreachable', async () => {
    await new Promise<void>((done) => server.close(() => done()));
    const run = sh(script('verify', vars(0)));
    await new Promise((done) => setTimeout(done, 1500)); // curl meanwhile: "(7) Failed to connect ... Connection refused"
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checks(r.stdout), [
      ['p1', 'agent-card', true],
      ['p1', 'token-enforced', true],
      ['p1', 'token-accepted', true],
    ]);
  });

  test("the message: sent by this machine's gateway (its config named), found on the peer as the task it was given", async () => {
    const r = await sh(script('verify', vars(1)));
    assert.deepEqual(checks(r.stdout).at(-1), ['p1', 'message', true], r.stdout);
    assert.match(
      readFileSync(join(dir, 'openclaw-args'), 'utf8'),
      new RegExp(`^gateway call send --json --timeout 30000 --params \\{"channel":"a2a","to":"p1","message":"${NONCE} `),
    );
    assert.equal(readFileSync(join(dir, 'openclaw-config'), 'utf8').trim().split('\n').at(-1), '/cfg/openclaw.json');
    tasks = new Set();
    const lost = await sh(script('verify', vars(1)));
    tasks = new Set([TASK]);
    const message = checksOf('me', parseResult(lost.stdout)).find((c) => c.check === 'message');
    assert.equal(message?.ok, false, lost.stdout);
    assert.match(message?.detail ?? '', /p1 does not have it/);
  });

  test('a send the gateway refused (its state database busy) is tried again under a new key: the gateway replays a refused key', async () => {
    writeFileSync(join(dir, 'refuse-first'), '');
    writeFileSync(join(dir, 'openclaw-args'), '');
    try {
      const r = await sh(script('verify', vars(1)));
      assert.deepEqual(checks(r.stdout).at(-1), ['p1', 'message', true], r.stdout);
      const keys = readFileSync(join(dir, 'openclaw-args'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => /"idempotencyKey":"([^"]*)"/.exec(l)?.[1]);
      assert.equal(keys.length, 2, 'refused once, then sent');
      assert.notEqual(keys[0], keys[1], 'the second try under a key of its own');
    } finally {
      rmSync(join(dir, 'refuse-first'));
      rmSync(join(dir, 'refused'), { force: true });
    }
  });

  test('no temporary folder (a full or read-only TMPDIR) is a failure that says so, not a run without checks', async () => {
    const r = await sh(`TMPDIR=${join(dir, 'missing', 'folder')}\n${script('verify', vars(0))}`);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /cannot create a temporary folder in .*missing\/folder/);
    assert.doesNotMatch(r.stdout, /"changed"/, 'no result line');
  });
});

test('a machine whose verify.sh answered nothing for a peer fails that peer, never passes it by silence', () => {
  const checks = checksOf('me', parseResult('{"changed":false,"values":{"p1.agent-card":"ok","p1.agent-card.detail":"x"},"message":""}\n'));
  const all = withUnanswered('me', ['p1', 'p2'], checks);
  assert.deepEqual(
    all.map((c) => [c.to, c.check, c.ok]),
    [
      ['p1', 'agent-card', true],
      ['p2', 'agent-card', false],
    ],
  );
  assert.match(all[1]!.detail, /no answer for p2/);
});

test('security audit: a critical finding about the gateway or A2A fails; the rest are named, not failed', () => {
  const report = (findings: object[]) => JSON.stringify({ summary: {}, findings });
  const critical = auditCheck('m1', report([{ checkId: 'gateway.tools_invoke_http.dangerous_allow', severity: 'critical' }]));
  assert.equal(critical.ok, false);
  assert.match(critical.detail, /critical: gateway\.tools_invoke_http\.dangerous_allow/);
  const other = auditCheck(
    'm1',
    report([
      { checkId: 'fs.state_dir.perms_readable', severity: 'warn' },
      { checkId: 'models.x', severity: 'critical' },
    ]),
  );
  assert.equal(other.ok, true);
  assert.match(other.detail, /also: models\.x \(critical\), fs\.state_dir\.perms_readable/);
  assert.equal(auditCheck('m1', '').ok, false, 'no report is no pass');
});
