import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineState } from '../../src/observe/types.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { machinePreconditions } from '../../src/plan/blockers/preconditions.js';
import { plan } from '../../src/plan/index.js';
import { makeStep } from '../../src/plan/step.js';
import { machineState } from '../fixtures/machine-state.js';
import { writeTemp } from '../helpers.js';

const spec = loadSpec(
  writeTemp(`version: 1
name: pre
tailnet: { provider: provided }
machines:
  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 } }
  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 }, gateway: { restart: "my-restart" } }
`),
);
const [m1, m2] = spec.machines;

/** A fresh machine: nothing of Tailscale, OpenClaw there, run by a supervisor, as root, with curl. */
function fresh(over: Partial<MachineState> = {}, gateway: Partial<MachineState['gateway']> = {}): MachineState {
  return {
    ...machineState({
      user: 'bob',
      root: { via: 'root' },
      curl: true,
      tailscale: { installed: false, backendState: undefined },
      gateway: { configPath: '/home/bob/.openclaw/openclaw.json', ...gateway },
    }),
    ...over,
  };
}
const observed = (state: MachineState) =>
  new Map([
    ['m1', { status: 'observed' as const, state }],
    ['m2', { status: 'observed' as const, state: fresh() }],
  ]);
const blockersOf = (state: MachineState) => plan({ spec, command: 'up', machines: observed(state), policy: { unread: 'not needed' } }).blockers;

test('a ready machine has no blockers', () => {
  assert.deepEqual(blockersOf(fresh()), []);
});

test('OpenClaw missing, nothing restartable, no root or sudo, no curl: each is a blocker with a fix, all at once', () => {
  const b = blockersOf(
    fresh({ root: { via: 'refused', reason: 'sudo: a password is required' }, curl: false }, { installed: false, serviceManager: 'none', pid: undefined }),
  );
  assert.deepEqual(
    b.map((x) => x.where),
    ['m1', 'm1', 'm1', 'm1'],
  );
  assert.match(b[0].reason, /OpenClaw is not installed/);
  assert.match(b[1].reason, /no gateway is running and no service manager runs one/);
  assert.match(b[1].fix, /machines\.m1\.gateway\.restart/);
  assert.match(b[2].reason, /bob cannot run commands as root without a password .*Tailscale needs root/);
  assert.match(b[3].reason, /curl is missing/);
  for (const x of b) assert.ok(x.fix.length > 10 && x.kind === 'machine');
});

test('an OS other than Linux or macOS: one blocker, nothing else said; Windows (Git Bash) with the WSL2 route', () => {
  const b = blockersOf(fresh({ os: 'mingw64_nt-10.0', curl: false }));
  assert.equal(b.length, 1);
  assert.match(b[0].reason, /a Windows machine \(mingw64_nt-10\.0: Git Bash, MSYS or Cygwin answered ssh\) is not supported; OpenClaw on Windows runs in WSL2/);
  assert.match(b[0].fix, /start sshd inside the WSL2 distribution/);
  const f = blockersOf(fresh({ os: 'freebsd', curl: false }));
  assert.equal(f.length, 1);
  assert.match(f[0].reason, /freebsd is not supported yet/);
});

const restartStep = makeStep('restart', 'm1', {
  op: 'change',
  summary: '',
  input: { serviceManager: 'none', port: 18789, listen: 'tailnet' },
});
const peerFilesStep = makeStep('write-peer-files', 'm1', { op: 'add', summary: '', input: { peers: [] } });
const joinStep = makeStep('join', 'm1', {
  op: 'add',
  summary: '',
  input: { hostname: 'm1', tags: [], forceReauth: false, rekey: false, key: 'provided' },
});

test('a gateway.restart command makes the gateway restartable; sudo is enough for Tailscale', () => {
  const state = fresh({ root: { via: 'sudo' } }, { serviceManager: 'none' });
  assert.deepEqual(machinePreconditions(m2, state, [restartStep]), []);
  assert.equal(machinePreconditions(m1, state, [restartStep]).length, 1);
});

test('root is only needed when Tailscale has to be installed or joined; unknown facts (an older observe) block nothing', () => {
  assert.deepEqual(machinePreconditions(m1, fresh({ root: { via: 'refused', reason: 'sudo: a password is required' } }), [peerFilesStep]), []);
  assert.deepEqual(machinePreconditions(m1, fresh({ root: undefined, curl: undefined }), [joinStep]), []);
});

test('plan for down has no machine preconditions', () => {
  const p = plan({ spec, command: 'down', machines: observed(fresh({ curl: false }, { installed: false })), policy: { unread: 'not needed' } });
  assert.deepEqual(p.blockers, []);
});

test('an OpenClaw without the A2A channel blocks the machine, saying which version it has and how to upgrade', () => {
  const state = fresh();
  state.gateway.version = '2026.1.2';
  state.gateway.a2aChannel = false;
  const blockers = machinePreconditions(m1, state, []);
  assert.equal(blockers.length, 1);
  assert.match(blockers[0]!.reason, /^OpenClaw 2026\.1\.2 has no A2A channel/);
  assert.match(blockers[0]!.fix, /npm install -g openclaw@latest/);
  state.gateway.a2aChannel = undefined;
  assert.deepEqual(machinePreconditions(m1, state, []), [], 'not found is not a blocker: OpenClaw itself validates the patch');
});
