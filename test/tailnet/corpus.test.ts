// The policy merge over a corpus of real policy files (test/fixtures/policies/corpus/README.md says where each comes
// from): it adds our entries, keeps every byte that is not ours, removes exactly what it added, and never turns a
// policy the API accepts into one it rejects (checked against the Tailscale API double's validation).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createTailscaleApi } from '../../src/tailnet/devices.js';
import { policyWarnings } from '../../src/tailnet/policy/changes.js';
import { mergePolicy, removeOwned, tagOwnerNames } from '../../src/tailnet/policy/merge.js';
import { type ApiDouble, startApiDouble } from './api-double.js';
import { machine, makeSpec } from './helpers.js';

const dir = new URL('../../../test/fixtures/policies/', import.meta.url);
const files = [
  ...readdirSync(new URL('corpus/', dir))
    .filter((f) => /\.(hujson|json)$/.test(f))
    .map((f) => `corpus/${f}`),
  ...readdirSync(dir).filter((f) => /\.(hujson|json)$/.test(f) && f !== 'holds-this-stack.hujson'), // that one already holds our entries
];
const spec = makeSpec('lab', [machine('lab', 'alpha'), machine('lab', 'beta', 9000), machine('lab', 'gamma')], {}, [
  ['alpha', 'beta'],
  ['beta', 'gamma'],
]);

/** Lines of `a` appear in `b` in order; in strict JSON a former last member may gain the comma a new member needs. */
function inOrder(a: string[], b: string[]) {
  let j = 0;
  for (const line of b) if (j < a.length && (line === a[j] || line === `${a[j]},`)) j++;
  return j === a.length;
}

describe('policy merge over a corpus of real policy files', () => {
  let api: ApiDouble;
  before(async () => {
    api = await startApiDouble({ apiKeys: ['tskey-api-corpus'] });
  });
  after(() => api.close());
  const verdict = async (text: string) => {
    const c = createTailscaleApi({ kind: 'apiKey', apiKey: 'tskey-api-corpus' }, '-', { baseUrl: api.baseUrl, attempts: 1 });
    api.setPolicy('{}');
    return c.setPolicy(text, api.etag).then(
      () => 'accepted',
      (e: Error) => e.message.replace(/^.*400 Bad Request: /, ''),
    );
  };

  assert.ok(files.length >= 7, `corpus: ${files}`);
  for (const f of files) {
    it(f, async () => {
      const original = readFileSync(new URL(f, dir), 'utf8');
      const merged = mergePolicy(original, spec, { ours: new Set() });
      assert.notEqual(merged, original, 'our entries are added');
      assert.ok(inOrder(original.split('\n'), merged.split('\n')), 'every original line kept, in order');
      assert.equal(mergePolicy(merged, spec, { ours: new Set() }), merged, 'idempotent');
      const added = new Set([...tagOwnerNames(merged)].filter((t) => !tagOwnerNames(original).has(t)));
      assert.equal(removeOwned(merged, spec, { ours: added }), original, 'removing what we added gives the original back, byte for byte');
      // Tailscale's validation: our entries never make an accepted policy rejected, nor change why one is rejected
      const before = await verdict(original);
      const after = await verdict(merged);
      if (policyWarnings(original).length > 0) assert.match(after, /test\(s\) failed/, 'allow-all: our deny tests fail (up refuses it first)');
      else assert.equal(after, before);
    });
  }
});
