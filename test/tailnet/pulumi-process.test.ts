// The Pulumi CLI runs in a process group of its own (src/tailnet/pulumi-process.ts): a terminal's Ctrl-C reaches
// only peer-provision, which lets the running Pulumi operation finish on the first one and stops it on the second.
// Each test starts a small driver as a terminal starts a job (a process group of its own), the driver runs `pulumi`
// through the seam LocalWorkspace is given, and the test sends SIGINT to the driver's whole group, as a terminal does.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { alive, type Driver, sleep, srcModule, startDriver, until } from '../driver.js';
import { tempDir } from '../helpers.js';
import { goBuilt } from '../lab/go-builds.js';
import { CACHE_DIR } from '../lab/lab.js';
import { pulumiBinary } from '../lab/pulumi-home.js';
import { SIGNAL_FAKE_PULUMI } from './fake-pulumi.js';

describe('the Pulumi CLI in a process group of its own (a stand-in pulumi with its signal handling)', () => {
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;
  const logLines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const started = () => until('the stand-in pulumi to start', () => logLines().find((l) => l.startsWith('started ')));
  const running: Driver[] = [];

  beforeEach(() => {
    dir = tempDir('pp-pulumi-group-');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'pulumi'), SIGNAL_FAKE_PULUMI, { mode: 0o755 });
    log = join(dir, 'log');
    env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, FAKE_PULUMI_LOG: log };
  });
  afterEach(() => {
    for (const d of running.splice(0)) d.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The tool's interrupt handling and one Pulumi CLI call through the real engine (`stack ls`, the SDK's LocalWorkspace
   * running it); `during` runs while it is in flight. The driver exits 130 when interrupted, as the tool does.
   */
  const drive = (steps: number, during = '') => {
    // a backend of its own (not local): listing its stacks always asks the CLI
    const location = {
      projectName: 'peer-provision',
      stackName: 'lab',
      backendUrl: 's3://bucket/prefix',
      stateDir: join(dir, 'stacks', 'lab'),
      local: false,
      usesPassphrase: true,
    };
    const d = startDriver(
      `
      import { existsSync, readFileSync } from 'node:fs';
      import { handleInterrupts, interrupted } from ${srcModule('interrupt.js')};
      import { createPulumiEngine } from ${srcModule('tailnet/engine.js')};
      handleInterrupts((line) => process.stderr.write(line));
      const whenStarted = (f) => {
        const t = setInterval(() => existsSync(${JSON.stringify(log)}) && readFileSync(${JSON.stringify(log)}, 'utf8').includes('started ') && (clearInterval(t), f()), 50);
      };
      const run = createPulumiEngine().stackExists({ location: ${JSON.stringify(location)}, env: {} });
      ${during}
      await run.then((exists) => console.log('stack listed:', exists), (e) => console.log('failed:', e.message));
      process.exit(interrupted() ? 130 : 0);`,
      { ...env, FAKE_STEPS: String(steps) },
    );
    running.push(d);
    return d;
  };

  it('a first Ctrl-C does not reach pulumi: its operation finishes, then the tool exits 130', async () => {
    const d = drive(20);
    await started();
    d.ctrlC();
    const end = await d.exited;
    assert.equal(end.code, 130, d.output());
    assert.match(d.output(), /Interrupted: no new step will start/);
    assert.match(d.output(), /stack listed: true/, d.output());
    assert.deepEqual(logLines().slice(1), ['finished'], 'pulumi got no signal and finished');
  });

  it('a second Ctrl-C stops pulumi as Pulumi expects (SIGINT: cancel, then SIGTERM: terminate), and the tool exits 130 at once', async () => {
    const d = drive(300);
    const pid = Number((await started()).split(' ')[1]);
    d.ctrlC();
    await sleep(300);
    const second = Date.now();
    d.ctrlC();
    const end = await d.exited;
    assert.equal(end.code, 130, d.output());
    assert.match(d.output(), /Aborting/);
    assert.ok(Date.now() - second < 5_000, 'the tool did not wait for pulumi');
    await until('pulumi to end', () => !alive(pid), 5_000);
    assert.deepEqual(logLines().slice(1), ['signal INT', 'signal TERM', 'terminated']);
  });

  it("runs every Pulumi CLI call as the leader of a group of its own: the SDK's, and the preflight's (version, plugins)", async () => {
    const d = startDriver(
      `
      import { createPulumiEngine } from ${srcModule('tailnet/engine.js')};
      const engine = createPulumiEngine();
      await engine.checkCli().catch((e) => console.log('preflight:', e.message));
      console.log('stack listed:', await engine.stackExists({ location: { backendUrl: 's3://bucket/prefix', stackName: 'lab', stateDir: ${JSON.stringify(join(dir, 'stacks', 'lab'))}, local: false }, env: {} }));`,
      { ...env, FAKE_STEPS: '1' },
    );
    running.push(d);
    assert.equal((await d.exited).code, 0, d.output());
    assert.match(d.output(), /stack listed: true/);
    const calls = logLines()
      .filter((l) => l.startsWith('started '))
      .map((l) => l.split(' '));
    assert.deepEqual(
      calls.map((c) => c.slice(3, 5).join(' ')),
      ['plugin ls', 'plugin install', 'stack ls'],
    );
    for (const [, pid, pgid] of calls) {
      assert.equal(pgid, pid, 'its own group');
      assert.notEqual(Number(pgid), d.child.pid, "not the tool's");
    }
  });

  for (const [how, during, ends] of [
    ['exits (an error ends the command)', 'whenStarted(() => process.exit(1));', { code: 1, signal: null }],
    ['dies of an uncaught exception', "whenStarted(() => { throw new Error('boom'); });", { code: 1, signal: null }],
  ] as const) {
    it(`stops pulumi when the tool ${how} while it runs: no orphan`, async () => {
      const d = drive(300, during);
      const pid = Number((await started()).split(' ')[1]);
      assert.deepEqual(await d.exited, ends, d.output());
      await until('pulumi to end', () => !alive(pid), 5_000);
      assert.deepEqual(logLines().slice(1), ['signal INT', 'signal TERM', 'terminated']);
    });
  }

  it('stops pulumi when the terminal closes (SIGHUP to the group): the tool ends of it, pulumi with it', async () => {
    const d = drive(300);
    const pid = Number((await started()).split(' ')[1]);
    process.kill(-d.child.pid!, 'SIGHUP');
    assert.deepEqual(await d.exited, { code: null, signal: 'SIGHUP' }, d.output());
    await until('pulumi to end', () => !alive(pid), 5_000);
    assert.deepEqual(logLines().slice(1), ['signal INT', 'signal TERM', 'terminated']);
  });
});

