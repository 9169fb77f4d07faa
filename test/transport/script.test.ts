import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { script, shellQuote } from '../../src/transport/script.js';

test('shellQuote survives sh for awkward values', () => {
  for (const value of ["it's", '$(touch /tmp/pwned)', '`x`', 'a\nb', '"q"', '\\', ' spaced ', '']) {
    assert.equal(execFileSync('sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' }), value);
  }
});

test('a script carries its variables as shell assignments, not as arguments', () => {
  const text = script('leave', { SECRET: "tok'en" });
  assert.ok(text.startsWith(`SECRET='tok'\\''en'\n`));
  assert.match(text, /tailscale logout/);
  assert.match(text, /\nas_root\(\) \{/, 'lib.sh comes with every script');
  // the value reaches the script's shell on stdin: run it with sh -s and print the variable back
  assert.equal(execFileSync('sh', ['-s'], { input: `${text.split('\n')[0]}\nprintf '%s' "$SECRET"`, encoding: 'utf8' }), "tok'en");
});
