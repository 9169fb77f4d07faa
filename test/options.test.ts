// README says which commands take -f, --json and --no-color (issue 20: it said "every command", and completion,
// init and tailnet init did not). Read from the command table itself, so README and the CLI cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { COMPLETE_MACHINES, program } from '../src/program.js';
import { ROOT } from './helpers.js';

/** Every runnable command by its full name ("tailnet init"), with its long options. */
function commands(parent: Command, prefix = ''): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const c of parent.commands) {
    const name = `${prefix}${c.name()}`;
    if (c.commands.length) for (const [n, o] of commands(c, `${name} `)) found.set(n, o);
    else
      found.set(
        name,
        c.options.map((o) => o.long ?? ''),
      );
  }
  return found;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
const all = commands(program(() => undefined));

test('the commands README names take -f, --json and --no-color; the others take what README says', () => {
  const sentence = /Every command that reads a peer\.yaml \(([^)]*)\) takes `-f\/--file` \(default `\.\/peer\.yaml`\), `--json` and `--no-color`/.exec(README);
  assert.ok(sentence, 'README states which commands take the common options');
  const named = [...sentence[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  assert.deepEqual(
    new Set(named),
    new Set([...all.keys()].filter((n) => n !== 'init' && n !== 'completion' && n !== 'keygen' && n !== 'accept' && n !== 'leave' && n !== COMPLETE_MACHINES)),
    'README names every other command',
  );
  // the hidden one the completion scripts call: README says what it takes
  assert.ok(README.includes(`\`peer-provision ${COMPLETE_MACHINES} [-f FILE]\``));
  assert.deepEqual(all.get(COMPLETE_MACHINES), ['--file']);
  for (const name of named) {
    for (const option of ['--file', '--json', '--no-color']) assert.ok(all.get(name)?.includes(option), `${name} takes ${option}`);
  }
  assert.match(README, /`init` takes `-f` for the file it writes \(and asks, or reads `--machine`: no `--json`\)/);
  assert.ok(all.get('init')!.includes('--file') && !all.get('init')!.includes('--json'));
  assert.match(README, /`completion` takes only the shell/);
  assert.match(README, /`keygen` reads no peer\.yaml: it takes `--json` and `--no-color`/);
  assert.deepEqual(all.get('keygen'), ['--json', '--no-color']);
  assert.deepEqual(all.get('completion'), []);
  assert.match(
    README,
    /nor do `accept` and `leave` \(the friend's side, on their own machine\): they take `--json`, `--no-color`, `-v\/--verbose` and `-y\/--yes`/,
  );
  for (const name of ['accept', 'leave'])
    for (const option of ['--json', '--no-color', '--verbose', '--yes']) assert.ok(all.get(name)?.includes(option), `${name} takes ${option}`);
});
