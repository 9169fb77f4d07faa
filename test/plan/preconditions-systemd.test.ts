// Preconditions only a systemd machine shows, checked before anything is touched: lingering for a systemd user
// unit, passwordless sudo for root work (a system unit's restart included).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../src/observe/parse.js';
import type { MachineState } from '../../src/observe/types.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { machinePreconditions } from '../../src/plan/blockers/preconditions.js';
import { plan } from '../../src/plan/index.js';
import { makeStep } from '../../src/plan/step.js';
import { writeTemp } from '../helpers.js';
import { facts, observeStdout } from '../observe/observe-output.js';

/** observe.sh output of a machine reached as `lab` whose gateway is a systemd user unit. */
const observeOutput = (more: string) =>
  observeStdout(
    facts(`os=linux
arch=x86_64
user=lab
home=/home/lab
tailscale=
openclaw=/usr/local/bin/openclaw
pid=130
${more}
config=/home/lab/.openclaw/openclaw.json
config_exists=1
backup=0
listening=127.0.0.1:18789`),
    {
      config: '{ gateway: { mode: "local", bind: "loopback", port: 18789, auth: { mode: "token", token: "c3Ryb25nLXRva2VuLWZvci10ZXN0cy0wMTIz" } } }',
      tailscaleStatus: '',
    },
  );
const state = (more: string) => parseObservation(observeOutput(more)).state;
const m1 = loadSpec(
  writeTemp(
    'version: 1\nname: lab\ntailnet: { provider: provided }\nmachines:\n  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 } }\n  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }\n',
  ),
).machines[0]!;

const join = makeStep('join', 'm1', {
  op: 'add',
  summary: 'join',
  input: { hostname: 'm1', tags: [], forceReauth: false, rekey: false, key: 'provided' },
});
const restart = makeStep('restart', 'm1', {
  op: 'change',
  summary: 'restart',
  input: { serviceManager: 'systemd', port: 18789, listen: 'tailnet' },
});
const peerFiles = makeStep('write-peer-files', 'm1', { op: 'add', summary: 'peer files', input: { peers: ['m2'] } });

test('observe facts: lingering and sudo as the tool sees them', () => {
  const s = state('service=systemd\nlinger=no\nsudo=refused: sudo: a password is required');
  assert.equal(s.gateway.serviceManager, 'systemd');
  assert.equal(s.gateway.lingering, false);
  assert.deepEqual(s.root, { via: 'refused', reason: 'sudo: a password is required' });
  assert.deepEqual(state('service=systemd\nlinger=yes\nsudo=ok').root, { via: 'sudo' });
  assert.equal(state('service=systemd\nlinger=yes\nsudo=ok').gateway.lingering, true);
  // as root: no sudo fact; a supervisor: no linger fact
  const root = state('service=supervisor');
  assert.deepEqual([root.root, root.gateway.lingering], [{ via: 'root' }, undefined]);
  assert.equal(state('service=systemd-system').gateway.serviceManager, 'systemd-system');
});

test('lingering off blocks up with the command that fixes it; on, or nothing to do, does not', () => {
  const off = state('service=systemd\nlinger=no\nsudo=ok');
  assert.deepEqual(machinePreconditions(m1, off, [restart]), [
    {
      reason: "lingering is off for lab: the gateway's systemd user unit stops when lab's last session ends",
      fix: 'sudo loginctl enable-linger lab (on m1), then re-run',
    },
  ]);
  assert.deepEqual(machinePreconditions(m1, off, []), []);
  assert.deepEqual(machinePreconditions(m1, state('service=systemd\nlinger=yes\nsudo=ok'), [restart]), []);
});

test('sudo that asks for a password blocks only what needs root', () => {
  const pw = state('service=systemd\nlinger=yes\nsudo=refused: sudo: a password is required');
  const [b] = machinePreconditions(m1, pw, [join]);
  assert.equal(b!.reason, 'lab cannot run commands as root without a password (sudo -n: sudo: a password is required); Tailscale needs root');
  assert.match(b!.fix, /passwordless sudo on m1/);
  assert.deepEqual(machinePreconditions(m1, pw, [restart, peerFiles]), [], 'a user unit restarts without root');
  const system: MachineState = { ...pw, gateway: { ...pw.gateway, serviceManager: 'systemd-system' } };
  assert.equal(machinePreconditions(m1, system, [restart]).length, 1, 'a system unit restarts through root');
});

test("the plan carries each machine's blockers", () => {
  const spec = loadSpec(
    writeTemp(`version: 1
name: lab
tailnet: { provider: provided }
machines:
  m1: { ssh: lab@lab-m1, tailscale: { authKey: env:K1 } }
  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }
`),
  );
  const machines = new Map([
    ['m1', { status: 'observed' as const, state: state('service=systemd\nlinger=no\nsudo=ok') }],
    ['m2', { status: 'observed' as const, state: state('service=supervisor') }],
  ]);
  const p = plan({ spec, command: 'up', machines, policy: { unread: 'not needed' } });
  assert.deepEqual(
    p.machines[0]!.blockers?.map((b) => b.fix),
    ['sudo loginctl enable-linger lab (on m1), then re-run'],
  );
  assert.equal(p.machines[1]!.blockers, undefined);
  const down = plan({ spec, command: 'down', machines, policy: { unread: 'not needed' } });
  assert.equal(down.machines[0]!.blockers, undefined, "down puts the user's config back either way");
});
