import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { newTokens } from '../../src/commands/rotation.js';
import { redact } from '../../src/output/redact.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { writeTemp } from '../helpers.js';

test('rotate: a fresh token for each generate machine, in a 0600 file in a 0700 folder removed afterwards; env tokens are kept', () => {
  const spec = loadSpec(
    writeTemp(
      'version: 1\nname: r\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: a, tailscale: {authKey: env:K}}\n  b: {ssh: b, tailscale: {authKey: env:K}, gateway: {token: env:B_TOKEN}}\n',
    ),
  );
  const one = newTokens(spec);
  const two = newTokens(spec);
  try {
    assert.deepEqual([one.rotated, one.kept, one.refs.get('b')], [['a'], ['b'], 'env:B_TOKEN']);
    const ref = one.spec.machines[0].gateway.token;
    assert.equal(ref.kind, 'file');
    const path = (ref as { path: string }).path;
    const token = readFileSync(path, 'utf8');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
    assert.equal(redact(`x ${token} y`), 'x [redacted] y', 'registered for redaction');
    assert.notEqual(readFileSync((two.spec.machines[0].gateway.token as { path: string }).path, 'utf8'), token, 'a new one each time');
    assert.deepEqual(one.spec.machines[1], spec.machines[1]);
    one.cleanup();
    assert.ok(!existsSync(dirname(path)));
  } finally {
    one.cleanup();
    two.cleanup();
  }
});

// issue 19 item 15: a second Ctrl-C or SIGTERM aborts with process.exit, and the new tokens stayed behind in /tmp
test('rotate: an aborted run (a second SIGTERM) leaves no new token behind', async () => {
  const file = writeTemp(
    'version: 1\nname: r\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: a, tailscale: {authKey: env:K}}\n  b: {ssh: b, tailscale: {authKey: env:K}}\n',
  );
  const program = `
    import { newTokens } from ${JSON.stringify(new URL('../../src/commands/rotation.js', import.meta.url).href)};
    import { handleInterrupts } from ${JSON.stringify(new URL('../../src/interrupt.js', import.meta.url).href)};
    import { loadSpec } from ${JSON.stringify(new URL('../../src/peer-yaml/load.js', import.meta.url).href)};
    handleInterrupts(() => undefined);
    const t = newTokens(loadSpec(${JSON.stringify(file)}));
    console.log(t.spec.machines[0].gateway.token.path);
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);
    setTimeout(() => undefined, 5000);`;
  const { execFileSync } = await import('node:child_process');
  let out = '';
  try {
    out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  } catch (error) {
    const e = error as { status: number; stdout: string };
    assert.equal(e.status, 130);
    out = e.stdout;
  }
  const path = out.trim();
  assert.match(path, /peer-provision-rotate-/);
  assert.equal(existsSync(dirname(path)), false, `the folder of new tokens is still there: ${dirname(path)}`);
});
