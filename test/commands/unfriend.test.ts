// unfriend (src/commands/unfriend): an up without the friend, and friends.FRIEND taken out of peer.yaml only once the
// plan is confirmed. The run against real machines, headscale and OpenClaw is in test/e2e/pulumi.test.ts.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fakeSshMachines } from '../fake-ssh.js';
import { explain, runCli } from '../helpers.js';
import { inTerminal } from '../terminal.js';

const BOB = 'age1zhfnnu29cm2ne83a9nqse7vc367sy9tn7vfxhakw99ve3zsj6qfqhnn9gy';
const QUESTION = /Apply this plan\? Only 'yes' will be accepted: $/;

test('unfriend refuses a name that is no friend (exit 2, nothing touched); a hostile name is quoted, never run', async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2']);
  appendFileSync(file, `friends:\n  bob: {publicKey: ${BOB}, with: [m1]}\n`);
  const before = readFileSync(file, 'utf8');
  for (const name of ['carol', '$(touch x)', 'm1']) {
    const r = await runCli(['unfriend', name, '--yes', '-f', file], { cwd: dirname(file), env });
    assert.equal(r.code, 2, `${name}: ${explain(r)}`);
    assert.ok(r.stderr.includes(`no friend named ${JSON.stringify(name)} under friends: (there are bob)`), r.stderr);
  }
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('unfriend: declined, peer.yaml is untouched; confirmed, the friend is out of peer.yaml before the first step (a failed run is finished by up)', async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2']);
  appendFileSync(file, `# our friends\nfriends:\n  bob: {publicKey: ${BOB}, hostname: bob-laptop, with: [m1]}\n`);
  const before = readFileSync(file, 'utf8');
  const declined = await inTerminal(['unfriend', 'bob', '-f', file], [{ after: QUESTION, keys: 'no\r' }], { env });
  assert.equal(declined.code, 1, declined.screen);
  assert.match(declined.screen, /\nNothing applied\.\n$/);
  assert.equal(readFileSync(file, 'utf8'), before, 'declined: peer.yaml as it was');
  // yes: the stand-in ssh refuses every step, so the run fails on the machines, after bob was taken out
  const yes = await inTerminal(['unfriend', 'bob', '-f', file], [{ after: QUESTION, keys: 'yes\r' }], { env, timeoutMs: 60_000 });
  assert.equal(yes.code, 1, yes.screen);
  assert.match(yes.screen, /stand-in ssh: only observe\.sh is answered/);
  assert.equal(readFileSync(file, 'utf8'), before.replace(`# our friends\nfriends:\n  bob: {publicKey: ${BOB}, hostname: bob-laptop, with: [m1]}\n`, ''));
  const again = await runCli(['unfriend', 'bob', '--yes', '-f', file], { cwd: dirname(file), env });
  assert.equal(again.code, 2, 'no record of an invite: nothing of his is left to remove, and up finishes the rest');
});
