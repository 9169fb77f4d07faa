import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { LockedError, lockStack } from '../../src/apply/lock.js';
import { PeerProvisionError } from '../../src/errors.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { writeTemp } from '../helpers.js';

const spec = () =>
  loadSpec(
    writeTemp(
      'version: 1\nname: locked\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: local, tailscale: {authKey: env:A}}\n  b: {ssh: b, tailscale: {authKey: env:B}}\n',
    ),
  );

test('a second up or down on the same stack is refused, naming who holds it', () => {
  const s = spec();
  const unlock = lockStack(s, 'up');
  assert.throws(
    () => lockStack(s, 'down'),
    (e: unknown) => e instanceof LockedError && new RegExp(`pid ${process.pid} \\(up, since `).test(e.message),
  );
  unlock();
  lockStack(s, 'down')();
});

test('a lock whose process is gone is taken over', () => {
  const s = spec();
  const path = join(dirname(s.file), 'stacks', 'locked', 'lock');
  lockStack(s, 'up'); // leave it behind, then make it look like a dead process's
  writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), user: 'x', command: 'up', since: 'then' }));
  lockStack(s, 'up')();
});

test('an empty lock left by a crash is taken over once it is old; a fresh one is respected', () => {
  const s = spec();
  const path = join(dirname(s.file), 'stacks', 'locked', 'lock');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  assert.throws(
    () => lockStack(s, 'up'),
    (e: unknown) => e instanceof LockedError && /being written/.test(e.message),
  );
  const old = new Date(Date.now() - 120_000);
  utimesSync(path, old, old);
  const unlock = lockStack(s, 'up');
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  unlock();
  assert.equal(existsSync(path), false, 'released');
});

test('a lock that cannot be written is a clear error, not an unexpected one', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, () => {
  const s = spec();
  const dir = join(dirname(s.file), 'stacks', 'locked');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o500);
  try {
    assert.throws(
      () => lockStack(s, 'up'),
      (e: unknown) => e instanceof PeerProvisionError && /cannot take the lock .*EACCES/.test(e.message),
    );
  } finally {
    chmodSync(dir, 0o700);
  }
});

test('a folder where the stack folder should be is a clear error', () => {
  const s = spec();
  writeFileSync(join(dirname(s.file), 'stacks'), 'not a folder');
  assert.throws(
    () => lockStack(s, 'up'),
    (e: unknown) => e instanceof PeerProvisionError && !(e instanceof LockedError) && /cannot take the lock .*(ENOTDIR|EEXIST)/.test(e.message),
  );
});

test('the lock never appears half written: another reader sees all of it or nothing', () => {
  const s = spec();
  const path = join(dirname(s.file), 'stacks', 'locked', 'lock');
  const unlock = lockStack(s, 'up');
  assert.ok(statSync(path).size > 0);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dirname(path)), ['lock'], 'no temp file is left beside it');
  unlock();
});

// issue 19 item 14: two runs that both found the lock stale both removed it and both went on
test('a stale lock found by many runs at once is taken over by exactly one', async () => {
  const { execFile } = await import('node:child_process');
  const s = spec();
  const path = join(dirname(s.file), 'stacks', 'locked', 'lock');
  const lockModule = new URL('../../src/apply/lock.js', import.meta.url).href;
  const specModule = new URL('../../src/peer-yaml/load.js', import.meta.url).href;
  const runs = 8;
  // each run waits for the same moment and tries the lock; the one that took it holds it until every run has
  // tried (a run that started late on a busy machine must still meet the winner's lock, not a released one)
  const program = (start: number, tried: string) => `
    const { appendFileSync, readFileSync } = await import('node:fs');
    const { lockStack } = await import(${JSON.stringify(lockModule)});
    const { loadSpec } = await import(${JSON.stringify(specModule)});
    const s = loadSpec(${JSON.stringify(s.file)});
    const tried = ${JSON.stringify(tried)};
    const allTried = () => readFileSync(tried, 'utf8').length >= ${runs};
    while (Date.now() < ${start}) {}
    try {
      const unlock = lockStack(s, 'up');
      appendFileSync(tried, '.');
      console.log('took');
      for (const t0 = Date.now(); !allTried() && Date.now() - t0 < 60000; ) await new Promise((r) => setTimeout(r, 20));
      unlock();
    } catch (e) { appendFileSync(tried, '.'); console.log(e.constructor.name); }`;
  for (let round = 0; round < 5; round++) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), user: 'x', command: 'up', since: 'then' }));
    const tried = join(dirname(s.file), `tried-${round}`);
    writeFileSync(tried, '');
    const source = program(Date.now() + 1500, tried);
    const outs = await Promise.all(
      Array.from(
        { length: runs },
        () => new Promise<string>((done) => execFile(process.execPath, ['--input-type=module', '-e', source], (_, stdout) => done(stdout.trim()))),
      ),
    );
    assert.equal(outs.filter((o) => o === 'took').length, 1, `round ${round}: ${outs.join(', ')}`);
    assert.ok(
      outs.every((o) => o === 'took' || o === 'LockedError'),
      outs.join(', '),
    );
  }
});

test('the takeover step removes only a lock that is still stale under its own lock: never the lock another run just took', async () => {
  const { takeOver } = await import('../../src/apply/lock.js');
  const s = spec();
  const path = join(dirname(s.file), 'stacks', 'locked', 'lock');
  mkdirSync(dirname(path), { recursive: true });
  // run B judged the lock stale; before B removes it, run A takes it over and holds it (alive: this process)
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), user: 'a', command: 'up', since: 'now' }));
  assert.equal(takeOver(path, hostname()), true);
  assert.ok(existsSync(path), "A's lock is kept");
  // a takeover in progress elsewhere: B does not touch the lock, and looks again later
  mkdirSync(`${path}.takeover`);
  writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), user: 'x', command: 'up', since: 'then' }));
  assert.equal(takeOver(path, hostname()), false);
  assert.ok(existsSync(path));
  utimesSync(`${path}.takeover`, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  assert.equal(takeOver(path, hostname()), false, 'a takeover left by a crash expires (this look removes it)');
  assert.equal(takeOver(path, hostname()), true);
  assert.ok(!existsSync(path), 'the stale lock is gone');
});
