import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/model/hash.js';
import { forgetSecrets, redact } from '../../src/model/redact.js';
import { observeMachine } from '../../src/observe/index.js';
import { parseObservation } from '../../src/observe/parse.js';
import type { MachineSpec, Spec } from '../../src/peer-yaml/types.js';
import type { Transport } from '../../src/transport/remote.js';
import { facts, observeStdout } from './observe-output.js';

const FACTS = `os=linux
arch=x86_64
user=root
home=/root
tailscale=/usr/local/bin/tailscale
openclaw=/usr/local/bin/openclaw
pid=77
service=supervisor
config=/root/.openclaw/openclaw.json
config_exists=1
backup=1
applied_same=1
listening=127.0.0.1:18789 100.64.0.1:18789 
peer_files=deadbeef
`;
const output = (config: string, status = '', extra = '') => observeStdout(facts(FACTS + extra), { config, tailscaleStatus: status });

test('parses observe.sh result values into a state without the token; the token is handed back, not registered (the parser is pure)', () => {
  forgetSecrets();
  const config = `// comment\n{ gateway: { mode: "local", bind: "tailnet", port: 18789, auth: { mode: "token", token: "secret-token-value-0123456789" }, tools: { allow: ["sessions_send"] } } }`;
  const status = JSON.stringify({ BackendState: 'Running', Self: { HostName: 'm1', TailscaleIPs: ['100.64.0.1', 'fd7a::1'], Tags: ['tag:peer-lab'] } });
  const { state, private: priv } = parseObservation(output(config, status));
  assert.equal(state.tailscale.ip, '100.64.0.1');
  assert.deepEqual(state.tailscale.tags, ['tag:peer-lab']);
  assert.equal(state.gateway.bind, 'tailnet');
  assert.equal(state.gateway.serviceManager, 'supervisor');
  assert.equal(state.gateway.pid, 77);
  assert.deepEqual(state.gateway.listening, ['127.0.0.1', '100.64.0.1']);
  assert.equal(state.gateway.tokenHash, sha256('secret-token-value-0123456789'));
  assert.equal(state.peerFilesHash, 'deadbeef');
  assert.ok(!JSON.stringify(state).includes('secret-token-value-0123456789'), 'the state holds no secret');
  assert.equal(priv.token, 'secret-token-value-0123456789');
  assert.deepEqual(priv.secrets, ['secret-token-value-0123456789']);
  assert.equal(redact('x secret-token-value-0123456789 y'), 'x secret-token-value-0123456789 y', 'observe/index.ts registers it, not the parser');
});

test("observeMachine registers every secret observe read before it returns (the token, the original config's token)", async () => {
  forgetSecrets();
  const config = '{ gateway: { auth: { mode: "token", token: "observed-token-0123456789" } } }';
  const remote = {
    machine: 'm1',
    stats: { connections: 0, commands: 0 },
    close: async () => {},
    abort: () => {},
    run: async () => ({ exitCode: 0, stdout: output(config), stderr: '' }),
  };
  const transport = { for: () => remote } as unknown as Transport;
  const spec = { name: 's', machines: [], peers: [] } as unknown as Spec;
  const machine = { name: 'm1', gateway: { port: 18789 }, tailscale: {} } as unknown as MachineSpec;
  const o = await observeMachine(spec, machine, transport);
  assert.equal(o.observation.status, 'observed');
  assert.equal(redact('x observed-token-0123456789 y'), 'x [redacted] y');
});

test('not joined, no config: a state that plans a full up', () => {
  const { state } = parseObservation(output('', JSON.stringify({ BackendState: 'NeedsLogin', Self: {} })));
  assert.equal(state.tailscale.ip, undefined);
  assert.equal(state.gateway.bind, undefined);
  assert.deepEqual(state.gateway.toolsAllow, []);
});

test('node key expiry: Self.KeyExpiry as given (RFC 3339); absent (expiry disabled, a tagged node) stays undefined', () => {
  const self = { HostName: 'm1', TailscaleIPs: ['100.64.0.1'], Tags: ['tag:peer-lab'] };
  const expiring = parseObservation(output('', JSON.stringify({ BackendState: 'Running', Self: { ...self, KeyExpiry: '2026-09-01T10:00:00Z' } }))).state;
  assert.equal(expiring.tailscale.keyExpiry, '2026-09-01T10:00:00Z');
  assert.equal(parseObservation(output('', JSON.stringify({ BackendState: 'Running', Self: self }))).state.tailscale.keyExpiry, undefined);
  // an expired key: Tailscale says NeedsLogin (and Expired), and keeps the node key
  const expired = parseObservation(
    output('', JSON.stringify({ BackendState: 'NeedsLogin', HaveNodeKey: true, Self: { ...self, KeyExpiry: '2026-01-01T00:00:00Z', Expired: true } })),
  ).state;
  assert.deepEqual([expired.tailscale.keyExpiry, expired.tailscale.loggedIn, expired.tailscale.ip], ['2026-01-01T00:00:00Z', true, undefined]);
});

