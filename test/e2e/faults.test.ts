/**
 * Fault injection, end to end: the real CLI against the lab, a fault at a step boundary or in the middle of
 * a step (the config patch, the restore, the join), of three kinds: (a) the machine's sshd and the connection
 * killed, (b) Ctrl-C (SIGINT) to the CLI, (c) the filesystem where the config and its backup live full.
 * After each: every config is the original or fully patched and OpenClaw accepts it; a backup of the original
 * exists while the config is not the original; no secret sits in a file wider than 0600; the operator can
 * still ssh in; the lock is released; a re-run converges; and a down after it puts the original back byte
 * for byte. Boundaries are sampled (each kind of fault at two or three places: the middle of the join, of the
 * config patch and of the restore, the start of a restart and of the leave) to keep the run time reasonable.
 * One lab for the file, and the scenarios alternate: each up fault ends with the re-run up (converged), which is
 * where the next down fault starts, and each down fault ends with the re-run down (the originals back), where
 * the next up fault starts (the disk full on up ends with a down from its half-done state instead: there are more up
 * faults than down faults). A test that finds the lab in another state first brings it there (`ensure`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import JSON5 from 'json5';
import { sha256 } from '../../src/model/hash.js';
import { CLI, explain, type JsonEvent, jsonEvents } from '../helpers.js';
import { type Lab, labStatus, START_SSHD } from '../lab/lab.js';
import { filesOf, labForFile } from '../lab/shared.js';
import { record } from '../timing/record.js';
import { CONFIG, down, filesWithSecrets, secretsOf, up } from './lab-helpers.js';

const status = labStatus();
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;
const MACHINES = ['m1', 'm2'];
const BACKUP = `/root/.peer-provision/lab/configs/${sha256(CONFIG).slice(0, 16)}/orig`;

interface StepEvent {
  event: string;
  machine?: string;
  step?: string;
  status?: string;
}
interface Run {
  code: number;
  stdout: string;
  stderr: string;
  fired: boolean;
}

/** Runs the CLI with --json; when an event matches `when`, runs `fault` once (with the child, to signal it). */
function runWithFault(args: string[], when: (e: StepEvent) => boolean, fault: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<Run> {
  record(`cli ${args[0]}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let buffered = '';
    let fired = false;
    let faulting: Promise<void> = Promise.resolve();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        let event: StepEvent;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        if (!fired && when(event)) {
          fired = true;
          faulting = fault(child);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('close', async (code, signal) => {
      await faulting;
      done({ code: code ?? (signal ? 128 : 1), stdout, stderr, fired });
    });
  });
}

const step = (machine: string, name: string) => (e: StepEvent) => e.event === 'step' && e.machine === machine && e.step === name && e.status === 'start';
const stepDone = (machine: string, name: string) => (e: StepEvent) => e.event === 'step' && e.machine === machine && e.step === name && e.status === 'done';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults during up and down', () => {
  let lab: Lab;
  let file: string;
  let original = new Map<string, string>();
  /** Where the last test left the lab: up (converged), down (the originals back), or unknown after a failure. */
  let state: 'up' | 'down' | 'unknown' = 'unknown';

  labForFile(skip, { machines: 2 }, async (ready) => {
    lab = ready;
    file = lab.peerYaml();
    original = filesOf(lab, MACHINES, CONFIG);
    state = 'down';
  });

  /** A peer.yaml with fresh auth keys: provided keys are single-use, and every up after a down joins again. */
  const fresh = () => (file = lab.peerYaml());

  /** Brings the lab to the state a test starts from, when the test before it did not leave it there. */
  async function ensure(wanted: 'up' | 'down'): Promise<void> {
    if (state === wanted) return;
    await settle();
    for (const m of MACHINES) await startSsh(m);
    const r = wanted === 'up' ? await up(fresh()) : await down(file);
    assert.equal(r.code, 0, `bringing the lab ${wanted} before the test\n${explain(r)}`);
    if (wanted === 'down') original = filesOf(lab, MACHINES, CONFIG);
    state = wanted;
  }

  /**
   * Waits until a process matching pattern runs on the machine (the middle of a step), up to 30 s: polled inside the
   * machine every 10 ms (a real `tailscale up` lasts well under a second), the pattern's first letter bracketed so
   * that the polling shell's own command line never matches it.
   */
  async function whileRunning(machine: string, pattern: string): Promise<void> {
    const own = `[${pattern[0]}]${pattern.slice(1)}`;
    const r = await lab.run(machine, `i=0; until pgrep -f '${own}' >/dev/null; do i=$((i+1)); [ $i -lt 3000 ] || exit 1; sleep 0.01; done`);
    if (r.code !== 0) throw new Error(`${machine}: ${pattern} never ran`);
  }
  const killSsh = (machine: string) => lab.run(machine, 'pkill -x sshd').then(() => undefined);
  const startSsh = async (machine: string) => {
    if ((await lab.run(machine, 'pgrep -x sshd >/dev/null')).code !== 0) {
      const r = await lab.run(machine, START_SSHD);
      assert.equal(r.code, 0, r.stderr);
    }
  };
  /** Remote scripts cut off from their connection finish (or clean up) on their own: wait for them. (-x: with -f alone the
   * pattern also matched the shell running the check, and this waited its full 30 s every time.) */
  const settle = () =>
    Promise.all(
      MACHINES.map(async (m) => {
        for (let i = 0; i < 120 && (await lab.run(m, "pgrep -xf 'sh -s' >/dev/null")).code === 0; i++) await sleep(250);
      }),
    );

  /**
   * Each gateway healthy, its process running for 10 s and its config unchanged for 10 s before a scenario starts.
   * OpenClaw restarts itself after a config change (a run interrupted before its restart step leaves one behind), and
   * a plan taken while it does sees no gateway at all. (settle() used to hide this: it waited its full 30 s every
   * time, see there.) Read from the process's age and the config's, not watched for 10 s: a gateway steady long
   * since is steady at once.
   */
  const steadyFor = [
    'pid=$(cat /run/openclaw-gateway.pid 2>/dev/null) && up=$(ps -o etimes= -p "$pid")',
    `age=$(( $(date +%s) - $(stat -c %Y ${CONFIG}) ))`,
    'curl -fsS -m 2 http://127.0.0.1:18789/health >/dev/null && echo $(( up < age ? up : age ))',
  ].join(' && ');
  const gatewaysSteady = () =>
    Promise.all(
      MACHINES.map(async (m) => {
        const end = Date.now() + 120_000;
        while (Date.now() < end) {
          const r = await lab.run(m, steadyFor);
          if (r.code === 0 && Number(r.stdout.trim()) >= 10) return;
          await sleep(1000);
        }
        throw new Error(`${m}: the gateway did not settle within 2 minutes`);
      }),
    );

  /** edited: a machine whose config the user changed after up, so after down it is neither original nor patched. */
  async function invariants(context: string, edited?: string): Promise<void> {
    await settle();
    await Promise.all(MACHINES.map((m) => machineInvariants(m, context, m === edited)));
    assert.equal(existsSync(join(dirname(file), 'stacks', 'lab', 'lock')), false, `${context}: the lock is released`);
  }
  async function machineInvariants(m: string, context: string, edited: boolean): Promise<void> {
    await startSsh(m);
    const text = lab.readFile(m, CONFIG);
    if (text !== original.get(m) && !edited) {
      const gw = JSON5.parse(text).gateway;
      assert.equal(gw.bind, 'tailnet', `${context}: ${m}'s config is the original or fully patched`);
      assert.equal(gw.auth.mode, 'token', context);
      assert.equal(JSON5.parse(text).channels?.a2a?.enabled, true, `${context}: ${m}'s A2A channel is on`);
      assert.equal(lab.readFile(m, BACKUP), original.get(m), `${context}: ${m} keeps the backup of its original while it is patched`);
    }
    if (text !== original.get(m)) {
      // (the original is the config its gateway ran on: OpenClaw's CLI, seconds of CPU, is asked about any other)
      const valid = await lab.run(m, `OPENCLAW_CONFIG_PATH=${CONFIG} openclaw config validate`);
      assert.equal(valid.code, 0, `${context}: OpenClaw accepts ${m}'s config: ${valid.stdout}${valid.stderr}`);
    }
    const wide = (await filesWithSecrets(lab, m, secretsOf(lab, MACHINES))).filter((f) => !f.startsWith('600 '));
    assert.deepEqual(wide, [], `${context}: ${m} has secrets in files wider than 0600`);
    const leftovers = await lab.run(m, 'ls -d /tmp/peer-provision-* /root/.openclaw/.peer-provision.* 2>/dev/null');
    assert.equal(leftovers.stdout, '', `${context}: ${m} keeps no temp files`);
    const ssh = await lab.ssh(m, 'true');
    assert.equal(ssh.code, 0, `${context}: the operator can still ssh into ${m}: ${ssh.stderr}`);
  }

  /** After an up fault: the re-run converges (and verifies); the lab is then up. */
  async function upRecovers(context: string): Promise<void> {
    const again = await up(fresh());
    assert.equal(again.code, 0, `${context}: the re-run converges\n${explain(again)}`);
    assert.match(again.stdout, /up complete/);
    state = 'up';
  }
  const backByteForByte = (context: string, except?: string) => {
    for (const m of MACHINES) if (m !== except) assert.equal(lab.readFile(m, CONFIG), original.get(m), `${context}: ${m} is back byte for byte`);
  };

  /** Runs an up with a fault; checks the invariants (and `check`'s, on the events), then that a re-run converges. */
  async function upFault(
    name: string,
    when: (e: StepEvent) => boolean,
    fault: (child: ReturnType<typeof spawn>) => Promise<void>,
    code: number,
    check?: (events: JsonEvent[]) => Promise<void>,
  ) {
    await ensure('down');
    await gatewaysSteady();
    state = 'unknown';
    const r = await runWithFault(['up', '--yes', '-f', fresh()], when, fault);
    assert.ok(r.fired, `the fault was injected: ${explain(r)}`);
    assert.equal(r.code, code, explain(r));
    const events = await jsonEvents(r.stdout); // to the end: schema-valid lines, the last a result, whatever the fault
    await check?.(events);
    await invariants(name);
    await upRecovers(name);
  }

  /** Runs a down with a fault; checks the invariants, then that a re-run finishes with the originals back. */
  async function downFault(
    name: string,
    when: (e: StepEvent) => boolean,
    fault: (child: ReturnType<typeof spawn>) => Promise<void>,
    code: number,
    edit = false,
  ) {
    await ensure('up');
    await gatewaysSteady();
    state = 'unknown';
    let edited: string | undefined;
    if (edit) {
      // the user edits m1 after up: down will undo only peer-provision's keys (through OpenClaw)
      const c = JSON5.parse(lab.readFile('m1', CONFIG));
      c.logging = { ...c.logging, level: 'debug' };
      edited = JSON.stringify(c, null, 2);
      lab.writeGatewayConfig('m1', edited);
    }
    const r = await runWithFault(['down', '--yes', '-f', file], when, fault);
    assert.ok(r.fired, `the fault was injected: ${explain(r)}`);
    assert.equal(r.code, code, explain(r));
    await jsonEvents(r.stdout);
    if (!edited) await invariants(name);
    const again = await down(file);
    assert.equal(again.code, 0, `${name}: the re-run converges\n${explain(again)}`);
    if (edited) {
      const c = JSON5.parse(lab.readFile('m1', CONFIG));
      assert.equal(c.logging.level, 'debug', 'the later edit is kept');
      assert.equal(c.gateway.bind, 'loopback');
    }
    backByteForByte(name, edited ? 'm1' : undefined);
    await invariants(`${name}, after the re-run`, edited ? 'm1' : undefined);
    // the user's edit is now m1's config: what the next up backs up and the next down puts back
    original = filesOf(lab, MACHINES, CONFIG);
    state = 'down';
  }

  test(
    'up: sshd killed in the middle of the join: the step named with the ssh error; the other machine joins, its config waits for the peer',
    {
      skip,
      timeout: 600_000,
    },
    () =>
      upFault(
        'sshd killed in the middle of the join',
        step('m2', 'join the tailnet'),
        async () => {
          await whileRunning('m2', 'tailscale up');
          await killSsh('m2');
        },
        1,
        async (events) => {
          const steps = events.filter((e) => e.event === 'step') as (StepEvent & { error?: string })[];
          const join = steps.find((e) => e.machine === 'm2' && e.step === 'join the tailnet' && e.status === 'failed');
          assert.match(join?.error ?? '', /ssh lab-m2/, `m2's join failed, naming the connection: ${JSON.stringify(join)}`);
          assert.ok(
            steps.some((e) => e.machine === 'm1' && e.step === 'join the tailnet' && e.status === 'done'),
            'm1 went through to its join',
          );
          // m1's config lists m2's A2A endpoint, m2's tailnet address: unknown, so m1's patch is not started (not half done)
          assert.ok(!steps.some((e) => e.machine === 'm1' && e.step === 'patch the gateway config' && e.status !== 'skipped'), JSON.stringify(steps));
          assert.equal(lab.readFile('m1', CONFIG), original.get('m1'), 'm1 is left as it was');
        },
      ),
  );

  // (at the end of m2's restart, not at the start of its leave: a leave takes half a second, and its start event could
  // reach this test after the leave was done, so the fault hit nothing; the steps after the restart surely meet it)
  test('down: sshd killed as m2 finishes its restart, before it removes its peer files and leaves', { skip, timeout: 600_000 }, () =>
    downFault('sshd killed before m2 leaves', stepDone('m2', 'restart the gateway'), () => killSsh('m2'), 1),
  );

  test('up: sshd killed in the middle of the config patch', { skip, timeout: 600_000 }, () =>
    upFault(
      'sshd killed in the middle of the config patch',
      step('m1', 'patch the gateway config'),
      async () => {
        await whileRunning('m1', 'config patch');
        await killSsh('m1');
      },
      1,
    ),
  );

  test('down: the disk where the backup lives is full: nothing is lost, a later down finishes', { skip, timeout: 600_000 }, async () => {
    await ensure('up');
    await gatewaysSteady();
    state = 'unknown';
    const patched = lab.readFile('m1', CONFIG);
    const full = await lab.run(
      'm1',
      'set -e; d=/root/.peer-provision; mkdir -p /tmp/pp-save && cp -a $d/. /tmp/pp-save/ && mount -t tmpfs -o size=$(( $(du -sk $d | cut -f1) + 64 ))k pplab-full $d && cp -a /tmp/pp-save/. $d/ && rm -rf /tmp/pp-save; dd if=/dev/zero of=$d/fill bs=4k 2>/dev/null || true',
    );
    assert.equal(full.code, 0, full.stderr);
    try {
      const r = await down(file);
      assert.equal(r.code, 1, explain(r));
      assert.match(r.stdout + r.stderr, /m1: restore the gateway config failed/);
      assert.equal(lab.readFile('m1', CONFIG), patched, 'm1 untouched, still fully patched');
      assert.equal(lab.readFile('m1', BACKUP), original.get('m1'), 'its backup is kept');
    } finally {
      await lab.run(
        'm1',
        'cp -a /root/.peer-provision/lab /tmp/pp-keep && umount /root/.peer-provision && rm -rf /root/.peer-provision/lab && mv /tmp/pp-keep /root/.peer-provision/lab && rm -f /root/.peer-provision/lab/fill',
      );
    }
    const again = await down(file);
    assert.equal(again.code, 0, explain(again));
    backByteForByte('backup disk full on down');
    state = 'down';
  });

  test('up: Ctrl-C as m1 starts its restart', { skip, timeout: 600_000 }, () =>
    upFault('Ctrl-C as m1 starts its restart', step('m1', 'restart the gateway'), async (child) => void child.kill('SIGINT'), 130),
  );

  test('down: Ctrl-C in the middle of a restore that undoes only peer-provision keys', { skip, timeout: 600_000 }, () =>
    downFault(
      'Ctrl-C in the middle of a restore that undoes only peer-provision keys',
      step('m1', 'restore the gateway config'),
      async (child) => {
        await whileRunning('m1', 'config patch');
        child.kill('SIGINT');
      },
      130,
      true,
    ),
  );

  test('up: the disk where the backup goes is full: m1 is left untouched, m2 goes through', { skip, timeout: 600_000 }, async () => {
    await ensure('down');
    await gatewaysSteady();
    state = 'unknown';
    const full = await lab.run(
      'm1',
      'mkdir -p /root/.peer-provision && mount -t tmpfs -o size=64k pplab-full /root/.peer-provision && dd if=/dev/zero of=/root/.peer-provision/fill bs=4k 2>/dev/null; df -k /root/.peer-provision | tail -n 1',
    );
    assert.equal(full.code, 0, full.stderr);
    try {
      const r = await up(fresh());
      assert.equal(r.code, 1, explain(r));
      assert.match(r.stdout + r.stderr, /m1: patch the gateway config failed:[\s\S]*cannot (write|create) \S+ \((disk full|not writable)/);
      assert.equal(lab.readFile('m1', CONFIG), original.get('m1'), 'm1 untouched');
      await invariants('backup disk full');
    } finally {
      await lab.run('m1', 'umount /root/.peer-provision');
    }
    // No re-run up here (a re-run after a failed patch is proven above): a down from this half-done state (m1 joined
    // with its original config, m2 peered with a peer that never came) puts each machine back, and is where the next
    // test starts.
    const d = await down(file);
    assert.equal(d.code, 0, `backup disk full: down after it\n${explain(d)}`);
    backByteForByte('backup disk full');
    await invariants('backup disk full, after down');
    state = 'down';
  });

  test('up: the control server is down: each join fails with what tailscaled says; nothing else is touched; with it back, a re-run converges', {
    skip,
    timeout: 600_000,
  }, async () => {
    await ensure('down');
    await gatewaysSteady();
    state = 'unknown';
    const yaml = fresh(); // (its keys minted while headscale answers)
    await lab.stopControl();
    try {
      const r = await up(yaml, '--json');
      assert.equal(r.code, 1, explain(r));
      const events = await jsonEvents(r.stdout);
      for (const m of MACHINES) {
        const join = events.find((e) => e.event === 'step' && e.machine === m && e.step === 'join the tailnet' && e.status === 'failed') as
          | { error?: string }
          | undefined;
        // the CLI only says it timed out; tailscaled's health says why
        assert.match(join?.error ?? '', /timeout waiting for Tailscale[\s\S]*tailscaled: .*connect: connection refused/, `${m}: ${JSON.stringify(join)}`);
        assert.equal(lab.readFile(m, CONFIG), original.get(m), `control server down: ${m} is left as it was`);
      }
      await invariants('control server down');
    } finally {
      await lab.startControl();
    }
    // tailscaled keeps the key and goes on logging in after the CLI's timeout: once the control server answers, the
    // node joins by itself. Let that settle before the re-run (which then finds it joined, or joins it)
    await Promise.all(
      MACHINES.map((m) =>
        lab.run(
          m,
          `i=0; until tailscale status --json 2>/dev/null | grep -q '"BackendState": "Running"'; do i=$((i+1)); [ $i -lt 90 ] || break; sleep 1; done`,
        ),
      ),
    );
    await upRecovers('control server down');
  });

  // Placed where the lab is up and the next test wants it down: it costs no up of its own.
  test('down: a logout that failed while the control server was away cost tailscaled its node key: down starts the backend again and logs the node out', {
    skip,
    timeout: 600_000,
  }, async () => {
    await ensure('up');
    await gatewaysSteady();
    state = 'unknown';
    await lab.stopControl();
    try {
      const failed = await lab.run('m2', 'tailscale down && tailscale logout');
      assert.match(failed.stderr, /connection refused/, 'the logout failed: the control server is away');
    } finally {
      await lab.startControl();
    }
    // the Tailscale client fault (control/controlclient/direct.go TryLogout): the key is gone from its control client
    assert.match((await lab.run('m2', 'tailscale logout')).stderr, /no nodekey to log out/);
    const r = await down(file);
    assert.equal(r.code, 0, explain(r));
    state = 'down';
    assert.match((await lab.run('m2', 'tailscale status --json')).stdout, /"BackendState": "NeedsLogin"/, 'm2 is logged out');
    const m2 = lab.headscale.nodes().find((n) => n.givenName === 'm2' || n.name === 'm2');
    assert.ok(!m2 || Number(m2.expiry?.seconds ?? 0) * 1000 <= Date.now(), `m2's node key is expired at the control server: ${JSON.stringify(m2)}`);
    backByteForByte('lost node key');
  });

  test('up: tailscaled killed on m2 in the middle of its join: the step fails; the re-run is blocked (nothing touched) until tailscaled runs, then converges', {
    skip,
    timeout: 600_000,
  }, async () => {
    await ensure('down');
    await gatewaysSteady();
    state = 'unknown';
    const r = await runWithFault(['up', '--yes', '-f', fresh()], step('m2', 'join the tailnet'), async () => {
      await whileRunning('m2', 'tailscale up');
      await lab.killTailscaled('m2');
    });
    assert.ok(r.fired, `the fault was injected: ${explain(r)}`);
    assert.equal(r.code, 1, explain(r));
    const events = await jsonEvents(r.stdout);
    assert.ok(
      events.some((e) => e.event === 'step' && e.machine === 'm2' && e.step === 'join the tailnet' && e.status === 'failed'),
      explain(r),
    );
    await invariants('tailscaled killed');

    const before = new Map(MACHINES.map((m) => [m, lab.readFile(m, CONFIG)]));
    const blocked = await up(fresh());
    assert.equal(blocked.code, 1, explain(blocked));
    assert.match(blocked.stdout + blocked.stderr, /m2: tailscaled is not running, or not answering \(tailscale status: failed to connect to local tailscaled/);
    assert.match(blocked.stdout + blocked.stderr, /sudo systemctl enable --now tailscaled/);
    for (const m of MACHINES) assert.equal(lab.readFile(m, CONFIG), before.get(m), `blocked: ${m} is not touched`);

    await lab.startTailscaled('m2');
    await upRecovers('tailscaled killed');
  });
});
