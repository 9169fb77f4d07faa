// peer-provision send, run as a user runs it against stand-in machines (test/fake-ssh.ts) whose send.sh really runs
// (sh, the real node) with a stand-in OpenClaw gateway client (test/fake-openclaw.ts): the message arrives byte for
// byte, and neither it nor a token is ever in an argv; the sender is chosen or refused; exit codes 0, 1, 2.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sender } from '../../src/commands/send/sender.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { fakeOpenClaw, type GatewayAnswer } from '../fake-openclaw.js';
import { fakeA2aToken, fakeSshMachines } from '../fake-ssh.js';
import { explain, runCli } from '../helpers.js';

const HOSTILE = `it's "quoted" $(id) \`id\` $HOME; rm -rf /\nsecond line\twith a tab\n-leading dash, 'single' \\ backslash ünïcödé`;

function machines(names: string[], answer: GatewayAnswer = { messageId: 'msg-1' }, extra: Parameters<typeof fakeSshMachines>[1] = {}) {
  const oc = fakeOpenClaw(answer);
  const fake = fakeSshMachines(names, { joined: true, a2a: true, steps: 'run', runPath: oc.path, ...extra });
  const calls = () =>
    existsSync(join(oc.dir, 'calls.jsonl'))
      ? readFileSync(join(oc.dir, 'calls.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];
  const argvs = () => [join(fake.dir, 'ssh.argv'), join(oc.dir, 'node.argv')].map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
  return { ...fake, oc, calls, argvs };
}

describe('send', () => {
  test('a hostile message arrives byte for byte through the gateway client, in no argv and in no script as text', async () => {
    const m = machines(['alpha', 'beta']);
    const r = await runCli(['send', '-f', m.file, 'beta', '--', HOSTILE], { env: m.env });
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /^sent: alpha -> beta through alpha's gateway on the A2A channel \(message msg-1\)\n$/);
    const [call] = m.calls();
    assert.equal(call.method, 'send');
    assert.deepEqual({ ...call.params, idempotencyKey: undefined }, { channel: 'a2a', to: 'beta', message: HOSTILE, idempotencyKey: undefined });
    assert.match(call.params.idempotencyKey, /^pp-send-[0-9a-f]{16}$/);
    assert.equal(call.config, '/root/.openclaw/openclaw.json', "alpha's own config, as observed");
    const argv = m.argvs() + JSON.stringify(call.argv);
    for (const part of ['quoted', '$(id)', 'second line', 'leading dash', fakeA2aToken('alpha', 'beta')]) assert.ok(!argv.includes(part), `argv holds ${part}`);
    const scripts = readFileSync(join(m.dir, 'ssh.stdin'), 'utf8');
    assert.ok(!scripts.includes('$(id)') && !scripts.includes('second line'), 'the message is in the script only as base64');
    assert.ok(scripts.includes(Buffer.from(HOSTILE).toString('base64')));
  });

  test('the message from stdin (-), --json: the send document', async () => {
    const m = machines(['alpha', 'beta']);
    const r = await runCli(['send', '-f', m.file, 'alpha', '-', '--json'], { env: m.env, input: HOSTILE });
    assert.equal(r.code, 0, explain(r));
    assert.deepEqual(JSON.parse(r.stdout), { format: 'peer-provision/send@1', stack: 'fake', from: 'beta', to: 'alpha', accepted: true, messageId: 'msg-1' });
    assert.equal(m.calls()[0].params.message, HOSTILE);
  });

  test('the gateway refuses: exit 1 with its answer, naming the sending machine; a lock held a moment is asked again', async () => {
    const m = machines(['alpha', 'beta'], { error: 'unknown channel target: beta', code: 'INVALID_REQUEST' });
    const r = await runCli(['send', '-f', m.file, 'beta', 'hello', '--json'], { env: m.env });
    assert.equal(r.code, 1, explain(r));
    const doc = JSON.parse(r.stdout);
    assert.deepEqual([doc.accepted, doc.from, doc.answer], [false, 'alpha', 'INVALID_REQUEST: unknown channel target: beta']);
    assert.match(r.stderr, /alpha's gateway did not send the message to beta: INVALID_REQUEST: unknown channel target: beta/);
    const busy = machines(['alpha', 'beta'], { contention: 1, messageId: 'msg-2' });
    const again = await runCli(['send', '-f', busy.file, 'beta', 'hello'], { env: busy.env });
    assert.equal(again.code, 0, explain(again));
    assert.deepEqual(
      busy.calls().map((c) => c.params.idempotencyKey.replace(/[0-9a-f]{16}/, 'K')),
      ['pp-send-K', 'pp-send-K-1'],
      'a refused key is not asked again',
    );
  });

  test('--from: defaults to the only peer, else the local machine; refused (exit 2) when ambiguous, unknown, unpaired, or PEER looks like an option', async () => {
    const m = machines(['alpha', 'beta', 'gamma']);
    const ambiguous = await runCli(['send', '-f', m.file, 'alpha', 'hi'], { env: m.env });
    assert.equal(ambiguous.code, 2, explain(ambiguous));
    assert.match(ambiguous.stderr, /which machine sends to alpha\? beta, gamma are all paired with it\nhint: say which with --from/);
    const chosen = await runCli(['send', '-f', m.file, 'alpha', 'hi', '--from', 'gamma'], { env: m.env });
    assert.equal(chosen.code, 0, explain(chosen));
    assert.match(chosen.stdout, /gamma -> alpha/);
    // the local machine, when it is paired with PEER (decided from peer.yaml alone: no machine is reached here)
    const local = m.file.replace(/peer\.yaml$/, 'local.yaml');
    writeFileSync(local, readFileSync(m.file, 'utf8').replace('ssh: lab-gamma', 'ssh: local'));
    assert.equal(sender(loadSpec(local), 'alpha', undefined), 'gamma');
    assert.equal(sender(loadSpec(local), 'alpha', 'beta'), 'beta');
    const refusals: [string[], RegExp][] = [
      [['alpha', 'hi', '--from', 'alpha'], /--from alpha: a machine does not send to itself/],
      [['alpha', 'hi', '--from', 'delta'], /--from "delta": no such machine in .*peer\.yaml/],
      [['alpah', 'hi'], /PEER "alpah": no such machine in .*peer\.yaml \(did you mean alpha\?\)/],
      [['--', '--from', 'hi'], /PEER "--from": no such machine/],
      [['--', '-rf', 'hi'], /PEER "-rf": no such machine in \S+ *\nhint: the machines are: alpha, beta, gamma/],
      [['alpha', '  \n', '--from', 'beta'], /the message is empty/],
    ];
    for (const [args, error] of refusals) {
      const r = await runCli(['send', '-f', m.file, ...args], { env: m.env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${explain(r)}`);
      assert.match(r.stderr, error);
    }
    const twoOnly = fakeSshMachines(['alpha', 'beta', 'gamma'], { joined: true, a2a: true });
    writeFileSync(twoOnly.file, `${readFileSync(twoOnly.file, 'utf8')}peers:\n  - [alpha, beta]\n`);
    const unpaired = await runCli(['send', '-f', twoOnly.file, 'gamma', 'hi', '--from', 'alpha'], { env: twoOnly.env });
    assert.equal(unpaired.code, 2, explain(unpaired));
    assert.match(unpaired.stderr, /alpha and gamma are not peers in .*peer\.yaml/);
    assert.ok(!existsSync(join(m.dir, 'ssh.argv')) || !readFileSync(join(m.dir, 'ssh.argv'), 'utf8').includes('lab-alpha'), 'a refusal reaches no machine');
  });

  test('no A2A entry for the peer on the sending machine: exit 1 naming the machine and its config, nothing sent', async () => {
    const m = machines(['alpha', 'beta'], { messageId: 'msg-1' }, { a2a: { alpha: [], beta: ['alpha'] } });
    const r = await runCli(['send', '-f', m.file, 'beta', 'hello'], { env: m.env });
    assert.equal(r.code, 1, explain(r));
    assert.match(
      r.stderr,
      /alpha's OpenClaw config \(\/root\/\.openclaw\/openclaw\.json\) has no A2A channel entry for beta .*nothing was sent\nhint: run `peer-provision up`/,
    );
    assert.deepEqual(m.calls(), []);
  });

  test('the sending machine unreachable: exit 1 naming it', async () => {
    const m = machines(['alpha', 'beta'], { messageId: 'msg-1' }, { unreachable: ['alpha'] });
    const r = await runCli(['send', '-f', m.file, 'beta', 'hello', '--json'], { env: m.env });
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stderr, /^alpha \(the sending machine\) is unreachable: .*nothing was sent/m);
    assert.equal(JSON.parse(r.stdout).format, 'peer-provision/error@1');
  });
});
