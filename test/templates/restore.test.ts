// restore.sh and gateway-config.sh on this machine's real sh, cp and mv: a backup is never removed before
// its config is back, and a config path that is not a file is refused before anything is written.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { canDropPrivileges, home, NOBODY, runTemplate } from './run-template.js';

const recordId = (path: string) => createHash('sha256').update(path).digest('hex').slice(0, 16);

/** A machine after up: a patched config, peer-provision's record of it with the original, a peer file. */
function afterUp(dir: string, owner?: number) {
  const config = join(dir, 'oc', 'openclaw.json');
  const rec = join(dir, '.peer-provision', 'lab', 'configs', recordId(config));
  const peer = join(dir, 'oc', 'peer-agent');
  mkdirSync(rec, { recursive: true });
  mkdirSync(peer, { recursive: true });
  writeFileSync(config, '{"gateway":{"bind":"tailnet"}}\n');
  writeFileSync(join(rec, 'path'), `${config}\n`);
  writeFileSync(join(rec, 'orig'), '// mine\n{ gateway: { bind: "loopback" } }\n');
  writeFileSync(join(rec, 'applied'), '{"gateway":{"bind":"tailnet"}}\n');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  writeFileSync(join(dir, '.peer-provision', 'lab', 'created-dirs'), `${b64(peer)}\n`);
  writeFileSync(join(dir, '.peer-provision', 'lab', 'peer-files.list'), `${b64(join(peer, 'peer-config.md'))}\n`);
  writeFileSync(join(peer, 'peer-config.md'), 'peers');
  if (owner !== undefined)
    for (const p of [
      dir,
      join(dir, 'oc'),
      peer,
      join(peer, 'peer-config.md'),
      config,
      join(dir, '.peer-provision'),
      join(dir, '.peer-provision', 'lab'),
      join(dir, '.peer-provision', 'lab', 'configs'),
      rec,
      join(rec, 'path'),
      join(rec, 'orig'),
      join(rec, 'applied'),
      join(dir, '.peer-provision', 'lab', 'created-dirs'),
      join(dir, '.peer-provision', 'lab', 'peer-files.list'),
    ])
      chownSync(p, owner, owner);
  return { config, rec, peer, id: recordId(config) };
}

test('restore puts the original back byte for byte, then removes the backup and the peer files', () => {
  const dir = home();
  const m = afterUp(dir, canDropPrivileges ? NOBODY : undefined);
  const r = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 1 }, { HOME: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseResult(r.stdout), { changed: true, values: { records: '1' }, message: '' });
  assert.equal(readFileSync(m.config, 'utf8'), '// mine\n{ gateway: { bind: "loopback" } }\n');
  assert.equal(existsSync(join(dir, '.peer-provision')), false, 'state removed once everything is back');
  assert.equal(existsSync(m.peer), false);
  const again = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 1 }, { HOME: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(parseResult(again.stdout), { changed: false, values: {}, message: 'nothing of this stack on this machine' }, 'a second down finds nothing');
});

test('restore keeps the backup when the config cannot be written (the old script deleted it and exited 0)', {
  skip: canDropPrivileges ? false : 'needs root and setpriv to act as another user',
}, () => {
  const dir = home();
  const m = afterUp(dir, NOBODY);
  chmodSync(join(dir, 'oc'), 0o555); // the config's folder is read-only: no temp file, no rename
  const r = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 1 }, { HOME: dir });
  chmodSync(join(dir, 'oc'), 0o755);
  assert.equal(r.code, 1, 'the step fails');
  assert.match(r.stderr, /cannot write beside .*openclaw\.json.*it and its backup are untouched/);
  assert.equal(readFileSync(join(m.rec, 'orig'), 'utf8'), '// mine\n{ gateway: { bind: "loopback" } }\n', 'the backup is still there');
  assert.equal(readFileSync(m.config, 'utf8'), '{"gateway":{"bind":"tailnet"}}\n', 'the config is as it was');
  assert.ok(existsSync(m.peer), 'nothing after the failure ran');
});

test('restore through a symlink writes the target and leaves the link', () => {
  const dir = home(undefined);
  const m = afterUp(dir);
  const real = join(dir, 'real.json');
  writeFileSync(real, readFileSync(m.config));
  const link = m.config;
  rmSync(link);
  symlinkSync(real, link);
  const r = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 0 }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(real, 'utf8'), '// mine\n{ gateway: { bind: "loopback" } }\n');
  assert.equal(lstatSync(link).isSymbolicLink(), true);
});

