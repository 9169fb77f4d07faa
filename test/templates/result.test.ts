// lib.sh's result line, written by real shells (sh, dash, bash where installed), read back by parseResult:
// hostile values come back byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { shellQuote } from '../../src/transport/script.js';
import { ROOT } from '../helpers.js';

const lib = readFileSync(join(ROOT, 'templates/lib.sh'), 'utf8');
const shells = ['sh', 'dash', 'bash'].filter((s) => spawnSync(s, ['-c', ':']).status === 0);

/** Runs lib.sh then `body` in SHELL; the values travel as shell assignments, as script() sends them. */
function run(shell: string, body: string, vars: Record<string, string> = {}, locale = 'C') {
  const assignments = Object.entries(vars)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join('\n');
  const r = spawnSync(shell, ['-s'], {
    input: `${assignments}\n${lib}\n${body}`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LC_ALL: locale },
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const control = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('');
const HOSTILE: Record<string, string> = {
  quote: 'say "hi"',
  backslash: 'C:\\path\\ \\n \\u0041 \\',
  newlines: '\nfirst\nsecond\n\n',
  tabs: '\ta\tb\t',
  cr: 'line\r\n',
  control: `a${control}b\x7f`,
  unicode: 'héllo wörld 🎉 日本語 \u2028 \u00a0',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${x} is the hostile value under test
  shell: "$(touch /tmp/pwned) `id` $HOME ${x} 'single' %s %d %",
  json: '{"a":[1,"b\\"c"]}',
  empty: '',
  spaces: '  both ends  ',
};

test('shells under test', () => assert.ok(shells.includes('sh'), 'sh is there'));

for (const shell of shells) {
  for (const locale of ['C', 'C.UTF-8']) {
    test(`${shell} (LC_ALL=${locale}): result carries hostile values and message exactly`, () => {
      const vars = Object.fromEntries(Object.values(HOSTILE).map((v, i) => [`V${i}`, v]));
      const body = ['echo "some command output first"', ...Object.keys(HOSTILE).map((k, i) => `val ${k} "$V${i}"`), `result true "$V0" last "$V1"`].join('\n');
      const r = run(shell, body, vars, locale);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 2, 'the output before, then one result line');
      assert.deepEqual(parseResult(r.stdout), { changed: true, values: { ...HOSTILE, last: HOSTILE.backslash }, message: HOSTILE.quote });
    });
  }

  test(`${shell}: many random hostile values in one run`, () => {
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\r', '\x01', '\x1f', 'é', '🎉', '$', "'", '`', '%', '{', '}', ':'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: Record<string, string> = {};
    for (let i = 0; i < 100; i++)
      values[`v${i}`] = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const vars = Object.fromEntries(Object.entries(values).map(([k, v]) => [`X_${k}`, v]));
    const r = run(
      shell,
      `${Object.keys(values)
        .map((k) => `val ${k} "$X_${k}"`)
        .join('\n')}\nresult false ''`,
      vars,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parseResult(r.stdout).values, values);
  });

  test(`${shell}: a 1 MB value, half of it characters to escape, in seconds (awk building it char by char took minutes)`, () => {
    const big = Array.from({ length: 1 << 20 }, (_, i) => (i % 2 ? '"' : i % 3 ? '\\' : 'x')).join('') + '\n\t';
    const started = Date.now();
    const r = run(shell, `val big "$BIG"\nresult false ''`, { BIG: big });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseResult(r.stdout).values.big, big);
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  });

  test(`${shell}: a plain value costs no process (only the awk of a hostile one would show here)`, () => {
    // with no awk on PATH, plain values still work, and a hostile one fails loudly instead of being sent raw
    const path = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', shell], { encoding: 'utf8' }).stdout.trim();
    const noAwk = (body: string) => spawnSync(path, ['-s'], { input: `${lib}\n${body}`, encoding: 'utf8', env: { PATH: '/nonexistent' } });
    const plain = noAwk(`val path "/home/a b/x-1_2.json" ; val b64 "aGVsbG8=" ; result false 'done: 3 files'`);
    assert.equal(plain.status, 0, plain.stderr);
    assert.deepEqual(parseResult(plain.stdout), { changed: false, values: { path: '/home/a b/x-1_2.json', b64: 'aGVsbG8=' }, message: 'done: 3 files' });
    const hostile = noAwk(`val q 'a"b'; result false ''`);
    assert.equal(hostile.status, 1);
    assert.equal(hostile.stdout, '');
    assert.match(hostile.stderr, /cannot escape a result value/);
  });

  test(`${shell}: a template bug (bad key, odd pairs, bad CHANGED) stops the script on stderr, with no result`, () => {
    for (const body of [`val 'bad key' x`, `val '' x`, `result true '' onlykey`, `result yes ''`, `val 'a"b' x`]) {
      const r = run(shell, `${body}\necho not reached`);
      assert.equal(r.code, 1, body);
      assert.equal(r.stdout, '', body);
      assert.match(r.stderr, /a template bug/, body);
    }
  });

  test(`${shell}: b64 is one line of base64, whatever the size`, () => {
    const r = run(shell, `head -c 5000 /dev/zero | tr '\\0' 'x' > "$F"; result false '' blob "$(b64 < "$F")"`, { F: join(ROOT, 'dist', `b64-${shell}.tmp`) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 2);
    assert.equal(Buffer.from(parseResult(r.stdout).values.blob, 'base64').toString(), 'x'.repeat(5000));
  });
}
