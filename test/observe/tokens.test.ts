// Which token a machine's gateway ends up with, and when peer-provision refuses to decide (issue 10 item 12).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.js';
import type { Observed } from '../../src/observe/index.js';
import { type Private, parseObservation } from '../../src/observe/parse.js';
import { assertTokenReferencesUsable, decideToken } from '../../src/observe/tokens.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { tokenProblem } from '../../src/peer-yaml/token-rule.js';
import type { Spec } from '../../src/peer-yaml/types.js';
import { weakTokenBlockers } from '../../src/plan/blockers/tokens.js';
import { gatewayChanges } from '../../src/plan/gateway.js';
import { machineState } from '../fixtures/machine-state.js';
import { writeTemp } from '../helpers.js';
import { facts, observeStdout } from './observe-output.js';

const STRONG = 'c3Ryb25nLXRva2VuLWZvci10ZXN0cy0wMTIzNDU2Nzg5';
const yaml = (token?: string) => `version: 1
name: t
tailnet:
  provider: provided
machines:
  alpha:
    ssh: local
    tailscale: { authKey: env:A_KEY }
    gateway: { port: 18789${token ? `, token: ${token}` : ''} }
  beta:
    ssh: bob@beta.example.net
    tailscale: { authKey: env:B_KEY }
`;
const observed = (token: string | undefined): Observed => ({
  observation: {
    status: 'observed',
    state: machineState({ gateway: { tokenProblem: token === undefined ? undefined : tokenProblem(token) } }),
  },
  private: { token, home: '/root' } as unknown as Private,
});
/** Each machine's blockers for a weak token, as the planner finds them, by machine (none: left out). */
const tokenBlockers = (spec: Spec, observed: Map<string, Observed>) =>
  new Map(
    spec.machines.flatMap((m) => {
      const o = observed.get(m.name)?.observation;
      const found = o?.status === 'observed' ? weakTokenBlockers(m, o.state) : [];
      return found.length ? [[m.name, found] as const] : [];
    }),
  );

test('generate keeps a strong existing token and makes one when there is none', () => {
  const spec = loadSpec(writeTemp(yaml()));
  assert.deepEqual(decideToken(spec.machines[0], observed(STRONG).private), { token: STRONG, keepExisting: true });
  const made = decideToken(spec.machines[0], observed(undefined).private);
  assert.equal(made.keepExisting, false);
  assert.match(made.token, /^[A-Za-z0-9_-]{43}$/);
});

for (const [what, weak] of [
  ['"1234"', '1234'],
  ['quotes and newlines', 'x"\noutput = "/tmp/p"\nheader = "y'],
  ['a space', `${STRONG} x`],
] as const) {
  test(`generate blocks on an existing token with ${what}: naming the config, the rule and the fix, never the token`, () => {
    const spec = loadSpec(writeTemp(yaml()));
    const blockers = tokenBlockers(
      spec,
      new Map([
        ['alpha', observed(weak)],
        ['beta', observed(STRONG)],
      ]),
    );
    assert.deepEqual([...blockers.keys()], ['alpha']);
    const b = blockers.get('alpha')![0]!;
    assert.match(b.reason, /^the gateway token already in \/root\/\.openclaw\/openclaw\.json (holds characters a token may not have|is \d+ characters long)/);
    assert.match(b.fix, /^set machines\.alpha\.gateway\.token: generate-replace-weak/);
    assert.ok(!b.reason.includes(weak) && !b.fix.includes(weak), 'never repeats the token');
    // and decideToken alone never keeps it either
    assert.notEqual(decideToken(spec.machines[0], observed(weak).private).token, weak);
  });
}

