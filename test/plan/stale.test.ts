// A saved plan is applied only while what it saw has not moved (src/plan/stale.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineState } from '../../src/observe/types.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { plan } from '../../src/plan/index.js';
import { staleness } from '../../src/plan/stale.js';
import { machineState } from '../fixtures/machine-state.js';
import { writeTemp } from '../helpers.js';

const yaml = (port = 18789) =>
  `version: 1\nname: lab\ntailnet: { provider: provided }\nmachines:\n  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 }, gateway: { port: ${port} } }\n  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }\n`;
const spec = loadSpec(writeTemp(yaml()));

const state = (over: Partial<MachineState['gateway']> = {}): MachineState =>
  machineState({ gateway: { bind: 'loopback', port: 18789, tokenHash: 'a'.repeat(64), ...over } });
const make = (s = spec, m1 = state(), policy: { text: string; ours: string[] } | { unread: string } = { unread: 'not needed' }) =>
  plan({
    spec: s,
    command: 'up',
    machines: new Map([
      ['m1', { status: 'observed' as const, state: m1 }],
      ['m2', { status: 'unreachable' as const, reason: 'ssh: timeout' }],
    ]),
    policy,
  });

test('the same world: not stale', () => {
  assert.deepEqual(staleness(make(), make()), []);
});

test('a machine that moved is named, field by field', () => {
  assert.deepEqual(staleness(make(), make(spec, state({ port: 18790, pid: 43 }))), ['m1: gateway.pid: 42 -> 43', 'm1: gateway.port: 18789 -> 18790']);
});

test('a machine that became reachable, a changed peer.yaml, a changed policy', () => {
  const saved = make();
  const reachable = plan({
    spec,
    command: 'up',
    machines: new Map([
      ['m1', { status: 'observed', state: state() }],
      ['m2', { status: 'observed', state: state() }],
    ]),
    policy: { unread: 'not needed' },
  });
  assert.deepEqual(staleness(saved, reachable), ['m2: was unreachable, now observed']);
  const edited = loadSpec(writeTemp(yaml(18800)));
  assert.match(staleness(saved, make({ ...edited, file: spec.file }))[0]!, /peer\.yaml changed since the plan was made$|changed since the plan was made$/);
  assert.deepEqual(staleness(make(spec, state(), { text: '{}', ours: [] }), make(spec, state(), { text: '{"grants":[]}', ours: [] })), [
    'the tailnet policy changed since the plan was made',
  ]);
});

test('a token changed behind the plan: no token hash in the plan, but the plan is stale', () => {
  const saved = make();
  assert.ok(!JSON.stringify(saved).includes('a'.repeat(64)), 'the plan holds no token hash');
  const now = make(spec, state({ tokenHash: undefined }));
  assert.deepEqual(staleness(saved, now), ['m1: gateway.tokenSet: true -> false']);
});

// issue 19 item 11: the plan's basis carried /etc/machine-id in clear
test('no identifier in the plan: the machine id stays on the machine', () => {
  const id = '0123456789abcdef0123456789abcdef';
  const saved = make(spec, { ...state(), machineId: id });
  assert.ok(!JSON.stringify(saved).includes(id.slice(0, 12)), 'the plan holds no machine id');
});

test('a plan for another command or stack is refused outright', () => {
  assert.deepEqual(staleness({ ...make(), command: 'down' }, make()), ['the plan is for down, not up']);
});

// issue 19 item 1: a saved plan is a record for review, never a program
test("a saved plan's steps are compared whole, machine and all, as a multiset: a step moved to another machine or doubled is stale", () => {
  const fresh = make();
  const edited = structuredClone(fresh);
  const m1 = edited.machines.find((m) => m.machine === 'm1')!;
  const step = m1.actions.find((a) => a.op !== 'unknown')!;
  // the same step, told to run on m2
  step.machine = 'm2';
  assert.deepEqual(staleness(edited, fresh), ['the steps planned now differ from the saved ones']);
  // the same step twice
  const doubled = structuredClone(fresh);
  const d1 = doubled.machines.find((m) => m.machine === 'm1')!;
  d1.actions.push(structuredClone(d1.actions[0]!));
  assert.deepEqual(staleness(doubled, fresh), ['the steps planned now differ from the saved ones']);
});

test('a saved plan whose blockers were deleted, or that lacks the blockers planned now, is stale', () => {
  const fresh = make();
  const blocked = { ...fresh, blockers: [{ where: 'm1', kind: 'machine' as const, reason: 'the config path is a directory', fix: 'set it' }] };
  assert.deepEqual(staleness(fresh, blocked), ['the blockers planned now differ from the saved ones']);
  assert.deepEqual(staleness(blocked, fresh), ['the blockers planned now differ from the saved ones']);
});
