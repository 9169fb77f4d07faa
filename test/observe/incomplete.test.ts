import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../src/observe/parse.js';

test('observe output cut short: the error says what arrived, never the raw output (it holds the config and its secrets)', () => {
  const M = '@@peer-provision-test';
  const token = 'Zm9vYmFyYmF6cXV4cXV1eHp5enp5Lmdvb2QtdG9rZW4';
  const providerKey = 'sk-ant-api03-providerkeyvalue';
  const cut = `\n${M} facts\nos=linux\n\n${M} config\n{ gateway: { auth: { token: "${token}" } }, models: { providers: { a: { apiKey: "${providerKey}" } } } }\n`;
  assert.throws(
    () => parseObservation(cut, M),
    (error: Error) => {
      assert.match(error.message, /observe script output is incomplete: \d+ bytes, sections facts, config, no end marker/);
      assert.ok(!error.message.includes(token) && !error.message.includes(providerKey) && !error.message.includes(token.slice(0, 10)));
      return true;
    },
  );
});
