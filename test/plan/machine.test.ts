import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/model/hash.js';
import type { MachineState } from '../../src/observe/types.js';
import { plan } from '../../src/plan/index.js';
import { planMachineDown, planMachineUp } from '../../src/plan/machine.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { writeTemp } from '../helpers.js';

const spec = loadSpec(
  writeTemp(`version: 1
name: lab
tailnet: { provider: provided }
machines:
  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 } }
  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }
`),
);
const [m1] = spec.machines;
const TOKEN = sha256('the-token');

/** A machine as up leaves it: joined, patched, restarted on its tailnet address, peer files written. */
function converged(): MachineState {
  return {
    os: 'linux',
    arch: 'x86_64',
    user: 'root',
    tailscale: { installed: true, loggedIn: true, backendState: 'Running', hostname: 'm1', tags: [...m1.tags], ip: '100.64.0.1' },
    gateway: {
      installed: true,
      configPath: '/root/.openclaw/openclaw.json',
      configExists: true,
      mode: 'local',
      bind: 'tailnet',
      port: 18789,
      authMode: 'token',
      tokenHash: TOKEN,
      toolsAllow: ['sessions_list', 'sessions_send'],
      backupExists: true,
      serviceManager: 'supervisor',
      pid: 42,
      listening: ['127.0.0.1', '100.64.0.1'],
    },
    peerFilesHash: 'digest',
    recorded: [{ id: 'abc123', path: '/root/.openclaw/openclaw.json', kind: 'file', absent: false, edited: false, appliedSame: true, origSame: false, origPort: 18789 }],
  };
}
const observed = (state: MachineState) => ({ status: 'observed' as const, state });
const resources = (actions: { resource: string; op: string }[]) => actions.map((a) => `${a.op} ${a.resource}`);

test('a converged machine needs nothing', () => {
  assert.deepEqual(planMachineUp(m1, observed(converged()), { tokenHash: TOKEN, peerFilesHash: 'digest' }), []);
});

test('generate keeps the token the gateway already has', () => {
  assert.deepEqual(planMachineUp(m1, observed(converged()), { peerFilesHash: 'digest' }), []);
});

test('a fresh machine gets every step, in order', () => {
  const state = converged();
  state.tailscale = { installed: false, loggedIn: false, tags: [] };
  Object.assign(state.gateway, { bind: 'loopback', authMode: 'token', tokenHash: sha256('old'), toolsAllow: [], backupExists: false, listening: ['127.0.0.1'] });
  state.peerFilesHash = undefined;
  const actions = planMachineUp(m1, observed(state), { tokenHash: TOKEN });
  assert.deepEqual(resources(actions), ['add tailscale-install', 'add tailnet-node', 'change gateway-config', 'change gateway-restart', 'add peer-files']);
  const config = actions.find((a) => a.resource === 'gateway-config')!;
  assert.deepEqual(config.changes?.map((c) => c.field), ['gateway.bind', 'gateway.auth.token', 'gateway.tools.allow']);
  assert.match(config.summary, /^back up, then patch/);
  const token = config.changes!.find((c) => c.field === 'gateway.auth.token')!;
  assert.equal(token.sensitive, true);
  assert.ok(!JSON.stringify(actions).includes(TOKEN), 'no token hash in the plan');
});

test('drift: bind set back to loopback is changed and restarted', () => {
  const state = converged();
  state.gateway.bind = 'loopback';
  state.gateway.listening = ['127.0.0.1'];
  const actions = planMachineUp(m1, observed(state), { tokenHash: TOKEN, peerFilesHash: 'digest' });
  assert.deepEqual(resources(actions), ['change gateway-config', 'change gateway-restart']);
  assert.deepEqual(actions[0].changes, [{ field: 'gateway.bind', from: 'loopback', to: 'tailnet' }]);
});

test('only tools.allow missing: patched, not restarted (OpenClaw hot-reloads tools)', () => {
  const state = converged();
  state.gateway.toolsAllow = ['sessions_list'];
  assert.deepEqual(resources(planMachineUp(m1, observed(state), { tokenHash: TOKEN, peerFilesHash: 'digest' })), ['change gateway-config']);
});

test('a gateway not listening on its tailnet address is restarted', () => {
  const state = converged();
  state.gateway.listening = ['127.0.0.1'];
  assert.deepEqual(resources(planMachineUp(m1, observed(state), { tokenHash: TOKEN, peerFilesHash: 'digest' })), ['change gateway-restart']);
});

test('joined with the wrong tags: rejoin', () => {
  const state = converged();
  state.tailscale.tags = ['tag:other'];
  const actions = planMachineUp(m1, observed(state), { tokenHash: TOKEN, peerFilesHash: 'digest' });
  assert.equal(actions[0].op, 'change');
  assert.equal(actions[0].resource, 'tailnet-node');
  assert.match(actions[0].summary, /^rejoin/);
});

test('an unreachable machine is unknown, with the reason', () => {
  const actions = planMachineUp(m1, { status: 'unreachable', reason: 'ssh lab-m1: Connection refused' }, {});
  assert.deepEqual(
    actions.map(({ op, kind, resource, summary, reason }) => ({ op, kind, resource, summary, reason })),
    [{ op: 'unknown', kind: 'unknown', resource: 'tailnet-node', summary: 'machine state', reason: 'ssh lab-m1: Connection refused' }],
  );
});

test('down: restore, restart, remove files, and leave last; nothing when nothing is there', () => {
  assert.deepEqual(resources(planMachineDown(m1, observed(converged()))), ['change gateway-config', 'change gateway-restart', 'destroy peer-files', 'destroy tailnet-node']);
  const clean = converged();
  clean.tailscale = { installed: true, loggedIn: false, backendState: 'NeedsLogin', tags: [] };
  clean.gateway.backupExists = false;
  clean.recorded = undefined;
  clean.peerFilesHash = undefined;
  assert.deepEqual(planMachineDown(m1, observed(clean)), []);
});

test('offline plan: every step unknown, summary counts them', () => {
  const result = plan({ spec, command: 'up', machines: new Map(), policy: { unread: 'not observed (--offline)', offline: true } });
  assert.equal(result.format, 'peer-provision/plan@2');
  assert.deepEqual(result.summary, { add: 0, change: 0, destroy: 0, unknown: 10 });
  assert.ok(result.machines.every((m) => m.observed === 'offline'));
});

test('the planner is pure: same input, same plan', () => {
  const input = { spec, command: 'up' as const, machines: new Map([['m1', observed(converged())]]), policy: { unread: 'not needed' } };
  assert.deepEqual(plan(input), plan(input));
});
