// The temp files the tool writes beside the stack's state (the generated passphrase, the policy record) are removed
// when the run ends while one exists: a second SIGTERM (the abort: process.exit, no `finally` runs), an exit, a
// closed terminal. Each test runs the real function in a driver process whose fs call after the temp file's write
// (link for the passphrase, rename for the record) never returns, so the file is there when the signal comes.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Driver, sleep, srcModule, startDriver, until } from '../driver.js';
import { tempDir } from '../helpers.js';

describe('temp files beside the stack state are removed when the run ends first', () => {
  let dir: string;
  let stateDir: string;
  const drivers: Driver[] = [];
  beforeEach(() => {
    dir = tempDir('pp-temp-files-');
    stateDir = join(dir, 'stacks', 'lab');
  });
  afterEach(() => {
    for (const d of drivers.splice(0)) d.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs `call` (with `backend` the built src/tailnet/backend.js and `loc` the stack's location) with fs/promises'
   * `hold` never returning; prints the temp file's path when it is held there. `then`: what the run does next.
   */
  const drive = (hold: 'link' | 'rename', call: string, then = '') => {
    const loc = { projectName: 'peer-provision', stackName: 'lab', backendUrl: pathToFileURL(stateDir).href, stateDir, local: true, usesPassphrase: true };
    const d = startDriver(`
      import fsp from 'node:fs/promises';
      import { syncBuiltinESMExports } from 'node:module';
      import { handleInterrupts } from ${srcModule('interrupt.js')};
      handleInterrupts((line) => process.stderr.write(line));
      fsp[${JSON.stringify(hold)}] = (from) => {
        console.log('held: ' + from);
        ${then}
        return new Promise(() => {});
      };
      syncBuiltinESMExports();
      setInterval(() => {}, 1000); // a run in progress
      const backend = await import(${srcModule('tailnet/backend.js')});
      const loc = ${JSON.stringify(loc)};
      await ${call};`);
    drivers.push(d);
    return d;
  };
  /** The held temp file: there, 0600, beside the state. */
  const held = async (d: Driver) => {
    const path = (await until('the temp file to be written', () => /held: (.*)/.exec(d.output())?.[1])).trim();
    assert.equal(join(path, '..'), stateDir);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    return path;
  };
  const temps = () => readdirSync(stateDir).filter((f) => f.endsWith('.tmp'));
  const newPassphrase = 'backend.secretsEnv(loc, true, {})';

  it('the passphrase temp file, when a second SIGTERM aborts the run', async () => {
    const d = drive('link', newPassphrase);
    const path = await held(d);
    assert.match(readFileSync(path, 'utf8'), /^[\w-]{43}\n$/, 'it holds the new passphrase');
    process.kill(d.child.pid!, 'SIGTERM');
    await sleep(200);
    assert.deepEqual(temps(), [path.split('/').at(-1)], 'the first SIGTERM lets the running step go on');
    process.kill(d.child.pid!, 'SIGTERM');
    assert.equal((await d.exited).code, 130, d.output());
    assert.deepEqual(temps(), [], d.output());
  });

  it('the passphrase temp file, when the terminal closes (SIGHUP)', async () => {
    const d = drive('link', newPassphrase);
    await held(d);
    process.kill(-d.child.pid!, 'SIGHUP');
    assert.equal((await d.exited).signal, 'SIGHUP', d.output());
    assert.deepEqual(temps(), []);
  });

  it('the passphrase temp file, when the process exits (an uncaught exception)', async () => {
    const d = drive('link', newPassphrase, "setTimeout(() => { throw new Error('boom'); }, 100);");
    await held(d);
    assert.equal((await d.exited).code, 1, d.output());
    assert.match(d.output(), /boom/);
    assert.deepEqual(temps(), []);
  });

  it('the policy record temp file, when a second SIGTERM aborts the run', async () => {
    const d = drive('rename', "backend.writePolicyRecord(loc, { tagOwners: new Set(['tag:peer-lab']), grants: new Set(), tests: new Set() })");
    await held(d);
    process.kill(d.child.pid!, 'SIGTERM');
    await sleep(200);
    process.kill(d.child.pid!, 'SIGTERM');
    assert.equal((await d.exited).code, 130, d.output());
    assert.deepEqual(temps(), [], d.output());
  });
});
