import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/model/hash.js';
import type { MachineState } from '../../src/observe/types.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { machinePreconditions } from '../../src/plan/blockers/preconditions.js';
import type { Desired } from '../../src/plan/gateway.js';
import { plan } from '../../src/plan/index.js';
import { planMachineDown } from '../../src/plan/machine-down.js';
import { planMachineUp } from '../../src/plan/machine-up.js';
import { type NodeKeys, nodeKeyPlan } from '../../src/plan/node-keys.js';
import { mergePolicy } from '../../src/tailnet/policy/merge.js';
import { machineState } from '../fixtures/machine-state.js';
import { writeTemp } from '../helpers.js';

/** The join of a stack whose provider mints the keys. */
const MINTED = { key: 'minted' } as const;

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
const M2_URL = 'http://100.64.0.2:18789/a2a/v1';
/** What prepare hands the planner for m1 once m2 has joined: its A2A URL, the pair's tokens in place unless said. */
const want = (extra: Desired = {}): Desired => ({
  peerFilesHash: 'digest',
  peers: ['m2'],
  stackMachines: ['m1', 'm2'],
  a2a: { m2: { url: M2_URL, tokensInPlace: true } },
  ...extra,
});

/** A machine as up leaves it: joined, patched, restarted on its tailnet address, peer files written. */
function converged(): MachineState {
  return machineState({
    tailscale: { loggedIn: true, backendState: 'Running', hostname: 'm1', tags: [...m1.tags], ip: '100.64.0.1' },
    gateway: {
      mode: 'local',
      bind: 'tailnet',
      port: 18789,
      authMode: 'token',
      tokenHash: TOKEN,
      toolsAllow: ['sessions_list'],
      a2a: { enabled: true, rateLimitPerMinute: 30, peers: { m2: { url: M2_URL, token: true, outboundToken: true } } },
      allowedOrigins: ['http://127.0.0.1:18789'],
      backupExists: true,
      listening: ['127.0.0.1', '100.64.0.1'],
    },
    peerFilesHash: 'digest',
    recorded: [
      { id: 'abc123', path: '/root/.openclaw/openclaw.json', kind: 'file', absent: false, edited: false, appliedSame: true, origSame: false, origPort: 18789 },
    ],
  });
}
const observed = (state: MachineState) => ({ status: 'observed' as const, state });
const resources = (actions: { resource: string; op: string }[]) => actions.map((a) => `${a.op} ${a.resource}`);

test('a converged machine needs nothing', () => {
  assert.deepEqual(planMachineUp(m1, observed(converged()), want({ tokenHash: TOKEN }), MINTED), []);
});

test('generate keeps the token the gateway already has', () => {
  assert.deepEqual(planMachineUp(m1, observed(converged()), want(), MINTED), []);
});

test('a fresh machine gets every step, in order', () => {
  const state = converged();
  state.tailscale = { installed: false, loggedIn: false, tags: [] };
  Object.assign(state.gateway, {
    bind: 'loopback',
    authMode: 'token',
    tokenHash: sha256('old'),
    toolsAllow: [],
    backupExists: false,
    listening: ['127.0.0.1'],
  });
  state.peerFilesHash = undefined;
  state.gateway.a2a = { peers: {} };
  state.gateway.allowedOrigins = [];
  const actions = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN, peerFilesHash: undefined, a2a: { m2: { tokensInPlace: false } } }), MINTED);
  assert.deepEqual(resources(actions), ['add tailscale-install', 'add tailnet-node', 'change gateway-config', 'change gateway-restart', 'add peer-files']);
  const config = actions.find((a) => a.resource === 'gateway-config')!;
  assert.deepEqual(
    config.changes?.map((c) => c.field),
    [
      'gateway.bind',
      'gateway.auth.token',
      'gateway.controlUi.allowedOrigins',
      'channels.a2a.enabled',
      'channels.a2a.rateLimitPerMinute',
      'channels.a2a.peers.m2.url',
      'channels.a2a.peers.m2.token',
      'channels.a2a.peers.m2.outboundToken',
    ],
  );
  assert.equal(config.changes?.find((c) => c.field === 'channels.a2a.peers.m2.url')?.to, '(known after join)');
  assert.ok(config.changes?.filter((c) => c.field.endsWith('oken')).every((c) => c.sensitive && c.to === '(sensitive)'));
  assert.match(config.summary, /^back up, then patch/);
  const token = config.changes!.find((c) => c.field === 'gateway.auth.token')!;
  assert.equal(token.sensitive, true);
  assert.ok(!JSON.stringify(actions).includes(TOKEN), 'no token hash in the plan');
});

