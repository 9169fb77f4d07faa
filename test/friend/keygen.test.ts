// peer-provision keygen, the real CLI: the friend's key for invites, made once, 0600 in a 0700 folder, never replaced,
// and refused when it is too open or not a key. The public key on stdout is the one the file's secret derives.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { identityToRecipient } from 'age-encryption';
import { explain, jsonDocument, ROOT, runCli, tempDir } from '../helpers.js';

const keygen = (config: string, args: string[] = []) => runCli(['keygen', ...args], { env: { XDG_CONFIG_HOME: config } });

test('keygen makes the key once (0600, folder 0700) and prints its public key; run again it keeps it', async () => {
  const config = tempDir();
  const first = await keygen(config);
  assert.equal(first.code, 0, explain(first));
  const file = join(config, 'peer-provision', 'friend-key.txt');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(config, 'peer-provision')).mode & 0o777, 0o700);
  const secret = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  const publicKey = await identityToRecipient(secret);
  assert.match(first.stdout, new RegExp(`^  ${publicKey}$`, 'm'));
  assert.ok(!first.stdout.includes(secret) && !first.stderr.includes(secret), 'the private key is printed nowhere');

  const again = await keygen(config, ['--json']);
  assert.equal(again.code, 0, explain(again));
  const doc = await jsonDocument(again.stdout, 'peer-provision/keygen@1');
  assert.deepEqual(doc, { format: 'peer-provision/keygen@1', publicKey, file, created: false });
  assert.ok(readFileSync(file, 'utf8').includes(secret), 'the same key');
});

test('keygen refuses a key file others can read, or one that holds no key, naming the file and not its content', async () => {
  const config = tempDir();
  assert.equal((await keygen(config)).code, 0);
  const file = join(config, 'peer-provision', 'friend-key.txt');
  const secret = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  chmodSync(file, 0o644);
  const open = await keygen(config);
  assert.equal(open.code, 1);
  assert.match(open.stderr, new RegExp(`${file} can be read by others \\(mode 644\\)`));
  assert.match(open.stderr, /hint: chmod 600/);
  assert.ok(!open.stderr.includes(secret));

  writeFileSync(file, 'not a key\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  const junk = await keygen(config);
  assert.equal(junk.code, 1);
  assert.match(junk.stderr, /holds no age identity/);
});

test('keygen never writes through a symlink planted where the key goes', async () => {
  const config = tempDir();
  const target = join(tempDir(), 'elsewhere');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(config, 'peer-provision'), { mode: 0o700 });
  symlinkSync(target, join(config, 'peer-provision', 'friend-key.txt'));
  const r = await keygen(config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /friend-key\.txt is a symlink to nothing: peer-provision does not write your key through a link/);
  assert.equal(existsSync(target), false, 'nothing written at the link target');
});

test('keygen on a full disk: an error naming the file, and no half-written key left to be refused later', {
  skip: process.getuid?.() !== 0 && 'needs root (a tmpfs of its own)',
}, async () => {
  const config = tempDir();
  const cli = join(ROOT, 'bin/peer-provision.js');
  // a mount namespace of its own: a 64 KiB tmpfs over the config folder, filled, then keygen
  const script = `mount -t tmpfs -o size=64k tmpfs '${config}' && mkdir -m 700 '${config}/peer-provision' && (dd if=/dev/zero of='${config}/fill' bs=4k 2>/dev/null; true) && XDG_CONFIG_HOME='${config}' '${process.execPath}' '${cli}' keygen; echo "rc=$?"; ls -A '${config}/peer-provision'`;
  const r = await new Promise<{ stdout: string; stderr: string }>((done) =>
    execFile('unshare', ['-m', 'sh', '-c', script], (_, stdout, stderr) => done({ stdout, stderr })),
  );
  assert.match(r.stderr, /cannot write .*friend-key\.txt: .*no space left on device.*; nothing was kept/i);
  assert.match(r.stdout, /^rc=1$/m);
  assert.doesNotMatch(r.stdout, /friend-key\.txt/, 'no key file left behind');
});
