import assert from 'node:assert/strict';
import { test } from 'node:test';
import JSON5 from 'json5';
import { editedOutsideOwnedSettings, mergePatch, reversePatch, settingsPatch } from '../../src/model/gateway-settings.js';
import { parseObservation } from '../../src/observe/parse.js';
import { observeStdout } from '../observe/observe-output.js';

const STACK = ['m1', 'm2', 'm3'];
const T = (c: string) => c.repeat(43);
const link = (c: string) => ({ token: T(c), url: 'http://100.64.0.2:18789/a2a/v1', outboundToken: T(c.toUpperCase()) });

const applied = {
  gateway: { mode: 'local', bind: 'tailnet', port: 18789, auth: { mode: 'token', token: T('t') }, tools: { allow: ['sessions_list'] } },
  channels: { a2a: { enabled: true, rateLimitPerMinute: 30, peers: { m2: link('a'), hermes: { token: T('h') } } } },
  logging: { file: '/x.log' },
  meta: { lastTouchedVersion: '2026.9.6' },
};

test("up's patch sets exactly peer-provision's settings: gateway bind and auth, the A2A channel and this stack's peers", () => {
  const patch = settingsPatch({ port: 18789, token: T('t'), rateLimitPerMinute: 30, peers: { m2: link('a') }, dropPeers: ['m3'] });
  const config = { channels: { a2a: { peers: { hermes: { token: T('h') }, m3: link('c') } } }, logging: { file: '/x.log' } };
  assert.deepEqual(mergePatch(structuredClone(config), patch), {
    channels: { a2a: { enabled: true, rateLimitPerMinute: 30, peers: { hermes: { token: T('h') }, m2: link('a') } } },
    logging: { file: '/x.log' },
    gateway: { mode: 'local', bind: 'tailnet', port: 18789, auth: { mode: 'token', token: T('t') } },
  });
  assert.ok(!JSON.stringify(patch).includes('sessions_send'), 'no tool is re-enabled on /tools/invoke');
});

test('a friend not joined yet: its tokens without a URL, and a URL it had is taken out', () => {
  const friend = { token: T('f'), outboundToken: T('F') };
  const patch = settingsPatch({ port: 18789, rateLimitPerMinute: 30, peers: { 'bob-laptop': friend }, dropPeers: [] });
  const config = { channels: { a2a: { peers: { 'bob-laptop': { ...friend, url: 'http://100.64.0.9:18789/a2a/v1' } } } } };
  assert.deepEqual((mergePatch(config, patch).channels as { a2a: { peers: object } }).a2a.peers, { 'bob-laptop': friend });
});

test("drift of peer-provision's own settings is not someone else's edit; a user's own A2A peer or tool is", () => {
  const drift = structuredClone(applied);
  drift.gateway.bind = 'loopback';
  drift.channels.a2a.peers.m2.token = T('z');
  drift.channels.a2a.rateLimitPerMinute = 5;
  drift.meta.lastTouchedVersion = '2026.10.1';
  assert.equal(editedOutsideOwnedSettings(drift, applied, STACK), false);
  const peer = structuredClone(applied) as typeof applied & { channels: { a2a: { peers: Record<string, unknown> } } };
  peer.channels.a2a.peers.other = { token: T('o') };
  assert.equal(editedOutsideOwnedSettings(peer, applied, STACK), true, "a peer of the user's own");
  const hermes = structuredClone(applied);
  hermes.channels.a2a.peers.hermes.token = T('k');
  assert.equal(editedOutsideOwnedSettings(hermes, applied, STACK), true, "the user's peer changed");
  const tool = structuredClone(applied);
  tool.gateway.tools.allow.push('sessions_history');
  assert.equal(editedOutsideOwnedSettings(tool, applied, STACK), true, 'a tool the user allowed');
});