test('drift: bind set back to loopback is changed and restarted', () => {
  const state = converged();
  state.gateway.bind = 'loopback';
  state.gateway.listening = ['127.0.0.1'];
  const actions = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN }), MINTED);
  assert.deepEqual(resources(actions), ['change gateway-config', 'change gateway-restart']);
  assert.deepEqual(actions[0].changes, [{ field: 'gateway.bind', from: 'loopback', to: 'tailnet' }]);
});

test('only A2A settings changed (new tokens, a peer moved): patched, not restarted (OpenClaw reloads channels.a2a)', () => {
  const state = converged();
  const actions = planMachineUp(
    m1,
    observed(state),
    want({ tokenHash: TOKEN, a2a: { m2: { url: 'http://100.64.0.9:18789/a2a/v1', tokensInPlace: false } } }),
    MINTED,
  );
  assert.deepEqual(resources(actions), ['change gateway-config']);
  assert.deepEqual(
    actions[0].changes?.map((c) => c.field),
    ['channels.a2a.peers.m2.url', 'channels.a2a.peers.m2.token', 'channels.a2a.peers.m2.outboundToken'],
  );
  state.gateway.reloadMode = 'off';
  assert.deepEqual(resources(planMachineUp(m1, observed(state), want({ tokenHash: TOKEN, a2a: { m2: { url: M2_URL, tokensInPlace: false } } }), MINTED)), [
    'change gateway-config',
    'change gateway-restart',
  ]);
});

test("a machine patched by the previous version: its sessions_send goes, a user's own stays; a dropped stack peer goes", () => {
  const state = converged();
  state.gateway.toolsAllow = ['sessions_list', 'sessions_send'];
  state.gateway.origToolsAllow = ['sessions_list'];
  state.gateway.a2a.peers.m3 = { token: true, outboundToken: true };
  const actions = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN, stackMachines: ['m1', 'm2', 'm3'] }), MINTED);
  assert.deepEqual(actions[0].changes, [
    { field: 'gateway.tools.allow', from: ['sessions_list', 'sessions_send'], to: ['sessions_list'] },
    { field: 'channels.a2a.peers.m3', from: '(set)', to: undefined },
  ]);
  assert.deepEqual(actions[0].kind === 'patch-config' && actions[0].input.toolsAllow, ['sessions_list']);
  assert.deepEqual(actions[0].kind === 'patch-config' && actions[0].input.a2a.dropPeers, ['m3']);
  state.gateway.origToolsAllow = ['sessions_send'];
  state.gateway.a2a.peers = { m2: state.gateway.a2a.peers.m2! };
  assert.deepEqual(planMachineUp(m1, observed(state), want({ tokenHash: TOKEN }), MINTED), [], "the user's own sessions_send is kept");
});

test("a friend: tokens written without a URL until the friend's machine joins, then its URL; a recorded friend taken out goes", () => {
  const state = converged();
  const pending = want({ tokenHash: TOKEN, friends: { 'bob-laptop': { tokensInPlace: false } } });
  const [patch, ...rest] = planMachineUp(m1, observed(state), pending, MINTED);
  assert.deepEqual(patch.changes, [
    { field: 'channels.a2a.peers.bob-laptop.token', sensitive: true, from: undefined, to: '(sensitive)' },
    { field: 'channels.a2a.peers.bob-laptop.outboundToken', sensitive: true, from: undefined, to: '(sensitive)' },
  ]);
  assert.deepEqual(patch.kind === 'patch-config' && patch.input.a2a.friends, [{ name: 'bob-laptop' }]);
  assert.deepEqual(resources(rest), [], 'A2A changes reload without a restart');
  state.gateway.a2a.peers['bob-laptop'] = { token: true, outboundToken: true };
  state.gateway.friendPeers = ['bob-laptop'];
  assert.deepEqual(
    planMachineUp(m1, observed(state), want({ tokenHash: TOKEN, friends: { 'bob-laptop': { tokensInPlace: true } } }), MINTED),
    [],
    'converged before he joins',
  );
  const url = 'http://100.64.0.9:18789/a2a/v1';
  const [joined] = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN, friends: { 'bob-laptop': { url, tokensInPlace: true } } }), MINTED);
  assert.deepEqual(joined.changes, [{ field: 'channels.a2a.peers.bob-laptop.url', from: undefined, to: url }]);
  assert.deepEqual(joined.kind === 'patch-config' && joined.input.a2a.friends, [{ name: 'bob-laptop', url }]);
  state.gateway.a2a.peers.hermes = { token: true, outboundToken: true };
  const [removed] = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN }), MINTED);
  assert.deepEqual(removed.changes, [{ field: 'channels.a2a.peers.bob-laptop', from: '(set)', to: undefined }], "hermes (the user's own) stays");
  assert.deepEqual(removed.kind === 'patch-config' && removed.input.a2a.dropPeers, ['bob-laptop']);
});

