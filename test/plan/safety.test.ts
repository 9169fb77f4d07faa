// The planner's safety rules: configs it must not touch, nodes it must not move, machines listed twice,
// and a down that restores before it leaves and leaves only its own node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MachineState, RecordedConfig } from '../../src/observe/types.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { plan } from '../../src/plan/index.js';
import { planMachineDown, restoreMode } from '../../src/plan/machine-down.js';
import { planMachineUp } from '../../src/plan/machine-up.js';
import { isTailnetAddress } from '../../src/plan/node.js';
import type { Plan } from '../../src/plan/types.js';
import { machineState } from '../fixtures/machine-state.js';
import { writeTemp } from '../helpers.js';

/** The join of a stack whose provider mints the keys. */
const MINTED = { key: 'minted' } as const;

const spec = (takeOver = false) =>
  loadSpec(
    writeTemp(`version: 1
name: lab
tailnet: { provider: provided }
machines:
  m1: { ssh: lab-m1, tailscale: { authKey: env:K1${takeOver ? ', takeOver: true' : ''} } }
  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }
`),
  );

const fresh = (over: Partial<MachineState> = {}): MachineState => ({
  ...machineState({ machineId: 'id-1', gateway: { configKind: 'file', pid: undefined } }),
  ...over,
});
/** Every machine's blockers, with the machine they stand on. */
const blockers = (p: Plan) => p.blockers.map((b) => ({ machine: b.where, reason: b.reason, fix: b.fix }));
const observed = (state: MachineState) => ({ status: 'observed' as const, state });
const planUp = (states: Record<string, MachineState>, s = spec()) =>
  plan({ spec: s, command: 'up', machines: new Map(Object.entries(states).map(([k, v]) => [k, observed(v)])), policy: { unread: 'not needed' } });

test('a config path that is a directory, a device, a dangling link or relative blocks up', () => {
  for (const kind of ['directory', 'special', 'dangling', 'relative'] as const) {
    const m1 = fresh();
    m1.gateway.configKind = kind;
    const result = planUp({ m1, m2: fresh({ machineId: 'id-2' }) });
    const found = blockers(result);
    assert.equal(found.length, 1, kind);
    assert.equal(found[0].machine, 'm1');
    assert.match(found[0].fix, /machines\.m1\.gateway\.configPath/);
  }
  assert.equal(blockers(planUp({ m1: fresh(), m2: fresh({ machineId: 'id-2' }) })).length, 0, 'a regular file is fine');
});

test('two entries that are the same machine are refused', () => {
  const result = planUp({ m1: fresh(), m2: fresh() });
  const found = blockers(result);
  assert.equal(found.length, 1);
  assert.equal(found[0].machine, 'm2');
  assert.match(found[0].reason, /m1 and m2 are the same machine/);
});

