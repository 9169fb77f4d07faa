// The lab's machine kinds, as labUp and `npm run lab -- up --kind` take them (no lab needed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kindsFor } from './lab.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

test('kindsFor: one kind for every machine, or one per machine', () => {
  assert.deepEqual(kindsFor(2, undefined), ['supervisor', 'supervisor']);
  assert.deepEqual(kindsFor(3, 'systemd'), ['systemd', 'systemd', 'systemd']);
  assert.deepEqual(kindsFor(2, ['systemd', 'supervisor']), ['systemd', 'supervisor']);
  assert.throws(() => kindsFor(3, ['systemd', 'supervisor']), /2 kinds given for 3 machines/);
  assert.throws(() => kindsFor(1, ['launchd' as never]), /unknown machine kind launchd/);
});

test('lab up --kind: an unknown kind is refused (exit 2) before anything is built', () => {
  for (const kind of ['launchd', 'systemd,', '', '-x']) {
    const r = spawnSync(process.execPath, [CLI, 'up', '--kind', kind], { encoding: 'utf8' });
    assert.equal(r.status, 2, `--kind ${JSON.stringify(kind)}: ${r.stderr}`);
    assert.match(r.stderr, /unknown --kind/);
  }
});