test('a gateway not listening on its tailnet address is restarted', () => {
  const state = converged();
  state.gateway.listening = ['127.0.0.1'];
  const steps = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN }), MINTED);
  assert.deepEqual(resources(steps), ['change gateway-restart']);
  assert.equal(steps[0]!.summary, 'restart the gateway (the gateway is not listening on the tailnet address)');
});

test('joined with the wrong tags: rejoin', () => {
  const state = converged();
  state.tailscale.tags = ['tag:other'];
  const actions = planMachineUp(m1, observed(state), want({ tokenHash: TOKEN }), MINTED);
  assert.equal(actions[0].op, 'change');
  assert.equal(actions[0].resource, 'tailnet-node');
  assert.match(actions[0].summary, /^rejoin/);
});

test('an unreachable machine is unknown, with the reason', () => {
  const actions = planMachineUp(m1, { status: 'unreachable', reason: 'ssh lab-m1: Connection refused' }, {}, MINTED);
  assert.deepEqual(
    actions.map(({ op, kind, resource, summary, reason }) => ({ op, kind, resource, summary, reason })),
    [{ op: 'unknown', kind: 'unknown', resource: 'tailnet-node', summary: 'machine state', reason: 'ssh lab-m1: Connection refused' }],
  );
});

test('OpenClaw did not say where its config is: a blocker naming the field to set, so up refuses instead of skipping the patch', () => {
  const state = converged();
  state.gateway.configPath = undefined;
  state.gateway.configExists = false;
  state.gateway.bind = 'loopback';
  const result = plan({ spec, command: 'up', machines: new Map([['m1', observed(state)]]), policy: { unread: 'not needed' } });
  const m = result.machines.find((x) => x.machine === 'm1')!;
  assert.equal(m.actions.find((a) => a.resource === 'gateway-config')?.op, 'unknown');
  assert.deepEqual(
    m.blockers?.map((b) => b.fix),
    ['set machines.m1.gateway.configPath to the OpenClaw config file (openclaw config file prints it on that machine)'],
  );
  assert.ok(result.blockers.some((b) => b.where === 'm1' && /where its config is/.test(b.reason)));
});

