// The questions, asked on a real pseudo-terminal (issue 20): Ctrl-C at any of them exits 130 quietly (it printed
// "unexpected error: AbortError" with a stack and exited 1), and a declined up exits 1 as terraform's "Apply
// cancelled" does (it exited 0, which a script reads as applied).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fakeSshMachines } from './fake-ssh.js';
import { runCli, tempDir } from './helpers.js';
import { inTerminal } from './terminal.js';

const QUESTION = /Apply this plan\? Only 'yes' will be accepted: $/;

const quiet = (screen: string) => assert.doesNotMatch(screen, /AbortError|unexpected error|\n\s+at /, screen);

test("Ctrl-C at up's question: exit 130, one line saying nothing changed, no stack; the lock is released", async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2']);
  const r = await inTerminal(['up', '-f', file], [{ after: QUESTION, keys: '\x03' }], { env });
  assert.equal(r.code, 130, r.screen);
  assert.match(r.screen, /Plan: 6 to add, 4 to change, 0 to destroy\./);
  assert.match(r.screen, /\nInterrupted at the question: nothing was changed\.\n$/);
  quiet(r.screen);
  const lock = join(dirname(file), 'stacks/fake/lock');
  assert.ok(!existsSync(lock), 'the lock is released');
});

test('up declined ("no", or Ctrl-D): "Nothing applied." and exit 1; only "yes" goes on', async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2']);
  for (const keys of ['no\r', 'y\r', '\x04']) {
    const r = await inTerminal(['up', '-f', file], [{ after: QUESTION, keys }], { env });
    assert.equal(r.code, 1, `${JSON.stringify(keys)}: ${r.screen}`);
    assert.match(r.screen, /\nNothing applied\.\n$/);
    quiet(r.screen);
  }
  // yes goes on to apply: the stand-in ssh refuses every step, so it fails on the machines, past the question
  const yes = await inTerminal(['up', '-f', file], [{ after: QUESTION, keys: 'yes\r' }], { env, timeoutMs: 60_000 });
  assert.equal(yes.code, 1, yes.screen);
  assert.doesNotMatch(yes.screen, /Nothing applied/);
  assert.match(yes.screen, /stand-in ssh: only observe\.sh is answered/);
});

test('down declined: "Nothing changed." and exit 1; Ctrl-C at its question: 130', async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2'], { joined: true });
  const TEAR_DOWN = /Tear down\? Only 'yes' will be accepted: $/;
  const declined = await inTerminal(['down', '-f', file], [{ after: TEAR_DOWN, keys: 'no\r' }], { env });
  assert.equal(declined.code, 1, declined.screen);
  assert.match(declined.screen, /Plan: 0 to add, 0 to change, 2 to destroy\.[\s\S]*\nNothing changed\.\n$/);
  const interrupted = await inTerminal(['down', '-f', file], [{ after: TEAR_DOWN, keys: '\x03' }], { env });
  assert.equal(interrupted.code, 130, interrupted.screen);
  quiet(interrupted.screen);
});

test("Ctrl-C at init's questions: exit 130, quietly, nothing written", async () => {
  const dir = tempDir('pp-init-');
  for (const typing of [
    [{ after: /machine 1: $/, keys: '\x03' }],
    [
      { after: /machine 1: $/, keys: 'a=local\r' },
      { after: /machine 2: $/, keys: 'b=me@host\r' },
      { after: /machine 3: $/, keys: '\r' },
      { after: /\[pulumi\]: $/, keys: '\x03' },
    ],
  ]) {
    const r = await inTerminal(['init'], typing, { cwd: dir });
    assert.equal(r.code, 130, r.screen);
    assert.match(r.screen, /Interrupted at the question: nothing was changed\.\n$/);
    quiet(r.screen);
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
});

test('--help says what a declined question and a Ctrl-C at one exit with', async () => {
  const help = (await runCli(['--help'])).stdout;
  assert.match(help, /or the question before up, down or rotate was not answered yes \(nothing was touched\)/);
  assert.match(help, /130 {2}interrupted: .*\(Ctrl-C at a question: nothing changed\)/);
});