// The real CLI (the version of our @pulumi/pulumi, built for the lab by test/lab/prepare.sh; skipped where it is not
// built): an inline program that takes a while, updated through the real engine, a local backend, no plugin needed.
const REAL_PULUMI = pulumiBinary(CACHE_DIR);
await goBuilt([REAL_PULUMI]); // (on a new machine it may still be building in the background)

describe('the real Pulumi CLI under a terminal Ctrl-C', { skip: !existsSync(REAL_PULUMI) && `${REAL_PULUMI} is not built` }, () => {
  let dir: string;
  let log: string;
  const running: Driver[] = [];
  const pulumiPids = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []).map((l) => Number(l.split(' ')[0]));

  beforeEach(() => {
    dir = tempDir('pp-real-pulumi-');
    mkdirSync(join(dir, 'bin'));
    log = join(dir, 'calls');
    // records each call's pid (exec keeps it) before it becomes the real CLI
    writeFileSync(join(dir, 'bin', 'pulumi'), `#!/bin/sh\necho "$$ $1" >> '${log}'\nexec '${REAL_PULUMI}' "$@"\n`, { mode: 0o755 });
  });
  afterEach(() => {
    for (const d of running.splice(0)) d.kill();
    for (const pid of pulumiPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** `up` of a stack whose program says so when it runs, then takes 3 s; the driver exits 130 when interrupted. */
  const driveUp = () => {
    const stateDir = join(dir, 'stacks', 'lab');
    const location = { projectName: 'peer-provision', stackName: 'lab', backendUrl: pathToFileURL(stateDir).href, stateDir, local: true, usesPassphrase: true };
    const d = startDriver(
      `
      import { handleInterrupts, interrupted } from ${srcModule('interrupt.js')};
      import { createPulumiEngine } from ${srcModule('tailnet/engine.js')};
      handleInterrupts((line) => process.stderr.write(line));
      const program = async () => {
        console.log('program running');
        await new Promise((r) => setTimeout(r, 3000));
        return { done: 'yes' };
      };
      const stack = await createPulumiEngine().createOrSelectStack({ location: ${JSON.stringify(location)}, env: { PULUMI_CONFIG_PASSPHRASE: 'a test passphrase' }, secretsProvider: 'passphrase', program });
      await stack.up({ refresh: false }).then((r) => console.log('up:', JSON.stringify(r.changeSummary)), (e) => console.log('failed:', e.message));
      process.exit(interrupted() ? 130 : 0);`,
      {
        ...process.env,
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        PULUMI_HOME: join(dir, 'home'),
        PULUMI_SKIP_UPDATE_CHECK: 'true',
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      },
    );
    running.push(d);
    return d;
  };

  it('a first Ctrl-C during `pulumi up`: the update completes (pulumi used to cancel it halfway), then 130', async () => {
    const d = driveUp();
    await until('the program to run', () => /program running/.test(d.output()), 120_000);
    d.ctrlC();
    const end = await d.exited;
    assert.equal(end.code, 130, d.output());
    assert.match(d.output(), /up: \{"create":1\}/, d.output());
  });

  it('a second Ctrl-C: the tool exits 130 at once and pulumi ends too', async () => {
    const d = driveUp();
    await until('the program to run', () => /program running/.test(d.output()), 120_000);
    d.ctrlC();
    await sleep(300);
    const second = Date.now();
    d.ctrlC();
    assert.equal((await d.exited).code, 130, d.output());
    assert.ok(Date.now() - second < 5_000, 'the tool did not wait for pulumi');
    for (const pid of pulumiPids()) await until(`pulumi ${pid} to end`, () => !alive(pid), 15_000);
  });
});
