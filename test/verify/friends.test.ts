// verify from a machine to its friends' machines (invite's side once the friend has joined, accept's side from the
// start): asked as its peers are, in the same one command, with the token its config holds for each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type VerifyEndpoint, verify } from '../../src/verify/index.js';
import { FakeRemote, type Sent } from '../apply/fake-remote.js';
import { friend, machine, makeSpec } from '../tailnet/helpers.js';

const T = (c: string) => c.repeat(43);

test("verify asks a machine's friends' machines with its token for each; a friend without a token is a failure, never skipped", async () => {
  const spec = { ...makeSpec('lab', [machine('lab', 'm1'), machine('lab', 'm2')]), friends: [friend('lab', 'bob', ['m1'])] };
  const sent: Sent[] = [];
  const ok = (peer: string) => Object.fromEntries(['agent-card', 'token-enforced', 'token-accepted'].map((c) => [`${peer}.${c}`, 'ok']));
  const endpoint = (name: string, ip: string, outbound: [string, string][], friends: [string, { ip: string; port: number }][] = []): VerifyEndpoint => ({
    remote: new FakeRemote(name, sent, { verify: (vars) => ({ values: Object.assign({}, ...vars.PEERS!.split('\n').map((l) => ok(l.split(' ')[0]!))) }) }),
    ip,
    port: 18789,
    outbound: new Map(outbound),
    friends: new Map(friends),
  });
  const endpoints = new Map([
    [
      'm1',
      endpoint(
        'm1',
        '100.64.0.1',
        [
          ['m2', T('a')],
          ['bob', T('f')],
        ],
        [['bob', { ip: '100.64.0.9', port: 18790 }]],
      ),
    ],
    ['m2', endpoint('m2', '100.64.0.2', [['m1', T('b')]])],
  ]);
  const checks = await verify(spec, endpoints, false);
  assert.deepEqual(
    sent
      .find((s) => s.machine === 'm1')
      ?.vars.PEERS?.split('\n')
      .sort(),
    [`bob 100.64.0.9 18790 ${T('f')}`, `m2 100.64.0.2 18789 ${T('a')}`],
  );
  assert.deepEqual(
    checks.filter((c) => c.to === 'bob').map((c) => [c.from, c.check, c.ok]),
    [
      ['m1', 'agent-card', true],
      ['m1', 'token-enforced', true],
      ['m1', 'token-accepted', true],
    ],
  );
  endpoints.get('m1')!.outbound.delete('bob');
  const missing = await verify(spec, endpoints, false);
  assert.deepEqual(
    missing.filter((c) => c.to === 'bob').map((c) => [c.ok, c.detail]),
    [[false, "m1's OpenClaw config has no usable A2A token for bob: run up"]],
  );
});
