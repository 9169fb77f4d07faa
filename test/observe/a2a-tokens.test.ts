import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact } from '../../src/model/redact.js';
import { decideA2aTokens, tokensInPlace } from '../../src/observe/a2a-tokens.js';
import type { Observed } from '../../src/observe/index.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { writeTemp } from '../helpers.js';

const spec = loadSpec(
  writeTemp(
    'version: 1\nname: r\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: a, tailscale: {authKey: env:K}}\n  b: {ssh: b, tailscale: {authKey: env:K}}\n',
  ),
);
const T = (c: string) => c.repeat(43);
const observed = (a: object, b: object) =>
  new Map<string, Observed>([
    ['a', { observation: { status: 'offline' }, private: { config: { channels: { a2a: { peers: a } } }, records: new Map(), secrets: [], home: '/' } }],
    ['b', { observation: { status: 'offline' }, private: { config: { channels: { a2a: { peers: b } } }, records: new Map(), secrets: [], home: '/' } }],
  ]);

test('A2A tokens: one per direction, new, 256-bit, registered for redaction; each side holds the mirror of the other', () => {
  const tokens = decideA2aTokens(spec, observed({}, {}));
  const ab = tokens.get('a')!.get('b')!;
  const ba = tokens.get('b')!.get('a')!;
  assert.match(ab.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(ab.token, ab.outboundToken, 'a different token each way');
  assert.deepEqual(ba, { token: ab.outboundToken, outboundToken: ab.token });
  assert.equal(redact(`x ${ab.token} y`), 'x [redacted] y');
});

test('A2A tokens: a re-run keeps what both configs agree on; a disagreement or a weak token gets a new one; rotate makes all new', () => {
  const agreed = observed({ b: { token: T('x'), outboundToken: T('y') } }, { a: { token: T('y'), outboundToken: T('x') } });
  const kept = decideA2aTokens(spec, agreed);
  assert.deepEqual(kept.get('a')!.get('b'), { token: T('x'), outboundToken: T('y') });
  assert.ok(tokensInPlace(agreed.get('a'), 'b', kept.get('a')!.get('b')!));
  const oneSide = decideA2aTokens(spec, observed({ b: { token: T('x'), outboundToken: T('y') } }, {}));
  assert.deepEqual(oneSide.get('b')!.get('a'), { token: T('y'), outboundToken: T('x') }, 'the half up wrote before an interruption is kept');
  const differ = decideA2aTokens(spec, observed({ b: { token: T('x'), outboundToken: T('y') } }, { a: { token: T('z'), outboundToken: T('x') } }));
  assert.equal(differ.get('a')!.get('b')!.token, T('x'), 'b -> a agreed');
  assert.notEqual(differ.get('a')!.get('b')!.outboundToken, T('y'), 'a -> b disagreed: new');
  const weak = decideA2aTokens(spec, observed({ b: { token: 'short', outboundToken: T('y') } }, {}));
  assert.notEqual(weak.get('a')!.get('b')!.token, 'short');
  const fresh = decideA2aTokens(spec, agreed, true);
  assert.notEqual(fresh.get('a')!.get('b')!.token, T('x'));
  assert.notEqual(fresh.get('a')!.get('b')!.outboundToken, T('y'));
  assert.equal(tokensInPlace(agreed.get('a'), 'b', fresh.get('a')!.get('b')!), false);
});

test("A2A tokens for a friend: this machine's side only, kept from its config, made where missing or weak, kept by rotate", () => {
  const withFriend = loadSpec(
    writeTemp(
      'version: 1\nname: r\ntailnet: {provider: provided}\nmachines:\n  a: {ssh: a, tailscale: {authKey: env:K}}\n  b: {ssh: b, tailscale: {authKey: env:K}}\n' +
        'friends:\n  bob: {publicKey: age1zhfnnu29cm2ne83a9nqse7vc367sy9tn7vfxhakw99ve3zsj6qfqhnn9gy, hostname: bob-laptop, with: [a]}\n',
    ),
  );
  const fresh = decideA2aTokens(withFriend, observed({}, {}));
  const made = fresh.get('a')!.get('bob-laptop')!;
  assert.match(made.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(made.token, made.outboundToken);
  assert.equal(fresh.get('b')!.get('bob-laptop'), undefined, 'b is not in with');
  const held = observed({ 'bob-laptop': { token: T('f'), outboundToken: 'weak' } }, {});
  for (const rotate of [false, true]) {
    const kept = decideA2aTokens(withFriend, held, rotate).get('a')!.get('bob-laptop')!;
    assert.equal(kept.token, T('f'), `kept (rotate: ${rotate}): the friend's machine takes new ones only from a new invite`);
    assert.match(kept.outboundToken, /^[A-Za-z0-9_-]{43}$/, 'a token outside the rule is replaced');
  }
});