test('generate-replace-weak is the consent: a weak token is replaced, a strong one kept', () => {
  const spec = loadSpec(writeTemp(yaml('generate-replace-weak')));
  assert.deepEqual(spec.machines[0].gateway.token, { kind: 'generate', replaceWeak: true });
  assert.equal(
    tokenBlockers(
      spec,
      new Map([
        ['alpha', observed('1234')],
        ['beta', observed(STRONG)],
      ]),
    ).size,
    0,
  );
  const replaced = decideToken(spec.machines[0], observed('1234').private);
  assert.equal(replaced.keepExisting, false);
  assert.match(replaced.token, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(decideToken(spec.machines[0], observed(STRONG).private), { token: STRONG, keepExisting: true });
});

test('an env: token outside the rule is refused at its reference (plan has no preflight of its own)', () => {
  const file = writeTemp(yaml('env:ALPHA_TOKEN'));
  const spec = loadSpec(file);
  process.env.ALPHA_TOKEN = 'short';
  try {
    assert.throws(
      () => assertTokenReferencesUsable(spec),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.match(error.message, new RegExp(`^${file}:9:36: machines\\.alpha\\.gateway\\.token: environment variable ALPHA_TOKEN is 5 characters long`));
        return true;
      },
    );
  } finally {
    delete process.env.ALPHA_TOKEN;
  }
});

// biome-ignore lint/suspicious/noTemplateCurlyInString: OpenClaw's own reference syntax, not a template
const ENV_REF = '${OPENCLAW_GATEWAY_TOKEN}';
for (const [what, reference] of [
  ['an env substitution', JSON.stringify(ENV_REF)],
  ['a SecretRef', '{ source: "file", provider: "vault", id: "/gateway/token" }'],
] as const) {
  test(`a token the config names by reference (${what}) is kept as a reference: no blocker, no change, nothing resolved`, () => {
    const spec = loadSpec(writeTemp(yaml()));
    const config = `{ gateway: { mode: "local", bind: "tailnet", port: 18789, auth: { mode: "token", token: ${reference} } } }`;
    const { state, private: priv } = parseObservation(observeStdout(facts('os=linux\nconfig=/root/.openclaw/openclaw.json\nconfig_exists=1\n'), { config }));
    assert.equal(priv.token, undefined, 'a reference is not a token');
    assert.ok(state.gateway.tokenHash, 'but a token is set');
    assert.equal(tokenBlockers(spec, new Map([['alpha', { observation: { status: 'observed', state }, private: priv } as Observed]])).size, 0);
    const decided = decideToken(spec.machines[0], priv);
    assert.equal(decided.keepExisting, true);
    const changes = gatewayChanges(spec.machines[0], state, { peers: [], stackMachines: ['alpha', 'beta'] });
    assert.ok(!changes.some((c) => c.field === 'gateway.auth.token'), JSON.stringify(changes));
  });
}

test('a token with a reference inside it is a token like any other: only a whole value is a reference', () => {
  const token = `x${ENV_REF}`;
  const { private: priv } = parseObservation(
    observeStdout(facts('os=linux\nconfig=/root/.openclaw/openclaw.json\nconfig_exists=1\n'), {
      config: `{ gateway: { auth: { token: ${JSON.stringify(token)} } } }`,
    }),
  );
  assert.equal(priv.token, token);
  assert.equal(priv.tokenRef, undefined);
});

test('observe says why a token written in the config breaks the rule, never the token; the planner blocks on it', () => {
  const weak = 'x"\noutput = "/tmp/p"';
  const config = JSON.stringify({ gateway: { mode: 'local', bind: 'loopback', port: 18789, auth: { mode: 'token', token: weak } } });
  const { state } = parseObservation(observeStdout(facts('os=linux\nconfig=/root/.openclaw/openclaw.json\nconfig_exists=1\n'), { config }));
  assert.match(state.gateway.tokenProblem ?? '', /^holds characters a token may not have \(a double quote, a line break/);
  assert.ok(!JSON.stringify(state).includes('/tmp/p'), 'the state holds no part of the token');
  const spec = loadSpec(writeTemp(yaml()));
  assert.equal(weakTokenBlockers(spec.machines[0]!, state).length, 1);
});
