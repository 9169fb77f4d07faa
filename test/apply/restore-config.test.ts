import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reversePatch } from '../../src/apply/executors/restore-config.js';

test('reverse patch: only peer-provision keys go back; the user later edits stay', () => {
  const original = `// mine\n{ gateway: { mode: "local", port: 18789, bind: "loopback", auth: { mode: "token", token: "orig-token-abcdef" }, tools: { allow: ["sessions_list"] } } }`;
  const current = {
    gateway: {
      mode: 'local',
      port: 18789,
      bind: 'tailnet',
      auth: { mode: 'token', token: 'x' },
      tools: { allow: ['sessions_list', 'sessions_send', 'sessions_history'] },
    },
  };
  assert.deepEqual(reversePatch(current, original), {
    gateway: {
      mode: 'local',
      bind: 'loopback',
      port: 18789,
      auth: { mode: 'token', token: 'orig-token-abcdef' },
      tools: { allow: ['sessions_list', 'sessions_history'] },
    },
  });
});

test('reverse patch: keys the original did not have are deleted (null)', () => {
  const current = { gateway: { mode: 'local', bind: 'tailnet', port: 18789, auth: { mode: 'token', token: 't' }, tools: { allow: ['sessions_send'] } } };
  assert.deepEqual(reversePatch(current, '{ gateway: { mode: "local" } }'), {
    gateway: { mode: 'local', bind: null, port: null, auth: { mode: null, token: null }, tools: { allow: null } },
  });
});
