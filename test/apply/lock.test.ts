import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { LockedError, lockStack } from '../../src/apply/lock.js';
import { loadSpec } from '../../src/spec/load.js';
import { writeTemp } from '../helpers.js';

const spec = () =>
  loadSpec(writeTemp('version: 1\nname: locked\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: local, tailscale: {authKey: env:A}}\n  b: {ssh: b, tailscale: {authKey: env:B}}\n'));

test('a second up or down on the same stack is refused, naming who holds it', () => {
  const s = spec();
  const unlock = lockStack(s, 'up');
  assert.throws(() => lockStack(s, 'down'), (e: unknown) => e instanceof LockedError && new RegExp(`pid ${process.pid} \\(up, since `).test(e.message));
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