test('reverse patch: what the original had comes back, what peer-provision added goes, later edits stay', () => {
  const original = JSON5.parse(
    `// mine\n{ gateway: { mode: "local", port: 18789, bind: "loopback", auth: { mode: "token", token: "orig-token-abcdef" }, tools: { allow: ["sessions_list"] } }, channels: { a2a: { enabled: false, peers: { hermes: { token: "${T('h')}" } } } } }`,
  );
  const current = structuredClone(applied) as Record<string, unknown>;
  (current.gateway as { tools: { allow: string[] } }).tools.allow = ['sessions_list', 'sessions_send', 'sessions_history'];
  const patch = reversePatch(current, original, STACK);
  assert.deepEqual(patch, {
    gateway: {
      mode: 'local',
      bind: 'loopback',
      port: 18789,
      auth: { mode: 'token', token: 'orig-token-abcdef' },
      tools: { allow: ['sessions_list', 'sessions_history'] },
    },
    channels: { a2a: { enabled: false, rateLimitPerMinute: null, exposeAgents: null, peers: { m2: null } } },
  });
  const restored = mergePatch(structuredClone(current), patch) as typeof applied;
  assert.deepEqual(restored.channels, { a2a: { enabled: false, peers: { hermes: { token: T('h') } } } });
});

test('reverse patch: settings and sections the original did not have are removed (null), the legacy tool too', () => {
  const current = structuredClone(applied) as Record<string, unknown>;
  (current.channels as { a2a: { peers: Record<string, unknown> } }).a2a.peers = { m2: link('a'), m3: link('c') };
  (current.gateway as { tools: { allow: string[] } }).tools.allow = ['sessions_send'];
  const patch = reversePatch(current, { gateway: { mode: 'local' } }, STACK);
  assert.deepEqual(patch, {
    gateway: { mode: 'local', bind: null, port: null, auth: { mode: null, token: null }, tools: { allow: null } },
    channels: null,
  });
});

test('observe marks the config edited only from what peer-provision last wrote, the stack peers being its own', () => {
  const out = (config: string, appliedText: string | undefined) =>
    observeStdout({ os: 'linux', config: '/c', config_exists: '1' }, { config, applied: appliedText });
  const same = JSON.stringify(applied);
  assert.equal(parseObservation(out(same, undefined), STACK).state.gateway.editedSinceApplied, undefined);
  const drift = JSON.stringify({ ...applied, gateway: { ...applied.gateway, bind: 'loopback' } });
  assert.equal(parseObservation(out(drift, same), STACK).state.gateway.editedSinceApplied, false);
  const edited = JSON.stringify({ ...applied, logging: { file: '/y.log' } });
  assert.equal(parseObservation(out(edited, same), STACK).state.gateway.editedSinceApplied, true);
  assert.equal(parseObservation(out(edited, '{ not json'), STACK).state.gateway.editedSinceApplied, true, 'unreadable: assume an edit');
});

test('observe registers every A2A token of the config as a secret and reports only which are set', () => {
  const parsed = parseObservation(observeStdout({ os: 'linux', config: '/c', config_exists: '1' }, { config: JSON.stringify(applied) }), STACK);
  for (const secret of [T('t'), T('a'), T('A'), T('h')]) assert.ok(parsed.private.secrets.includes(secret));
  assert.deepEqual(parsed.state.gateway.a2a.peers.m2, { url: 'http://100.64.0.2:18789/a2a/v1', token: true, outboundToken: true });
  assert.ok(!JSON.stringify(parsed.state).includes(T('a')), 'no token in the state');
});

// issue 19 item 17: a short, common token ("gateway") was registered and blanked every "gateway" in the output
test('a token outside the token rule is not handed back for redaction (it is never kept, sent or printed)', () => {
  const weak = { gateway: { auth: { mode: 'token', token: 'gateway' } }, channels: { a2a: { peers: { m2: { token: 'short', outboundToken: T('o') } } } } };
  const parsed = parseObservation(observeStdout({ os: 'linux', config: '/c', config_exists: '1' }, { config: JSON.stringify(weak) }), STACK);
  assert.deepEqual(parsed.private.secrets, [T('o')]);
  assert.equal(parsed.private.token, 'gateway', 'still read: the plan blocks a weak token (token rule), it does not print it');
});
