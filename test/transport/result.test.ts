import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decoded, parseResult, ScriptResultError } from '../../src/transport/result.js';

const line = (o: unknown) => JSON.stringify(o);
const good = { changed: true, values: { ip: '100.64.0.1' }, message: '' };

test('parseResult reads the last line, after whatever the script printed before it', () => {
  assert.deepEqual(parseResult(`${line(good)}\n`), good);
  assert.deepEqual(parseResult(`Installing...\n{"not":"it"}\n\n${line(good)}\n\n`), good, 'output before, blank lines after');
  assert.deepEqual(parseResult(line({ changed: false, values: {}, message: 'm' })), { changed: false, values: {}, message: 'm' }, 'no final newline');
});

test('parseResult fails clearly on a missing, cut or malformed result line', () => {
  const cases: [string, RegExp][] = [
    ['', /join\.sh did not end with a result line \(no output; 0 bytes/],
    ['\n\n', /\(no output;/],
    [`${line(good)}\nstray output after\n`, /the last line is not JSON/],
    ['garbage\n', /the last line is not JSON/],
    [line(good).slice(0, 20), /not valid JSON: cut short\?/],
    [line({ changed: 'yes', values: {}, message: '' }), /JSON but not \{"changed","values","message"\}/],
    [line({ changed: true, values: [], message: '' }), /JSON but not/],
    [line({ changed: true, values: {} }), /JSON but not/],
    [line({ changed: true, values: { n: 1 }, message: '' }), /value n is not a string/],
    [line({ ...good, extra: 1 }), /unexpected keys extra/],
    ['null', /the last line is not JSON/],
  ];
  for (const [stdout, message] of cases) {
    assert.throws(
      () => parseResult(stdout, 'join.sh'),
      (error: Error) => error instanceof ScriptResultError && message.test(error.message),
      JSON.stringify(stdout),
    );
  }
});

test('the error never quotes the output (it may hold a config and its secrets)', () => {
  const secret = 'sk-live-0123456789abcdef';
  for (const stdout of [`{"changed":true,"values":{"config":"${secret}`, `${secret}\n`, `${line(good)}\n${secret}`]) {
    assert.throws(
      () => parseResult(stdout),
      (error: Error) => !error.message.includes(secret) && !error.message.includes(secret.slice(0, 8)),
    );
  }
});

test('decoded: a base64 value as text; a missing one is undefined', () => {
  assert.equal(decoded({ c: Buffer.from('{ "a": "é" }\n').toString('base64') }, 'c'), '{ "a": "é" }\n');
  assert.equal(decoded({ c: '' }, 'c'), '');
  assert.equal(decoded({}, 'c'), undefined);
});
