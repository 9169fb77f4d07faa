import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editedOutsideOwnedKeys } from '../../src/observe/owned-keys.js';
import { parseObservation } from '../../src/observe/parse.js';
import { observeStdout } from './observe-output.js';

const applied = {
  gateway: {
    mode: 'local',
    bind: 'tailnet',
    port: 18789,
    auth: { mode: 'token', token: 't'.repeat(32) },
    tools: { allow: ['sessions_list', 'sessions_send'] },
  },
  logging: { file: '/x.log' },
  meta: { lastTouchedVersion: '2026.9.6' },
};

test("drift of peer-provision's own keys is not someone else's edit; anything else is", () => {
  const drift = structuredClone(applied) as typeof applied;
  drift.gateway.bind = 'loopback';
  drift.gateway.tools.allow = ['sessions_list'];
  drift.meta.lastTouchedVersion = '2026.10.1';
  assert.equal(editedOutsideOwnedKeys(drift, applied), false);
  const added = structuredClone(applied) as typeof applied & { models?: unknown };
  added.models = { providers: { mine: {} } };
  assert.equal(editedOutsideOwnedKeys(added, applied), true, 'a provider added between two ups');
  const tool = structuredClone(applied) as typeof applied;
  tool.gateway.tools.allow.push('sessions_history');
  assert.equal(editedOutsideOwnedKeys(tool, applied), true, 'a tool the user allowed');
});

test('observe marks the config edited only from what peer-provision last wrote', () => {
  const out = (config: string, appliedText: string | undefined) =>
    observeStdout({ os: 'linux', config: '/c', config_exists: '1' }, { config, applied: appliedText });
  const same = JSON.stringify(applied);
  assert.equal(parseObservation(out(same, undefined)).state.gateway.editedSinceApplied, undefined);
  const drift = JSON.stringify({ ...applied, gateway: { ...applied.gateway, bind: 'loopback' } });
  assert.equal(parseObservation(out(drift, same)).state.gateway.editedSinceApplied, false);
  const edited = JSON.stringify({ ...applied, logging: { file: '/y.log' } });
  assert.equal(parseObservation(out(edited, same)).state.gateway.editedSinceApplied, true);
  assert.equal(parseObservation(out(edited, '{ not json')).state.gateway.editedSinceApplied, true, 'unreadable: assume an edit');
});
