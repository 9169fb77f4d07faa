// The stack's pending invites (src/friend/pending.ts): a file of its own beside the Pulumi state, 0600, no secret.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { friendKeysOf, keepOnlyInvites, newInvite, pendingInvites, readInvites, writeInvites } from '../../src/friend/pending.js';
import { tempDir } from '../helpers.js';

test('invites: written 0600 in a 0700 folder, read back; pending only while not expired, the friend listed and not joined', () => {
  const spec = { file: join(tempDir(), 'peer.yaml'), name: 'lab' };
  assert.deepEqual(readInvites(spec), [], 'no file: none');
  const now = Date.parse('2026-12-05T12:00:00Z');
  const bob = newInvite('bob', now, 3600);
  assert.match(bob.id, /^[0-9a-f]{32}$/);
  assert.equal(bob.expires, '2026-12-05T13:00:00.000Z');
  const carol = newInvite('carol', now - 7200 * 1000, 3600);
  writeInvites(spec, [bob, carol]);
  const dir = join(spec.file, '..', 'stacks', 'lab');
  assert.equal(statSync(join(dir, 'invites.json')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const read = readInvites(spec);
  assert.deepEqual(read, [bob, carol]);
  assert.deepEqual(pendingInvites(read, now, ['bob', 'carol'], new Set()), [bob], "carol's expired");
  assert.deepEqual(pendingInvites(read, now, ['carol'], new Set()), [], 'bob is no longer a friend');
  assert.deepEqual(pendingInvites(read, now, ['bob'], new Set(['bob'])), [], "bob's machine has joined: accepted");
  assert.deepEqual(friendKeysOf([bob]), [{ friend: 'bob', invite: bob.id, expirySeconds: 3600 }]);
  keepOnlyInvites(spec, friendKeysOf([carol]));
  assert.deepEqual(readInvites(spec), [carol], "after a Pulumi run that declared only carol's key");
  writeFileSync(join(dir, 'invites.json'), '{"invites": [{"friend": "bob"}]}');
  assert.throws(
    () => readInvites(spec),
    (e: unknown) => e instanceof UsageError && /invites\.json is not a list of invites this version reads/.test(e.message),
  );
});
