// docs/ci.md shows what progress looks like in a CI log; issue 20 found a sample line the CLI never printed
// (the machine named on each step line). Each line of that sample must be a line the real CLI prints for the same
// case: an `up` with CI set whose join fails on m1, against machines a stand-in ssh answers (test/fake-ssh.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fakeSshMachines } from '../fake-ssh.js';
import { ROOT, runCli } from '../helpers.js';

/** The code block after "**Output.**" in docs/ci.md. */
function sample(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/ci.md'), 'utf8');
  const block = /\*\*Output\.\*\*[\s\S]*?\n```\n([\s\S]*?)\n```/.exec(doc);
  assert.ok(block, 'docs/ci.md shows a progress sample after **Output.**');
  return block[1]!.split('\n');
}

/** A sample line as a pattern: any time of day, and "…" for the rest of the message. */
const pattern = (line: string) =>
  new RegExp(
    `^${line
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\d\d:\d\d:\d\d/, '\\d\\d:\\d\\d:\\d\\d')
      .replace(/…/g, '.*')}$`,
  );

test("docs/ci.md's progress sample is what the CLI prints in CI", async () => {
  const { file, env } = fakeSshMachines(['m1', 'm2'], { steps: 'answer' }); // install answers, join finds no tags
  const r = await runCli(['up', '--yes', '-f', file], { env: { ...env, CI: 'true' } });
  assert.equal(r.code, 1, r.stderr);
  const printed = r.stderr.split('\n');
  const lines = sample();
  assert.ok(lines.length >= 5, lines.join('\n'));
  for (const line of lines)
    assert.ok(
      printed.some((p) => pattern(line).test(p)),
      `not printed: ${line}\nstderr:\n${r.stderr}`,
    );
  assert.doesNotMatch(r.stdout, /\[\d\d:\d\d:\d\d\]/, 'progress never on stdout');
  // both joins failed here: no pair could pass, so no check is run (and no security audit costs seconds)
  assert.match(r.stderr, /^↓ \[\d\d:\d\d:\d\d\] verify: .* \[SKIPPED: skipped: no machine got through its steps\]$/m);
  assert.doesNotMatch(r.stdout, /^Verify:/m);
});
