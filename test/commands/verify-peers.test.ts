// up's verify after a change: every pair gets every check (the message too), and OpenClaw's security audit, seconds of
// CPU on a machine, runs where the change wrote the machine's OpenClaw config or put it in effect, not on a machine
// it left as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineRun } from '../../src/apply/context.js';
import { configChangedOn, type RunResult } from '../../src/apply/run-plan.js';
import { verifyAfterApply } from '../../src/commands/verify-peers.js';
import type { StreamEvent } from '../../src/output/events.js';
import { FakeRemote, type Sent } from '../apply/fake-remote.js';
import { machine, makeSpec } from '../tailnet/helpers.js';

const T = (c: string) => c.repeat(43);

test('after a change, the audit runs on the machines whose config the run wrote or put in effect; every pair still gets every check', async () => {
  const spec = makeSpec('lab', [machine('lab', 'm1'), machine('lab', 'm2')]);
  const sent: Sent[] = [];
  // verify.sh's answer: each peer's checks passed, and an audit report when it was asked for one
  const answer = (vars: Record<string, string>) => ({
    values: {
      ...Object.fromEntries(['agent-card', 'token-enforced', 'token-accepted', 'message'].map((c) => [`${vars.PEERS!.split(' ')[0]}.${c}`, 'ok'])),
      ...(vars.AUDIT === '1' ? { audit_b64: Buffer.from('{"findings":[]}').toString('base64') } : {}),
    },
  });
  const run = (name: string, ip: string, peer: string, token: string) =>
    ({
      spec,
      machine: spec.machines.find((m) => m.name === name)!,
      remote: new FakeRemote(name, sent, { verify: answer }),
      state: { gateway: { configPath: '/home/u/.openclaw/openclaw.json' } },
      ip,
      a2a: new Map([[peer, { token: T('x'), outboundToken: token }]]),
    }) as unknown as MachineRun;
  const runs = new Map([
    ['m1', run('m1', '100.64.0.1', 'm2', T('a'))],
    ['m2', run('m2', '100.64.0.2', 'm1', T('b'))],
  ]);
  // the run patched m1's config (and wrote peer files on both); m2's config it left alone
  const result: RunResult = { failures: [], done: 3, stopped: new Map(), restarted: ['m1'], written: ['m1 gateway-config', 'm1 peer-files', 'm2 peer-files'] };
  const written = configChangedOn(result);
  assert.deepEqual([...written], ['m1']);
  // a gateway restarted on a config an earlier run wrote (and stopped short of verifying) is audited too
  assert.deepEqual([...configChangedOn({ ...result, restarted: ['m1', 'm2'], written: ['m1 gateway-config'] })].sort(), ['m1', 'm2']);

  const events: StreamEvent[] = [];
  const checks = await verifyAfterApply(spec, runs, { emit: (e) => events.push(e) }, 'silent', result.stopped, written);
  const audit = Object.fromEntries(sent.filter((s) => s.template === 'verify').map((s) => [s.machine, s.vars.AUDIT]));
  assert.deepEqual(audit, { m1: '1', m2: '0' });
  assert.deepEqual(checks.map((c) => `${c.from}->${c.to} ${c.check} ${c.ok}`).sort(), [
    'm1->m1 audit true',
    'm1->m2 agent-card true',
    'm1->m2 message true',
    'm1->m2 token-accepted true',
    'm1->m2 token-enforced true',
    'm2->m1 agent-card true',
    'm2->m1 message true',
    'm2->m1 token-accepted true',
    'm2->m1 token-enforced true',
  ]);
  assert.ok(
    sent.every((s) => s.vars.SEND_MESSAGE === '1'),
    'a message each way all the same',
  );
});
