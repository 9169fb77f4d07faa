import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stackLocation } from '../../src/tailnet/backend.js';
import { checkPulumiCli, createPulumiEngine, ensurePlugin, MIN_PULUMI_VERSION, pulumiError, tailscalePluginVersion } from '../../src/tailnet/engine.js';
import { TailnetError } from '../../src/tailnet/errors.js';
import { FAKE_PULUMI } from './fake-pulumi.js';
import { makeSpec } from './helpers.js';

const enoent = () => Object.assign(new Error('spawn pulumi ENOENT'), { code: 'ENOENT' });

describe('checkPulumiCli', () => {
  it('turns ENOENT into a TailnetError with the install hint, exit code 1', async () => {
    await assert.rejects(
      checkPulumiCli(async () => {
        throw enoent();
      }),
      (e: unknown) => {
        assert.ok(e instanceof TailnetError);
        assert.equal(e.exitCode, 1);
        assert.match(e.message, /Pulumi CLI \(pulumi\) was not found on PATH/);
        assert.match(e.hint ?? '', /https:\/\/www\.pulumi\.com\/docs\/install\//);
        return true;
      },
    );
  });

  it('finds a really missing CLI (PATH without pulumi) through the real runner', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pp-nopath-'));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      await assert.rejects(createPulumiEngine().checkCli(), /was not found on PATH/);
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true });
    }
  });

  it('accepts a current version and refuses an old one', async () => {
    assert.equal(await checkPulumiCli(async (cmd, args) => (assert.deepEqual([cmd, args], ['pulumi', ['version']]), 'v3.190.0\n')), '3.190.0');
    await assert.rejects(
      checkPulumiCli(async () => 'v3.180.9\n'),
      /too old/,
      'destroy of an inline program needs 3.181',
    );
    await assert.rejects(
      checkPulumiCli(async () => 'v3.99.1\n'),
      new RegExp(`too old \\(3\\.99\\.1; ${MIN_PULUMI_VERSION.replace(/\./g, '\\.')} or newer`),
    );
    await assert.rejects(
      checkPulumiCli(async () => 'v2.25.0'),
      /too old/,
    );
    await assert.rejects(
      checkPulumiCli(async () => 'garbage'),
      /cannot tell the Pulumi CLI's version/,
    );
  });
});

describe('pulumiError', () => {
  it("keeps the tail of Pulumi's stderr and maps a vanished CLI", () => {
    const msg =
      'code: 255\n stdout: lots of output\n stderr: error: something\nerror: 403 Forbidden: calling API\n err?: Error: Command failed with exit code 255: pulumi up --yes\n';
    const e = pulumiError('up', new Error(msg));
    assert.equal(e.message, 'pulumi up failed:\nerror: something\nerror: 403 Forbidden: calling API');
    assert.match(pulumiError('stack select', new Error('err?: spawn pulumi ENOENT')).hint ?? '', /docs\/install/);
  });
});

describe('the real engine without a CLI', () => {
  it('knows a local stack does not exist without running pulumi', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-engine-'));
    try {
      const loc = stackLocation({ ...makeSpec('lab'), file: join(dir, 'peer.yaml') });
      assert.equal(await createPulumiEngine().stackExists({ location: loc, env: {} }), false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('does not load @pulumi/pulumi when the tailnet module is imported (keeps --help fast)', () => {
    const index = fileURLToPath(new URL('../../src/tailnet/index.js', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const req = createRequire(${JSON.stringify(index)});
      await import(${JSON.stringify(index)});
      console.log(Object.keys(req.cache).filter((k) => k.includes('@pulumi')).length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), '0');
  });
});

describe('the real engine against a stand-in pulumi executable', () => {
  let dir: string;
  let log: string;
  const saved = { ...process.env };
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('|'))
      : [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pp-fakepulumi-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'tmp'));
    writeFileSync(join(dir, 'bin', 'pulumi'), FAKE_PULUMI, { mode: 0o755 });
    log = join(dir, 'log');
    Object.assign(process.env, { PATH: `${join(dir, 'bin')}:${saved.PATH}`, FAKE_PULUMI_LOG: log, FAKE_PULUMI_VERSION: 'v3.190.0', TMPDIR: join(dir, 'tmp') });
    delete process.env.FAKE_PLUGINS;
    delete process.env.FAKE_PLUGIN_INSTALL_OK;
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a CLI older than 3.181, which cannot destroy an inline-program stack (defect 1)', async () => {
    process.env.FAKE_PULUMI_VERSION = 'v3.150.0';
    await assert.rejects(createPulumiEngine().checkCli(), /too old \(3\.150\.0; 3\.181\.0 or newer is needed\)/);
    assert.equal(MIN_PULUMI_VERSION, '3.181.0');
  });

  it('checks the exact tailscale plugin at preflight; installs it when missing; says how to go offline when it cannot (defect 9)', async () => {
    const want = tailscalePluginVersion();
    assert.equal(want, '0.29.1');
    process.env.FAKE_PLUGINS = JSON.stringify([{ name: 'tailscale', kind: 'resource', version: '0.29.1' }]);
    await createPulumiEngine().checkCli();
    assert.deepEqual(
      calls().map((c) => c[2]),
      ['version', 'plugin ls --json'],
    );
    process.env.FAKE_PLUGINS = JSON.stringify([{ name: 'tailscale', kind: 'resource', version: '0.28.0' }]);
    await assert.rejects(createPulumiEngine().checkCli(), (e: unknown) => {
      assert.ok(e instanceof TailnetError);
      assert.match(e.message, /the Pulumi tailscale plugin v0\.29\.1 is not installed and could not be installed: error: could not get plugin/);
      assert.match(e.hint ?? '', /pulumi plugin install resource tailscale v0\.29\.1/);
      assert.match(e.hint ?? '', /PULUMI_HOME/);
      return true;
    });
    assert.equal(calls().at(-1)![2], 'plugin install resource tailscale v0.29.1');
    process.env.FAKE_PLUGIN_INSTALL_OK = '1';
    assert.equal(await ensurePlugin(), 'installed');
  });

  it('pins the backend in the CLI environment over an inherited PULUMI_BACKEND_URL (defect 3), in a workspace beside the state, no /tmp/automation-* (defect 10)', async () => {
    process.env.PULUMI_BACKEND_URL = 'file:///somewhere/else';
    const loc = stackLocation({ ...makeSpec('lab', undefined, { backend: 's3://bucket/prefix' }), file: join(dir, 'peer.yaml') });
    const t = { location: loc, env: {} };
    const engine = createPulumiEngine();
    assert.equal(await engine.stackExists(t), true);
    const ls = calls().find((c) => c[2]!.startsWith('stack ls'))!;
    assert.equal(ls[1], 's3://bucket/prefix', 'the CLI saw the project backend, not the inherited one');
    assert.equal(ls[0], join(loc.stateDir, 'workspace'));
    assert.match(readFileSync(join(loc.stateDir, 'workspace', 'Pulumi.yaml'), 'utf8'), /url: s3:\/\/bucket\/prefix/);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no temp workspace');
    await engine.removeStack(t);
    assert.equal(existsSync(join(loc.stateDir, 'workspace')), false, 'the workspace goes with the stack');
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