test('a broken config is reported, not thrown', () => {
  const { state } = parseObservation(output('{ gateway: '));
  assert.match(state.gateway.configError ?? '', /JSON5/);
});

test('output cut short is an error', () => {
  const whole = output('{}');
  assert.throws(() => parseObservation(whole.slice(0, whole.length / 2)), /observe\.sh did not end with a result line/);
  assert.throws(() => parseObservation(''), /no output/);
});

test('preconditions facts: root (or sudo, or its refusal) and curl; absent facts stay unknown', () => {
  const state = parseObservation(output('{}', '', 'sudo=refused: sudo: a password is required\ncurl=\n')).state;
  assert.deepEqual(state.root, { via: 'refused', reason: 'sudo: a password is required' });
  assert.equal(state.curl, false);
  const sudo = parseObservation(output('{}', '', 'sudo=ok\ncurl=/usr/bin/curl\n')).state;
  assert.deepEqual([sudo.root, sudo.curl], [{ via: 'sudo' }, true]);
  const old = parseObservation(output('{}')).state;
  assert.deepEqual([old.root, old.curl], [{ via: 'root' }, undefined], 'as root observe prints no sudo fact');
});

test('a Windows machine (its ssh runs cmd or PowerShell) is said to be Windows, with the WSL2 route, not "observe failed" (issue 20)', async () => {
  const spec = { name: 's', machines: [], peers: [] } as unknown as Spec;
  const machine = { name: 'pc', gateway: { port: 18789 }, tailscale: {} } as unknown as MachineSpec;
  const answers = [
    "'sh' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
    "sh : The term 'sh' is not recognized as the name of a cmdlet, function, script file, or operable program.\r\n",
  ];
  for (const stderr of answers) {
    const remote = {
      machine: 'pc',
      stats: { connections: 0, commands: 0 },
      close: async () => {},
      abort: () => {},
      run: async () => ({ exitCode: 1, stdout: '', stderr }),
    };
    const o = await observeMachine(spec, machine, { for: () => remote } as unknown as Transport);
    assert.equal(o.observation.status, 'unreachable');
    assert.match(
      o.observation.status === 'unreachable' ? o.observation.reason : '',
      /^a Windows machine .*OpenClaw on Windows runs in WSL2: .*point machines\.pc\.ssh at it/,
    );
  }
  const other = {
    machine: 'pc',
    stats: { connections: 0, commands: 0 },
    close: async () => {},
    abort: () => {},
    run: async () => ({ exitCode: 1, stdout: '', stderr: 'sh: 1: oops\n' }),
  };
  const o = await observeMachine(spec, machine, { for: () => other } as unknown as Transport);
  assert.match(o.observation.status === 'unreachable' ? o.observation.reason : '', /^observe failed: sh: 1: oops/);
});

test("a friend's machine: the tagged nodes the status shows, and the friends' A2A entries recorded on the machine (not a user's edit)", () => {
  const peer = (HostName: string, Tags: string[] | null, ips = ['100.64.0.9']) => ({ HostName, Tags, TailscaleIPs: ips });
  const status = JSON.stringify({
    BackendState: 'Running',
    Self: { HostName: 'm1', TailscaleIPs: ['100.64.0.1'], Tags: ['tag:peer-lab'] },
    Peer: {
      'nodekey:1': peer('bob-laptop', ['tag:peer-lab', 'tag:peer-lab--bob']),
      'nodekey:2': peer('phone', null),
      'nodekey:3': peer('m2', ['tag:peer-lab'], ['fd7a::2']),
    },
  });
  const friend = '{ token: "' + 'f'.repeat(43) + '", outboundToken: "' + 'g'.repeat(43) + '" }';
  const config = `{ channels: { a2a: { peers: { "bob-laptop": ${friend} } } } }`;
  const applied = `{ channels: { a2a: { peers: { "bob-laptop": { token: "${'h'.repeat(43)}" } } } } }`;
  const stdout = (extra: Record<string, string>) => observeStdout({ ...facts(FACTS), ...extra }, { config, tailscaleStatus: status, applied });
  const { state } = parseObservation(stdout({ friends: 'bob-laptop ../x' }), ['m1', 'm2']);
  assert.deepEqual(state.tailscale.peers, [
    { hostname: 'bob-laptop', tags: ['tag:peer-lab', 'tag:peer-lab--bob'], ip: '100.64.0.9' },
    { hostname: 'm2', tags: ['tag:peer-lab'] },
  ]);
  assert.deepEqual(state.gateway.friendPeers, ['bob-laptop'], 'only names a peer can have');
  assert.equal(state.gateway.editedSinceApplied, false, "a recorded friend is peer-provision's own");
  assert.equal(parseObservation(stdout({}), ['m1', 'm2']).state.gateway.editedSinceApplied, true, "an unrecorded peer is a user's");
});
