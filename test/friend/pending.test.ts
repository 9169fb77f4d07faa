// The stack's pending invites (src/friend/pending.ts): a file of its own beside the Pulumi state, 0600, no secret.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import {
  forgetInvites,
  formerFriends,
  friendKeysOf,
  keysToRevoke,
  newInvite,
  pendingInvites,
  readInvites,
  settleInvites,
  writeInvites,
} from '../../src/friend/pending.js';
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
  settleInvites(spec, friendKeysOf([carol]));
  const settled = readInvites(spec);
  assert.deepEqual(settled, [{ ...bob, settled: true }, carol], "after a Pulumi run that declared only carol's key: bob's is gone, his record stays");
  assert.deepEqual(pendingInvites(settled, now, ['bob', 'carol'], new Set()), [], 'a settled invite is never pending again (its key is gone)');
  forgetInvites(spec, ['bob']);
  assert.deepEqual(readInvites(spec), [carol]);
  forgetInvites(spec);
  assert.deepEqual(readInvites(spec), [], 'down forgets them all');
  const forged = { ...carol, friend: 'bob\nremoved device everything' };
  writeFileSync(join(dir, 'invites.json'), JSON.stringify({ invites: [forged] }));
  assert.throws(() => readInvites(spec), /is not a list of invites this version reads/, 'a name that is no friend name is refused, never shown');
  writeFileSync(join(dir, 'invites.json'), '{"invites": [{"friend": "bob"}]}');
  assert.throws(
    () => readInvites(spec),
    (e: unknown) => e instanceof UsageError && /invites\.json is not a list of invites this version reads/.test(e.message),
  );
});

test('former friends: recorded and no longer in peer.yaml; a key to revoke only while it may still be declared', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const bob = newInvite('bob', now, 3600); // pending when taken out: his key is still declared
  const carol = { ...newInvite('carol', now, 3600), settled: true as const }; // accepted: her key is gone already
  const dan = newInvite('dan', now - 7200 * 1000, 3600); // expired: Tailscale refuses the key anyway
  const eve = newInvite('eve', now, 3600); // still a friend
  const recorded = [bob, carol, dan, eve];
  assert.deepEqual(formerFriends(recorded, ['eve']), ['bob', 'carol', 'dan'], 'every one of them has a device to look for');
  assert.deepEqual(keysToRevoke(recorded, now, ['eve']), ['bob']);
  assert.deepEqual(formerFriends(recorded, ['bob', 'carol', 'dan', 'eve']), []);
});