test('a node logged in to another tailnet is refused unless takeOver, and plan says where it is', () => {
  const elsewhere = () =>
    fresh({
      tailscale: {
        installed: true,
        loggedIn: true,
        backendState: 'Running',
        tailnet: 'corp.example',
        login: 'alice@example.com',
        hostname: 'laptop',
        tags: [],
        ip: '100.100.1.2',
      },
    });
  const refused = planUp({ m1: elsewhere(), m2: fresh({ machineId: 'id-2' }) });
  assert.match(blockers(refused)[0].reason, /logged in elsewhere \(Tailscale: logged in to tailnet corp\.example as laptop \(user alice@example\.com\)/);
  assert.match(refused.machines[0].notes?.[0] ?? '', /tailnet corp\.example/);
  assert.match(blockers(refused)[0].fix, /set machines\.m1\.tailscale\.takeOver: true to log it out/);
  // accept's spec: its own way to opt in is what the refusal says
  const viaAccept = spec();
  viaAccept.machines[0]!.tailscale.takeOverOptIn = 'run accept again with --take-over';
  const acceptRefused = planUp({ m1: elsewhere(), m2: fresh({ machineId: 'id-2' }) }, viaAccept);
  assert.match(blockers(acceptRefused)[0].fix, /or run accept again with --take-over to log it out of that tailnet/);
  const allowed = planUp({ m1: elsewhere(), m2: fresh({ machineId: 'id-2' }) }, spec(true));
  assert.equal(blockers(allowed).length, 0);
  const join = allowed.machines[0].actions.find((a) => a.kind === 'join');
  assert.equal(join?.kind === 'join' && join.input.forceReauth, true, 'the join re-authenticates');
  assert.match(join?.summary ?? '', /log out of corp\.example, then join/);
});

test('a machine reached over Tailscale is not joined (its connection would die) unless takeOver', () => {
  const m1 = fresh({ sshClient: '100.101.102.103' });
  assert.match(blockers(planUp({ m1, m2: fresh({ machineId: 'id-2' }) }))[0].reason, /over Tailscale \(ssh from 100\.101\.102\.103\)/);
  assert.equal(blockers(planUp({ m1: fresh({ sshClient: '10.0.0.5' }), m2: fresh({ machineId: 'id-2' }) })).length, 0);
  assert.equal(blockers(planUp({ m1, m2: fresh({ machineId: 'id-2' }) }, spec(true))).length, 0);
  assert.ok(isTailnetAddress('100.64.0.1') && isTailnetAddress('100.127.255.254'));
  assert.ok(!isTailnetAddress('100.63.255.255') && !isTailnetAddress('100.128.0.1') && !isTailnetAddress(undefined));
});

test('down leaves only a node of this stack, never before the config is back, and not over its own connection', () => {
  const s = spec();
  const [m1] = s.machines;
  const record: RecordedConfig = {
    id: 'a1',
    path: '/root/.openclaw/openclaw.json',
    kind: 'file',
    absent: false,
    edited: false,
    appliedSame: true,
    origSame: false,
    origPort: 18800,
  };
  const ours = fresh({
    tailscale: { installed: true, loggedIn: true, backendState: 'Running', hostname: 'm1', tags: [...m1.tags], ip: '100.64.0.1' },
    recorded: [record],
    peerFilesHash: 'd',
  });
  const actions = planMachineDown(m1, observed(ours));
  assert.deepEqual(
    actions.map((a) => a.resource),
    ['gateway-config', 'gateway-restart', 'peer-files', 'tailnet-node'],
  );
  assert.equal(actions[1].kind === 'restart' && actions[1].input.port, 18800, "down waits on the restored config's port");
  const foreign = fresh({
    tailscale: { installed: true, loggedIn: true, backendState: 'Running', hostname: 'laptop', tags: [], ip: '100.100.1.2' },
    recorded: [record],
  });
  assert.ok(!planMachineDown(m1, observed(foreign)).some((a) => a.resource === 'tailnet-node'), 'a node this stack did not join stays');
  const overTailscale = { ...ours, sshClient: '100.64.0.9' };
  assert.ok(!planMachineDown(m1, observed(overTailscale)).some((a) => a.resource === 'tailnet-node'), 'no logout that cuts the connection');
  const downPlan = plan({ spec: s, command: 'down', machines: new Map([['m1', observed(overTailscale)]]), policy: { unread: 'not needed' } });
  assert.match(downPlan.machines[0].notes?.[0] ?? '', /stays on the tailnet: peer-provision reaches it over Tailscale/);
});

test('restore mode: byte for byte only when nobody else changed the config since the backup', () => {
  const r = (over: Partial<RecordedConfig>): RecordedConfig => ({
    id: 'a',
    path: '/c',
    kind: 'file',
    absent: false,
    edited: false,
    appliedSame: true,
    origSame: false,
    ...over,
  });
  assert.equal(restoreMode(r({})), 'bytes');
  assert.equal(restoreMode(r({ appliedSame: false })), 'patch', 'edited after the last up');
  assert.equal(restoreMode(r({ edited: true })), 'patch', 'edited between two ups, then patched again');
  assert.equal(restoreMode(r({ origSame: true, appliedSame: false })), 'none');
  const s = spec();
  const two = fresh({ recorded: [r({ id: 'a', path: '/a' }), r({ id: 'b', path: '/b', edited: true })] });
  const step = planMachineDown(s.machines[0], observed(two)).find((a) => a.kind === 'restore-config');
  const restore = step?.kind === 'restore-config' ? step.input.records : undefined;
  assert.deepEqual(
    restore,
    [
      { id: 'a', path: '/a', mode: 'bytes' },
      { id: 'b', path: '/b', mode: 'patch' },
    ],
    'every config path gets its own backup back',
  );
});

test('up never plans a join over a converged node', () => {
  const s = spec();
  const [m1] = s.machines;
  const state = fresh({
    tailscale: { installed: true, loggedIn: true, backendState: 'Running', hostname: 'm1', tags: [...m1.tags], ip: '100.64.0.1' },
    sshClient: '100.64.0.2',
  });
  assert.ok(!planMachineUp(m1, observed(state), {}, MINTED).some((a) => a.resource === 'tailnet-node'));
  assert.equal(blockers(planUp({ m1: state, m2: fresh({ machineId: 'id-2' }) })).length, 0, "ssh over the stack's own tailnet is fine when nothing rejoins");
});

// issue 19 item 20: down crashed with a SyntaxError on such a machine and could never finish it
test('down refuses, naming the way forward, when a config edited since up has a backup that is not JSON5', () => {
  const rec: RecordedConfig = {
    id: 'abc',
    path: '/root/.openclaw/openclaw.json',
    kind: 'file',
    absent: false,
    edited: true,
    appliedSame: false,
    origSame: false,
    origUnreadable: true,
  };
  const planDown = (r: RecordedConfig) =>
    plan({ spec: spec(), command: 'down', machines: new Map([['m1', observed(fresh({ recorded: [r] }))]]), policy: { unread: 'not needed' } });
  const refused = blockers(planDown(rec));
  assert.equal(refused.length, 1, JSON.stringify(refused));
  assert.equal(refused[0]!.machine, 'm1');
  assert.match(refused[0]!.reason, /the backup of \/root\/\.openclaw\/openclaw\.json .* is not valid JSON5/);
  assert.match(refused[0]!.fix ?? '', /remove the folder ~\/\.peer-provision\/lab\/configs\/abc \(down then leaves that config as it is\)/);
  // a backup that is put back byte for byte needs no parsing: no blocker
  assert.deepEqual(blockers(planDown({ ...rec, edited: false, appliedSame: true })), []);
});

// issue 19 item 3: an ssh client over Tailscale's IPv6 range, or IPv4-mapped, was not seen as "over Tailscale": down
// planned a foreground leave (cutting the operator's own connection) and up skipped the takeOver blocker
test('an ssh client on Tailscale IPv6 (fd7a:115c:a1e0::/48) or IPv4-mapped is reached over Tailscale, in up and down', () => {
  for (const address of [
    'fd7a:115c:a1e0::1',
    'FD7A:115C:A1E0:AB12:4843:CD96:6258:B240',
    'fd7a:115c:a1e0:0:0:0:0:5',
    '::ffff:100.64.1.2',
    '::FFFF:100.100.0.9',
    '::ffff:6440:0102',
    'fd7a:115c:a1e0::1%tailscale0',
  ]) {
    assert.ok(isTailnetAddress(address), address);
  }
  for (const address of ['fd7a:115c:a1e1::1', 'fd7a:115c::1', '::ffff:10.0.0.1', '::1', 'fe80::1', '::ffff:100.128.0.1', 'fd7a:115c:a1e0', '']) {
    assert.ok(!isTailnetAddress(address), address);
  }
  const over = fresh({
    sshClient: 'fd7a:115c:a1e0::7',
    tailscale: { installed: true, loggedIn: true, backendState: 'Running', tags: ['x'], tailnet: 'other' },
  });
  assert.ok(blockers(planUp({ m1: over, m2: fresh({ machineId: 'id-2' }) })).some((b) => /reaches this machine over Tailscale/.test(b.reason)));
});

// issue 19 item 2: 0.1 tagged machine eu of stack prod tag:peer-prod-eu, the stack tag of a stack named prod-eu. A node
// joined with 0.1's tags is this stack's: up asks for down first (it never writes those tags again), down leaves it.
test("a node joined with 0.1's tags (tag:peer-lab-m1) is this stack's: up is blocked with the way out, down leaves it", () => {
  const legacy = (tags: string[]) => fresh({ tailscale: { installed: true, loggedIn: true, backendState: 'Running', hostname: 'm1', tags, ip: '100.64.0.1' } });
  for (const takeOver of [false, true]) {
    const up = planUp({ m1: legacy(['tag:peer-lab', 'tag:peer-lab-m1']), m2: fresh({ machineId: 'id-2' }) }, spec(takeOver));
    const found = blockers(up);
    assert.equal(found.length, 1, `takeOver ${takeOver}: ${JSON.stringify(found)}`);
    assert.equal(found[0].machine, 'm1');
    assert.match(found[0].reason, /the tags of peer-provision 0\.1 \(tag:peer-lab,tag:peer-lab-m1\)/);
    assert.match(found[0].fix, /run peer-provision down, then up: .* joins again with tag:peer-lab,tag:peer-lab--m1; its auth key must carry those tags/);
  }
  const m1 = spec().machines[0]!;
  const leave = planMachineDown(m1, observed(legacy(['tag:peer-lab', 'tag:peer-lab-m1']))).find((s) => s.kind === 'leave');
  assert.deepEqual(leave?.kind === 'leave' && leave.input.tags, ['tag:peer-lab', 'tag:peer-lab-m1'], 'leave.sh checks the tags the node carries');
  const current = planMachineDown(m1, observed(legacy(['tag:peer-lab', 'tag:peer-lab--m1']))).find((s) => s.kind === 'leave');
  assert.deepEqual(current?.kind === 'leave' && current.input.tags, ['tag:peer-lab', 'tag:peer-lab--m1']);
  // another stack's node is neither: a stack named lab-m1 (0.1's machine tag of m1 is its stack tag) is left alone
  const other = planMachineDown(m1, observed(legacy(['tag:peer-lab-m1', 'tag:peer-lab-m1--x'])));
  assert.equal(
    other.find((s) => s.kind === 'leave'),
    undefined,
  );
  assert.equal(
    blockers(planUp({ m1: legacy(['tag:peer-lab-m1', 'tag:peer-lab-m1--x']), m2: fresh({ machineId: 'id-2' }) }))[0]?.reason.includes('logged in elsewhere'),
    true,
  );
});