test('gateway-config refuses a directory, a device and a dangling link before writing anything', () => {
  const dir = home(undefined);
  mkdirSync(join(dir, 'oc'));
  symlinkSync(join(dir, 'nowhere.json'), join(dir, 'dangling.json'));
  for (const [config, message] of [
    [join(dir, 'oc'), /is a directory, not an OpenClaw config file/],
    ['/dev/null', /is not a regular file/],
    [join(dir, 'dangling.json'), /is a symlink to nothing/],
    ['relative/openclaw.json', /is not an absolute path/],
  ] as const) {
    const r = runTemplate('gateway-config', { STACK: 'lab', CONFIG: config, PATCH: '{}', EDITED: 0, FRIENDS: '' }, { HOME: dir }, false);
    assert.equal(r.code, 1, config);
    assert.match(r.stderr, message);
    assert.equal(existsSync(join(dir, '.peer-provision')), false, `${config}: nothing was written`);
  }
});

// issue 19 item 4: down ran `rm -rf` on every folder it had written into (a user's files there went with it)
test('down removes exactly the files peer-provision wrote and the folders it created, when empty; a user file keeps its folder', () => {
  const dir = home(undefined);
  const m = afterUp(dir);
  writeFileSync(join(m.peer, 'my-notes.md'), 'mine');
  const r = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 1 }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(join(m.peer, 'peer-config.md')), false, "peer-provision's file is gone");
  assert.equal(readFileSync(join(m.peer, 'my-notes.md'), 'utf8'), 'mine', "the user's file and its folder stay");
  assert.equal(existsSync(join(dir, '.peer-provision')), false);
});

test("a machine the previous version set up (owned-dirs): its files go, its folders only when empty, a user's file stays", () => {
  const dir = home(undefined);
  const m = afterUp(dir);
  const state = join(dir, '.peer-provision', 'lab');
  rmSync(join(state, 'created-dirs'));
  writeFileSync(join(state, 'owned-dirs'), `${m.peer}\n`); // the previous version's record: folders, as text
  mkdirSync(join(m.peer, 'tokens'));
  writeFileSync(join(m.peer, 'tokens', 'm2.token'), 'x'.repeat(43));
  writeFileSync(
    join(state, 'peer-files.list'),
    [join(m.peer, 'peer-config.md'), join(m.peer, 'tokens', 'm2.token')].map((p) => Buffer.from(p).toString('base64')).join('\n') + '\n',
  );
  const r = runTemplate('restore', { STACK: 'lab', RECORDS: `${m.id} bytes -`, FILES_TOO: 1 }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(m.peer), false, 'emptied, then removed');
  const again = afterUp(home(undefined));
  const againState = join(again.config, '..', '..', '.peer-provision', 'lab');
  rmSync(join(againState, 'created-dirs'));
  writeFileSync(join(againState, 'owned-dirs'), `${again.peer}\n`);
  writeFileSync(join(again.peer, 'mine.md'), 'mine');
  const kept = runTemplate('restore', { STACK: 'lab', RECORDS: `${again.id} bytes -`, FILES_TOO: 1 }, { HOME: join(again.config, '..', '..') }, false);
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(readFileSync(join(again.peer, 'mine.md'), 'utf8'), 'mine', 'the old rm -rf would have taken it');
});

test("gateway-config records the friends' A2A entries it writes: before the patch with the ones recorded so far, after it only its own", () => {
  const dir = home(undefined);
  const config = join(dir, 'oc', 'openclaw.json');
  mkdirSync(join(dir, 'oc'));
  writeFileSync(config, '{}\n');
  // OpenClaw's `config patch`, standing in here: takes the patch as the config, or refuses (exit 1) when told to
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'openclaw'), '#!/bin/sh\n[ -f "$HOME/refuse" ] && { echo refused >&2; exit 1; }\ncat > "$OPENCLAW_CONFIG_PATH"\n', { mode: 0o755 });
  const friends = join(dir, '.peer-provision', 'lab', 'friends');
  const patch = (FRIENDS: string) =>
    runTemplate('gateway-config', { STACK: 'lab', CONFIG: config, PATCH: '{"x":1}', EDITED: 0, FRIENDS }, { HOME: dir, PATH: `${bin}:/usr/bin:/bin` }, false);
  assert.equal(patch('bob-laptop carol').code, 0);
  assert.equal(readFileSync(friends, 'utf8'), 'bob-laptop\ncarol\n');
  assert.equal(lstatSync(friends).mode & 0o777, 0o600);
  writeFileSync(join(dir, 'refuse'), '');
  const refused = patch('dave');
  assert.equal(refused.code, 1);
  assert.equal(readFileSync(friends, 'utf8'), 'bob-laptop\ncarol\ndave\n', 'the config is untouched: every friend it may hold stays recorded');
  rmSync(join(dir, 'refuse'));
  assert.equal(patch('carol').code, 0);
  assert.equal(readFileSync(friends, 'utf8'), 'carol\n');
  assert.equal(patch('').code, 0);
  assert.equal(existsSync(friends), false, 'no friend left: no record');
});