test('down: restore, restart, remove files, and leave last; nothing when nothing is there', () => {
  assert.deepEqual(resources(planMachineDown(m1, observed(converged()))), [
    'change gateway-config',
    'change gateway-restart',
    'destroy peer-files',
    'destroy tailnet-node',
  ]);
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

// --- node key expiry (rotate re-keys; up notes) -------------------------------------------------------------------

const pulumiSpec = loadSpec(
  writeTemp(`version: 1
name: lab
tailnet: { provider: pulumi, credentials: { apiKey: env:TS_API_KEY } }
machines:
  m1: { ssh: lab-m1 }
  m2: { ssh: lab-m2 }
`),
);
const pm1 = pulumiSpec.machines[0];
const NOW = Date.parse('2026-03-01T12:00:00Z');
const DAY = 86_400;
const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const ROTATE: NodeKeys = { now: NOW, windowSeconds: 7 * DAY, rekey: true, provider: 'pulumi' };
const UP = { ...ROTATE, rekey: false };
/** A converged node of the pulumi stack whose key expires at `expiry` (undefined: expiry disabled). */
function keyed(expiry: string | undefined): MachineState {
  const state = converged();
  state.tailscale = { ...state.tailscale, tags: [...pm1.tags], keyExpiry: expiry };
  return state;
}
/** The plan's steps for the machine as op, resource, summary and whether the step is a re-key (a join with rekey). */
const nodeActions = (state: MachineState, keys: NodeKeys, machine = pm1) =>
  planMachineUp(machine, observed(state), want({ tokenHash: TOKEN }), MINTED, keys).map((a) => ({
    op: a.op,
    resource: a.resource,
    summary: a.summary,
    ...(a.kind === 'join' && a.input.rekey ? { rekey: true, forceReauth: a.input.forceReauth } : {}),
  }));

test('rotate: a key expiring within the window is re-keyed, the window edge included; one second past it is not', () => {
  assert.deepEqual(nodeActions(keyed(at(3 * DAY)), ROTATE), [
    { op: 'change', resource: 'tailnet-node', summary: 're-key (node key expires in 3d)', rekey: true, forceReauth: true },
  ]);
  assert.deepEqual(nodeActions(keyed(at(7 * DAY)), ROTATE), [
    { op: 'change', resource: 'tailnet-node', summary: 're-key (node key expires in 7d)', rekey: true, forceReauth: true },
  ]);
  assert.deepEqual(nodeActions(keyed(at(7 * DAY + 1)), ROTATE), []);
  assert.equal(nodeKeyPlan(pm1, keyed(at(7 * DAY + 1)), ROTATE).note, 'node key expires in 7d: not re-keyed (not within 7d)');
  assert.deepEqual(
    nodeActions(keyed(at(5 * 3600)), { ...ROTATE, windowSeconds: 6 * 3600 }).map((a) => a.summary),
    ['re-key (node key expires in 5h)'],
  );
  assert.deepEqual(nodeActions(keyed(at(7 * 3600)), { ...ROTATE, windowSeconds: 6 * 3600 }), []);
});

test('rotate: key expiry disabled (absent KeyExpiry, a tagged node) is said, and nothing is re-keyed', () => {
  assert.deepEqual(nodeActions(keyed(undefined), ROTATE), []);
  assert.match(nodeKeyPlan(pm1, keyed(undefined), ROTATE).note ?? '', /^node key expiry disabled \(the default for a tagged node\): nothing to re-key$/);
  assert.deepEqual(nodeKeyPlan(pm1, keyed(undefined), UP), {}, 'up says nothing about it');
  assert.match(nodeKeyPlan(pm1, keyed('not a time'), ROTATE).note ?? '', /not readable .*not re-keyed/);
});

test('an expired key: re-keyed by rotate and by up (the node is offline; Tailscale says NeedsLogin), instead of a plain join', () => {
  const state = keyed(at(-2 * DAY - 60));
  Object.assign(state.tailscale, { backendState: 'NeedsLogin', ip: undefined });
  for (const keys of [ROTATE, UP, { ...ROTATE, provider: 'provided' as const }]) {
    const actions = nodeActions(state, keys);
    const node = actions.filter((a) => a.resource === 'tailnet-node');
    assert.deepEqual(node, [
      {
        op: 'change',
        resource: 'tailnet-node',
        summary: 're-key (node key expired 2d ago: the node is offline on the tailnet)',
        rekey: true,
        forceReauth: true,
      },
    ]);
  }
  assert.match(nodeKeyPlan(pm1, state, { ...ROTATE, provider: 'provided' }).note ?? '', /machines\.m1\.tailscale\.authKey, which must be a new, unused key/);
  // expired at exactly now counts as expired
  assert.match(nodeKeyPlan(pm1, keyed(at(0)), ROTATE).rekey ?? '', /^re-key \(node key expired 0s ago/);
});

test("provider provided: a key near expiry is not re-keyed (the keys are the user's); the note says what to do", () => {
  const provided = { ...ROTATE, provider: 'provided' as const };
  assert.deepEqual(nodeActions(keyed(at(2 * DAY)), provided), []);
  assert.match(
    nodeKeyPlan(pm1, keyed(at(2 * DAY)), provided).note ?? '',
    /^node key expires in 2d: re-keying needs a new auth key from you \(tailnet\.provider: provided\)/,
  );
});

test('up: a key near expiry is a note suggesting rotate, not a change; a far one says nothing', () => {
  assert.deepEqual(nodeActions(keyed(at(2 * DAY)), UP), []);
  assert.equal(nodeKeyPlan(pm1, keyed(at(2 * DAY)), UP).note, 'node key expires in 2d: `peer-provision rotate` re-keys it');
  assert.deepEqual(nodeKeyPlan(pm1, keyed(at(30 * DAY)), UP), {});
});

test("a node that is not this machine's own (another hostname) is not re-keyed, whatever its expiry", () => {
  const state = keyed(at(DAY));
  state.tailscale.hostname = 'someone-else';
  assert.deepEqual(nodeKeyPlan(pm1, state, ROTATE), {});
  assert.ok(!nodeActions(state, ROTATE).some((a) => 'rekey' in a));
});

test('plan: re-keys counted as changes, notes per machine, nothing without nodeKeys; pure with now passed in', () => {
  const machines = new Map([
    ['m1', observed(keyed(at(DAY)))],
    ['m2', observed({ ...keyed(undefined), tailscale: { ...keyed(undefined).tailscale, hostname: 'm2', tags: [...pulumiSpec.machines[1].tags] } })],
  ]);
  const desired = new Map([
    ['m1', { peerFilesHash: 'digest' }],
    ['m2', { peerFilesHash: 'digest' }],
  ]);
  const policy = { text: mergePolicy('{}', pulumiSpec), ours: [] }; // the policy holds the stack's entries already
  const input = { spec: pulumiSpec, command: 'up' as const, machines, policy, desired, nodeKeys: { now: NOW, windowSeconds: 7 * DAY, rekey: true } };
  const p = plan(input);
  assert.deepEqual(p.summary, { add: 1, change: 1, destroy: 0, unknown: 0 }, 'a key minted, a node re-keyed');
  assert.deepEqual(
    p.tailnet.actions.map((a) => a.summary),
    [`mint an auth key for m1 (to re-key its node): single-use, preauthorized, expires in 1h`],
  );
  assert.deepEqual(
    p.machines[0].actions.map((a) => a.summary),
    ['re-key (node key expires in 1d)'],
  );
  assert.deepEqual(p.machines[1].notes?.slice(1), ['node key expiry disabled (the default for a tagged node): nothing to re-key']);
  assert.deepEqual(plan(input), p, 'same input, same plan');
  const later = plan({ ...input, nodeKeys: { ...input.nodeKeys, now: NOW - 7 * DAY * 1000 } });
  assert.equal(later.summary.change, 0, 'judged against the now passed in, not the clock');
  const none = plan({ ...input, nodeKeys: undefined });
  assert.equal(none.summary.change, 0);
  assert.deepEqual(
    none.machines.map((m) => m.notes?.length),
    [1, 1],
    'only where the node is',
  );
});

test("up on fresh machines: each config is patched once its peer has joined (the peer's A2A URL is its tailnet address)", () => {
  const state = converged();
  state.tailscale = { installed: false, loggedIn: false, tags: [] };
  Object.assign(state.gateway, { bind: 'loopback', a2a: { peers: {} }, allowedOrigins: [], listening: ['127.0.0.1'] });
  state.peerFilesHash = undefined;
  const fresh = () => ({ status: 'observed' as const, state: structuredClone(state) });
  const desired = (peer: string) => ({ peers: [peer], stackMachines: ['m1', 'm2'], a2a: { [peer]: { tokensInPlace: false } } });
  const result = plan({
    spec,
    command: 'up',
    machines: new Map([
      ['m1', fresh()],
      ['m2', fresh()],
    ]),
    policy: { unread: 'not needed' },
    desired: new Map([
      ['m1', desired('m2')],
      ['m2', desired('m1')],
    ]),
  });
  const step = (m: string, kind: string) => result.machines.find((x) => x.machine === m)!.actions.find((a) => a.kind === kind)!;
  assert.ok(step('m1', 'patch-config').needs.includes('m2/join'), JSON.stringify(step('m1', 'patch-config').needs));
  assert.ok(step('m2', 'patch-config').needs.includes('m1/join'));
  assert.ok(!step('m1', 'patch-config').needs.includes('m2/patch-config'), 'no cycle: a config waits for the join only');
});

test("the join step carries where its key comes from and the control server: apply reads them, never the spec's provider", () => {
  const fresh = converged();
  fresh.tailscale = { ...fresh.tailscale, backendState: 'NeedsLogin', loggedIn: false, tags: [], ip: undefined };
  const joinOf = (s: typeof spec) => {
    const result = plan({ spec: s, command: 'up', machines: new Map([['m1', observed(fresh)]]), policy: { unread: 'not needed' } });
    return result.machines.find((x) => x.machine === 'm1')!.actions.find((a) => a.kind === 'join')?.input;
  };
  assert.deepEqual(joinOf(spec), { hostname: 'm1', tags: m1!.tags, forceReauth: false, rekey: false, key: 'provided' });
  const headscale = loadSpec(
    writeTemp(`version: 1
name: lab
tailnet: { provider: provided, controlUrl: "https://hs.example.net" }
machines:
  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 } }
  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }
`),
  );
  assert.deepEqual(joinOf(headscale), {
    hostname: 'm1',
    tags: m1!.tags,
    forceReauth: false,
    rekey: false,
    key: 'provided',
    loginServer: 'https://hs.example.net',
  });
  assert.equal((joinOf(pulumiSpec) as { key: string }).key, 'minted');
});

test("a friend's A2A name the config already lists for a peer of the owner's own: blocked, not taken over", () => {
  const state = converged();
  state.gateway.a2a.peers['bob-laptop'] = { url: 'http://10.0.0.9:18789/a2a/v1', token: true, outboundToken: true };
  const plan_ = (recorded: boolean) => {
    state.gateway.friendPeers = recorded ? ['bob-laptop'] : undefined;
    return plan({
      spec,
      command: 'up',
      machines: new Map([
        ['m1', observed(state)],
        ['m2', observed(converged())],
      ]),
      policy: { unread: 'offline', offline: true },
      desired: new Map([['m1', want({ tokenHash: TOKEN, friends: { 'bob-laptop': { tokensInPlace: true } } })]]),
    });
  };
  assert.match(plan_(false).machines[0]!.blockers?.[0]?.reason ?? '', /already lists an A2A peer bob-laptop of its own/);
  assert.equal(plan_(true).machines[0]!.blockers, undefined, "recorded as peer-provision's: its own entry");
});

test('the inbound guard (accept --guard): added before the join, its port put right, removed when no longer wanted and by down', () => {
  const guarded = { ...m1, tailscale: { ...m1.tailscale, guard: true } };
  const table = 'peer-provision-lab';
  const fresh = machineState({ tailscale: { installed: true }, guard: { nft: true, table } });
  const up = planMachineUp(guarded, observed(fresh), want(), MINTED);
  assert.deepEqual(
    up.slice(0, 2).map((a) => [a.kind, a.op]),
    [
      ['guard', 'add'],
      ['join', 'add'],
    ],
    'the node is guarded from its first packet',
  );
  assert.deepEqual(up[0]!.kind === 'guard' && up[0]!.input, { table, port: 18789 });
  assert.equal(up[0]!.summary, 'let in on the tailnet interface only tcp/18789 (nftables table inet peer-provision-lab)');
  assert.ok(up[1]!.needs.includes(up[0]!.id), 'the join waits for the guard');
  const on = { ...converged(), guard: { nft: true, table, port: 18789 } };
  assert.deepEqual(planMachineUp(guarded, observed(on), want({ tokenHash: TOKEN }), MINTED), [], 'in place: nothing');
  const moved = planMachineUp(guarded, observed({ ...on, guard: { nft: true, table, port: 9000 } }), want({ tokenHash: TOKEN }), MINTED);
  assert.deepEqual(
    moved.map((a) => [a.kind, a.op, a.changes]),
    [['guard', 'change', [{ field: 'inbound-guard', from: 'tcp/9000', to: 'tcp/18789' }]]],
  );
  assert.deepEqual(
    planMachineUp(m1, observed(on), want({ tokenHash: TOKEN }), MINTED).map((a) => [a.kind, a.op]),
    [['unguard', 'destroy']],
    'no longer wanted: removed',
  );
  assert.deepEqual(planMachineUp(m1, observed(converged()), want({ tokenHash: TOKEN }), MINTED), [], 'never set up here: not looked at');
  const down = planMachineDown(m1, observed(on));
  assert.deepEqual(
    down.map((a) => a.kind),
    ['restore-config', 'restart', 'remove-peer-files', 'leave', 'unguard'],
    'guarded until the node has left',
  );
});

test('the guard wanted without nft: a blocker that says how to get it, before anything runs', () => {
  const guarded = { ...m1, tailscale: { ...m1.tailscale, guard: true } };
  const state = machineState({ os: 'linux', tailscale: { installed: true }, guard: { nft: false, table: 'peer-provision-lab' } });
  const actions = planMachineUp(guarded, observed(state), want(), MINTED);
  const blockers = machinePreconditions(guarded, state, actions);
  assert.ok(
    blockers.some(
      (b) => /the inbound guard \(--guard\) is an nftables table, and nft is not installed/.test(b.reason) && /apt-get install nftables/.test(b.fix),
    ),
    JSON.stringify(blockers),
  );
});
