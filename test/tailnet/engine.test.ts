import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { stackLocation } from '../../src/tailnet/backend.js';
import { checkPulumiCli, createPulumiEngine, MIN_PULUMI_VERSION, pulumiError } from '../../src/tailnet/engine.js';
import { TailnetError } from '../../src/tailnet/errors.js';
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
    await assert.rejects(checkPulumiCli(async () => 'v3.99.1\n'), new RegExp(`too old \\(3\\.99\\.1; ${MIN_PULUMI_VERSION.replace(/\./g, '\\.')} or newer`));
    await assert.rejects(checkPulumiCli(async () => 'v2.25.0'), /too old/);
    await assert.rejects(checkPulumiCli(async () => 'garbage'), /cannot tell the Pulumi CLI's version/);
  });
});

describe('pulumiError', () => {
  it("keeps the tail of Pulumi's stderr and maps a vanished CLI", () => {
    const msg = 'code: 255\n stdout: lots of output\n stderr: error: something\nerror: 403 Forbidden: calling API\n err?: Error: Command failed with exit code 255: pulumi up --yes\n';
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
