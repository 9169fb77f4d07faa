/**
 * End to end, `peers` and `send` on the lab (2 machines, after `up`). NOT in test/run.ts's LAB_ORDER: written
 * alongside the commands and not run yet; it runs only when asked, `PEER_E2E_PEERS=1 node dist/test/run.js
 * dist/test/e2e/peers.test.js` (as root, with the lab cache), and is skipped otherwise (npm test takes a file that
 * is not in LAB_ORDER for a unit file).
 * - peers: both sides peered after up (joined, entries both ways at the current address, tokens agreeing); --check
 *   probes pass; an entry taken out of one config makes the pair incomplete, naming that machine.
 * - send: a hostile message (quotes, newlines, $(id), a leading -) from m1 reaches m2's gateway byte for byte, as
 *   the text of m1's A2A session there; it was in no process's argv on m1 (OpenClaw's gateway client, not the CLI,
 *   sends it); the refusals are exit 2 and touch nothing; a config without the entry is exit 1, nothing sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { explain, runCli } from '../helpers.js';
import { type Lab, labStatus } from '../lab/lab.js';
import { releaseLab, useLab } from '../lab/shared.js';
import { timeEachTest } from '../timing/record.js';
import { CONFIG, down, up } from './lab-helpers.js';

const status = labStatus();
const skip: string | false =
  process.env.PEER_E2E_PEERS !== '1' ? 'not in LAB_ORDER yet: set PEER_E2E_PEERS=1 to run it' : status.ok ? false : `lab cannot run: ${status.reason}`;

const nonce = () => `pp-e2e-${Date.now().toString(36)}`;

describe('peers and send on the lab', () => {
  let lab: Lab;
  let file = '';

  before(
    async () => {
      if (skip) return;
      lab = await useLab({ machines: 2 });
      file = lab.peerYaml();
      const r = await up(file);
      assert.equal(r.code, 0, explain(r));
    },
    { timeout: 25 * 60_000 },
  );
  after(async () => {
    if (skip) return;
    await down(file);
    await releaseLab();
  });
  timeEachTest(() => lab);

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
    lab.writeFile('m2', CONFIG, JSON.stringify(edited, null, 2), 0o600);
    try {
      const partial = await runCli(['peers', '-f', file]);
      assert.equal(partial.code, 0, explain(partial));
      assert.match(partial.stdout, /m1 <-> m2 +incomplete/);
      assert.match(partial.stdout, /m2's OpenClaw config has no A2A entry for m1/);
    } finally {
      lab.writeFile('m2', CONFIG, good, 0o600);
    }
  });

  test('send: a hostile message reaches m2 byte for byte, in no argv on m1', { skip, timeout: 300_000 }, async () => {
    const id = nonce();
    const message = `-${id} it's "quoted" $(id) \`id\`\nsecond line; rm -rf /tmp/x`;
    // every command line on m1 while the send runs, to show the message was in none
    await lab.run('m1', `rm -f /tmp/pp-ps; (for i in $(seq 1 200); do ps -eo args >> /tmp/pp-ps; sleep 0.1; done) >/dev/null 2>&1 &`);
    const r = await runCli(['send', '-f', file, 'm2', '--', message, '--json', '--verbose']);
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
  });

  test('send: refused before anything (exit 2), and exit 1 naming m1 when its config has no entry for m2', { skip, timeout: 180_000 }, async () => {
    for (const args of [
      ['m3', 'hi'],
      ['--', '--from', 'hi'],
      ['m2', 'hi', '--from', 'm2'],
    ]) {
      const r = await runCli(['send', '-f', file, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${explain(r)}`);
    }
    const good = lab.readFile('m1', CONFIG);
    const edited = JSON.parse(good);
    delete edited.channels.a2a.peers.m2;
    lab.writeFile('m1', CONFIG, JSON.stringify(edited, null, 2), 0o600);
    try {
      const r = await runCli(['send', '-f', file, 'm2', 'hello']);
      assert.equal(r.code, 1, explain(r));
      assert.match(r.stderr, /m1's OpenClaw config \(\/root\/\.openclaw\/openclaw\.json\) has no A2A channel entry for m2/);
    } finally {
      lab.writeFile('m1', CONFIG, good, 0o600);
    }
  });
});
