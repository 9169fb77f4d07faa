/**
 * templates/verify.sh and the skill's curl command, run for real (sh + the system curl) against a local
 * HTTP server: the token reaches the peer as the Authorization header, and a token file holding curl
 * configuration (a quote, newlines, `output = ...`, `url = ...`) can neither write a file nor fetch a URL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { script } from '../../src/transport/script.js';
import { checksOf, withUnanswered } from '../../src/verify/index.js';
import { ROOT, tempDir } from '../helpers.js';

const TOKEN = 'Zm9vYmFyYmF6cXV4cXV1eHp5enp5Lmdvb2QtdG9rZW4';
const NONCE = 'n0nce123';

describe('curl gets the token as a header, never as configuration', () => {
  let server: Server;
  let port = 0;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let lastMessage = '';
  const dir = tempDir('pp-curl-');
  const pwned = join(dir, 'pwned');
  // what an attacker would put in a token: end the quoted header, then curl config lines of their own
  const hostile = () => `x"\noutput = "${pwned}"\nurl = "http://127.0.0.1:${port}/exfiltrate"\nheader = "y`;

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/health' || req.url === '/exfiltrate') return res.writeHead(200).end('{"ok":true}');
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return res.writeHead(401).end('{"error":"unauthorized"}');
        // as a busy gateway answers: the message waits among many pendingInputs, each cut to a share of OpenClaw's
        // 4 KiB budget (24 characters here: a dozen and more waiting inputs)
        const sent = /"tool":"sessions_send".*"message":"([^"]*)"/.exec(body)?.[1];
        if (sent) lastMessage = sent;
        res
          .writeHead(200)
          .end(
            body.includes('sessions_history')
              ? JSON.stringify({ messages: [], pendingInputs: { items: [{ message: { content: lastMessage.slice(0, 24) } }] } })
              : '{"ok":true}',
          );
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const sh = (text: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile('sh', ['-s'], { env: { PATH: process.env.PATH, HOME: dir, TMPDIR: dir } }, (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(text);
    });
  const runVerify = (tokenFile: string) => sh(script('verify', { PEERS: `p1 127.0.0.1 ${port} ${tokenFile}`, NONCE, SEND_MESSAGE: 1, FROM: 'me' }));

  test('verify.sh: a good token is sent as "Authorization: Bearer <token>" and every check passes, the message found even cut short', async () => {
    const file = join(dir, 'good.token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    seen.length = 0;
    const r = await runVerify(file);
    assert.equal(r.code, 0, r.stderr);
    const checks = checksOf('me', parseResult(r.stdout));
    assert.deepEqual(
      checks.map((c) => [c.to, c.check, c.ok]),
      ['health', 'token-accepted', 'token-enforced', 'message'].map((c) => ['p1', c, true]),
      r.stdout,
    );
    assert.ok(seen.some((s) => s.headers.authorization === `Bearer ${TOKEN}`));
  });

  test('verify.sh: no temporary folder (a full or read-only TMPDIR) is a failure that says so, not a run without checks', async () => {
    const file = join(dir, 'good.token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const r = await sh(
      `TMPDIR=${join(dir, 'missing', 'folder')}\n${script('verify', { PEERS: `p1 127.0.0.1 ${port} ${file}`, NONCE, SEND_MESSAGE: 0, FROM: 'me' })}`,
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /cannot create a temporary folder in .*missing\/folder/);
    assert.doesNotMatch(r.stdout, /"changed"/, 'no result line');
  });

  test('a machine whose verify.sh answered nothing for a peer fails that peer, never passes it by silence', () => {
    const checks = checksOf('me', parseResult('{"changed":false,"values":{"p1.health":"ok","p1.health.detail":"x"},"message":""}\n'));
    const all = withUnanswered('me', ['p1', 'p2'], checks);
    assert.deepEqual(
      all.map((c) => [c.to, c.check, c.ok]),
      [
        ['p1', 'health', true],
        ['p2', 'health', false],
      ],
    );
    assert.match(all[1]!.detail, /no answer for p2/);
  });

  test('verify.sh: a token file holding curl configuration writes nothing, fetches nothing, is not sent', async () => {
    const file = join(dir, 'hostile.token');
    writeFileSync(file, hostile(), { mode: 0o600 });
    seen.length = 0;
    const r = await runVerify(file);
    assert.equal(existsSync(pwned), false, 'curl wrote the file the token named');
    assert.ok(!seen.some((s) => s.url === '/exfiltrate'), 'curl fetched the URL the token named');
    assert.ok(!seen.some((s) => s.headers.authorization?.startsWith('Bearer x')), 'the hostile token was sent');
    const accepted = checksOf('me', parseResult(r.stdout)).find((c) => c.check === 'token-accepted');
    assert.equal(accepted?.ok, false, r.stdout);
    assert.match(accepted?.detail ?? '', /^BAD the token file .* holds characters a token may not have: not sent$/, r.stdout);
  });

  test("the skill's command: the token is a header; a hostile token file cannot configure curl", async () => {
    const skill = readFileSync(join(ROOT, 'templates/skill/SKILL.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(skill)![1];
    const command = (tokenFile: string) =>
      block
        .replace(/^TOKEN_FILE=.*$/m, `TOKEN_FILE='${tokenFile}'`)
        .replace(/^URL=.*$/m, `URL='http://127.0.0.1:${port}'`)
        .replace('<your message>', 'hello');
    const good = join(dir, 'skill-good.token');
    writeFileSync(good, `${TOKEN}\n`, { mode: 0o600 });
    seen.length = 0;
    let r = await sh(command(good));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"ok":true}');
    assert.equal(seen.at(-1)?.headers.authorization, `Bearer ${TOKEN}`);

    const bad = join(dir, 'skill-bad.token');
    writeFileSync(bad, hostile(), { mode: 0o600 });
    seen.length = 0;
    r = await sh(command(bad));
    assert.equal(existsSync(pwned), false, 'curl wrote the file the token named');
    assert.ok(!seen.some((s) => s.url === '/exfiltrate'), 'curl fetched the URL the token named');
  });
});
