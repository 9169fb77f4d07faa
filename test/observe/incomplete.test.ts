import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../src/observe/parse.js';
import { observeStdout } from './observe-output.js';

test('observe output cut short: the error says what arrived, never the raw output (it holds the config and its secrets)', () => {
  const token = 'Zm9vYmFyYmF6cXV4cXV1eHp5enp5Lmdvb2QtdG9rZW4';
  const providerKey = 'sk-ant-api03-providerkeyvalue';
  const config = `{ gateway: { auth: { token: "${token}" } }, models: { providers: { a: { apiKey: "${providerKey}" } } } }\n`;
  const whole = observeStdout({ os: 'linux', machine_id: token }, { config });
  const b64 = Buffer.from(config).toString('base64');
  for (const cut of [whole.slice(0, whole.indexOf(b64) + b64.length), whole.slice(0, whole.indexOf(token) + token.length)]) {
    assert.throws(
      () => parseObservation(cut),
      (error: Error) => {
        assert.match(
          error.message,
          /^observe\.sh did not end with a result line \(the last line is not valid JSON: cut short\?; \d+ bytes of output, last line \d+ characters\)$/,
        );
        for (const secret of [token, providerKey, b64.slice(0, 12), token.slice(0, 10)]) assert.ok(!error.message.includes(secret));
        return true;
      },
    );
  }
});
