import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';
import { TailnetError } from '../../src/tailnet/errors.js';
import { policyChanges, policyWarnings } from '../../src/tailnet/policy/changes.js';
import { policyClashes } from '../../src/tailnet/policy/clashes.js';
import { mergePolicy, removeOwned } from '../../src/tailnet/policy/merge.js';
import { isStackDevice, ownedEntries } from '../../src/tailnet/policy/owned.js';
import { friend, machine, makeSpec } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/policies/${name}`, import.meta.url), 'utf8');

/** Parses HuJSON strictly enough to catch what Tailscale would reject: syntax errors, with comments/trailing commas allowed. */
function hujson(text: string): any {
  const errors: ParseError[] = [];
  const v = parseJsonc(text, errors, { allowTrailingComma: true });
  assert.deepEqual(errors, [], `not valid HuJSON:\n${text}`);
  return v;
}

/** Lines of `a` appear in `b` in the same order (b only adds lines). */
function isSubsequence(a: string[], b: string[]) {
  let j = 0;
  for (const line of b) if (j < a.length && line === a[j]) j++;
  return j === a.length;
}

const lab = makeSpec('lab');

describe('ownedEntries', () => {
  it('derives tag owners, one grant and one test per machine with peers', () => {
    const e = ownedEntries(lab);
    assert.deepEqual(e.tagOwners, [
      ['tag:peerprovision-lab', ['autogroup:admin']],
      ['tag:peer-lab', ['autogroup:admin', 'tag:peerprovision-lab']],
      ['tag:peer-lab--alpha', ['autogroup:admin', 'tag:peerprovision-lab']],
      ['tag:peer-lab--beta', ['autogroup:admin', 'tag:peerprovision-lab']],
    ]);
    assert.deepEqual(e.grants, [
      { src: ['tag:peer-lab--beta'], dst: ['tag:peer-lab--alpha'], ip: ['tcp:18789'] },
      { src: ['tag:peer-lab--alpha'], dst: ['tag:peer-lab--beta'], ip: ['tcp:18789'] },
    ]);
    assert.deepEqual(e.tests[0], { src: 'tag:peer-lab--alpha', accept: ['tag:peer-lab--beta:18789'], deny: ['tag:peer-lab--beta:22'] });
  });

  it('follows spec.peers (not every pair), each destination port, and never denies the gateway port itself', () => {
    const s = makeSpec('lab', [machine('lab', 'a', 9000), machine('lab', 'b', 22), machine('lab', 'c')], {}, [['a', 'b']]);
    const e = ownedEntries(s);
    assert.deepEqual(e.grants, [
      { src: ['tag:peer-lab--b'], dst: ['tag:peer-lab--a'], ip: ['tcp:9000'] },
      { src: ['tag:peer-lab--a'], dst: ['tag:peer-lab--b'], ip: ['tcp:22'] },
    ]);
    assert.deepEqual(
      e.tests.find((t) => t.src === 'tag:peer-lab--a'),
      { src: 'tag:peer-lab--a', accept: ['tag:peer-lab--b:22'], deny: ['tag:peer-lab--b:23'] },
    );
    assert.equal(
      e.tests.some((t) => t.src === 'tag:peer-lab--c'),
      false,
      'c has no peers: no test',
    );
    assert.ok(
      e.tagOwners.some(([t]) => t === 'tag:peer-lab--c'),
      'c still needs its tag owned to join',
    );
  });

  it("a friend: its tag owned like a machine's, it reaches the gateway port of the machines it peers with, they reach its port, nothing else", () => {
    const s = {
      ...makeSpec('lab', [machine('lab', 'a', 9000), machine('lab', 'b'), machine('lab', 'c')], {}, [['a', 'b']]),
      friends: [friend('lab', 'bob', ['a', 'c'], 18800)],
    };
    const e = ownedEntries(s);
    assert.deepEqual(e.tagOwners.at(-1), ['tag:peer-lab--bob', ['autogroup:admin', 'tag:peerprovision-lab']]);
    assert.deepEqual(e.grants, [
      { src: ['tag:peer-lab--b', 'tag:peer-lab--bob'], dst: ['tag:peer-lab--a'], ip: ['tcp:9000'] },
      { src: ['tag:peer-lab--a'], dst: ['tag:peer-lab--b'], ip: ['tcp:18789'] },
      { src: ['tag:peer-lab--bob'], dst: ['tag:peer-lab--c'], ip: ['tcp:18789'] },
      { src: ['tag:peer-lab--a', 'tag:peer-lab--c'], dst: ['tag:peer-lab--bob'], ip: ['tcp:18800'] },
    ]);
    assert.equal(
      e.tests.some((t) => t.src === 'tag:peer-lab--bob' || t.accept.some((x) => x.startsWith('tag:peer-lab--bob:'))),
      false,
      "no test names the friend's tag before its machine has joined",
    );
    assert.ok(isStackDevice(s, ['tag:peer-lab', 'tag:peer-lab--bob']), "the friend's device is this stack's: down deletes it");
    // the merge recognises the friend's grants as this stack's: written once, a second merge changes nothing
    // what plan shows when a friend is added to a stack that is up
    const up = mergePolicy('{}', { ...s, friends: [] });
    assert.deepEqual(
      policyChanges(up, s).map((c) => `${c.op} ${c.summary}`),
      [
        '+ tag:peer-lab--bob: owned by autogroup:admin, tag:peerprovision-lab',
        '~ tag:peer-lab--b, tag:peer-lab--bob → tag:peer-lab--a tcp:9000 (was: tag:peer-lab--b → tag:peer-lab--a tcp:9000)',
        '+ tag:peer-lab--bob → tag:peer-lab--c tcp:18789',
        '+ tag:peer-lab--a, tag:peer-lab--c → tag:peer-lab--bob tcp:18800',
      ],
    );
    const once = mergePolicy('{}', s);
    assert.equal(mergePolicy(once, s), once);
    assert.equal(hujson(once).grants.length, 4);
    const without = mergePolicy(once, { ...s, friends: [] });
    assert.deepEqual(
      hujson(without).grants,
      ownedEntries({ ...s, friends: [] }).grants,
      'a friend taken out of peer.yaml: the grants to and from its machine go',
    );
  });
});

describe('mergePolicy on a realistic HuJSON policy (comments, trailing commas, grants + acls, ssh, ipsets)', () => {
  const original = fixture('realistic.hujson');
  const merged = mergePolicy(original, lab);

  it('adds exactly our entries and keeps every original line, in order', () => {
    const o = original.split('\n');
    const m = merged.split('\n');
    assert.ok(isSubsequence(o, m), merged);
    const added = m.filter((l) => !o.includes(l)).map((l) => l.trim());
    assert.deepEqual(added, [
      '"tag:peerprovision-lab": ["autogroup:admin"],',
      '"tag:peer-lab": ["autogroup:admin", "tag:peerprovision-lab"],',
      '"tag:peer-lab--alpha": ["autogroup:admin", "tag:peerprovision-lab"],',
      '"tag:peer-lab--beta": ["autogroup:admin", "tag:peerprovision-lab"],',
      '{"src": ["tag:peer-lab--beta"], "dst": ["tag:peer-lab--alpha"], "ip": ["tcp:18789"]},',
      '{"src": ["tag:peer-lab--alpha"], "dst": ["tag:peer-lab--beta"], "ip": ["tcp:18789"]},',
      '{"src": "tag:peer-lab--alpha", "accept": ["tag:peer-lab--beta:18789"], "deny": ["tag:peer-lab--beta:22"]},',
      '{"src": "tag:peer-lab--beta", "accept": ["tag:peer-lab--alpha:18789"], "deny": ["tag:peer-lab--alpha:22"]},',
    ]);
    assert.ok(merged.includes('\t\t{"src": ["tag:peer-lab--alpha"]'), 'indented like its neighbours (tabs)');
  });

  it('yields a valid policy whose other sections are deep-equal to the original', () => {
    const before = hujson(original);
    const after = hujson(merged);
    for (const k of ['groups', 'ipsets', 'acls', 'ssh']) assert.deepEqual(after[k], before[k], k);
    assert.deepEqual(after.grants.slice(0, 2), before.grants);
    assert.deepEqual(after.tests[0], before.tests[0]);
    assert.deepEqual(after.tagOwners['tag:server'], ['group:ops']);
  });

  it('is idempotent byte for byte, and removeOwned restores the original byte for byte', () => {
    assert.equal(mergePolicy(merged, lab), merged);
    assert.equal(removeOwned(merged, lab), original);
    assert.equal(removeOwned(original, lab), original, 'nothing of ours: nothing removed');
  });

  it('has no policy changes to plan once merged', () => {
    assert.deepEqual(policyChanges(merged, lab), []);
    assert.equal(policyChanges(original, lab).filter((c) => c.op === '+').length, 8);
  });
});

describe('mergePolicy on strict JSON (no comments, no trailing commas, 4-space indent)', () => {
  const original = fixture('strict-json.json');
  const merged = mergePolicy(original, lab);
  it('stays strict JSON, adds the missing sections, and round-trips', () => {
    const v = JSON.parse(merged); // throws on a trailing comma
    assert.equal(v.grants.length, 2);
    assert.equal(v.tests.length, 2);
    assert.deepEqual(v.acls, JSON.parse(original).acls);
    assert.match(merged, /\n    "grants": \[\n        \{"src"/);
    assert.equal(mergePolicy(merged, lab), merged);
    assert.equal(removeOwned(merged, lab), original);
  });
});

describe('mergePolicy on a policy that already holds this stack (older spec)', () => {
  const original = fixture('holds-this-stack.hujson');
  // Now: gamma removed from the spec, beta's gateway moved to 18800.
  const spec = makeSpec('lab', [machine('lab', 'alpha'), machine('lab', 'beta', 18800)]);
  const merged = mergePolicy(original, spec);
  const v = hujson(merged);

  it('replaces changed entries, drops the removed machine’s entries, and leaves the rest alone', () => {
    assert.deepEqual(Object.keys(v.tagOwners), ['tag:ops', 'tag:peer-lab', 'tag:peer-lab--alpha', 'tag:peer-lab--beta', 'tag:peerprovision-lab']);
    // written before the owner tag (the stack tag owned the machine tags): now the owner tag owns them all
    assert.deepEqual(v.tagOwners['tag:peer-lab--alpha'], ['autogroup:admin', 'tag:peerprovision-lab']);
    assert.deepEqual(v.tagOwners['tag:peer-lab'], ['autogroup:admin', 'tag:peerprovision-lab']);
    assert.deepEqual(v.grants, [
      { src: ['tag:ops'], dst: ['tag:peer-lab--alpha'], ip: ['tcp:22'] },
      { src: ['tag:peer-lab--beta'], dst: ['tag:peer-lab--alpha'], ip: ['tcp:18789'] },
      { src: ['tag:peer-lab--alpha'], dst: ['tag:peer-lab--beta'], ip: ['tcp:18800'] },
      { src: ['tag:peer-lab--alpha'], dst: ['tag:peer-lab--beta'], ip: ['tcp:80', 'tcp:443'] },
    ]);
    assert.deepEqual(
      v.tests.map((t: { src: string }) => t.src),
      ['tag:peer-lab--alpha', 'tag:peer-lab--beta'],
    );
    assert.deepEqual(v.tests[0].accept, ['tag:peer-lab--beta:18800']);
    assert.ok(merged.includes('// ops may ssh to alpha: not ours'));
    assert.ok(merged.includes('// a hand-written rule between two of our tags carrying more than one port: not ours either'));
    assert.ok(merged.includes('// Written by an earlier peer-provision run'));
    assert.doesNotMatch(merged.replace(/\/\/.*$/gm, ''), /gamma/);
  });

  it('merge twice = merge once, byte for byte', () => {
    assert.equal(mergePolicy(merged, spec), merged);
  });

  it('plans the changes readably: removed, changed, not a file dump', () => {
    const changes = policyChanges(original, spec);
    assert.deepEqual(
      changes.map((c) => `${c.op} ${c.section}`),
      // written before the owner tag: the owner tag is added and made the owner of the stack and machine tags
      ['- tagOwners', '+ tagOwners', '~ tagOwners', '~ tagOwners', '~ tagOwners', '- grants', '~ grants', '~ grants', '- tests', '~ tests', '~ tests'],
    );
    const g = changes.filter((c) => c.op === '~' && c.section === 'grants')[1]!;
    assert.equal(
      g.summary,
      'tag:peer-lab--alpha → tag:peer-lab--beta tcp:18800 (was: tag:peer-lab--alpha, tag:peer-lab--gamma → tag:peer-lab--beta tcp:18789)',
    );
    assert.equal(changes.find((c) => c.section === 'tagOwners')!.summary, 'tag:peer-lab--gamma: owned by autogroup:admin, tag:peer-lab');
  });

  it('removeOwned keeps the user entries between our tags, the tags they name (no dangling tag), and every comment', () => {
    const removed = removeOwned(original, spec);
    const r = hujson(removed);
    // defect 2: the user's grants still name alpha and beta; removing their tagOwners would make Tailscale reject
    // the policy ("tag not found"). tag:peer-lab stays as their owner. gamma, named by nothing of the user's, goes.
    assert.deepEqual(Object.keys(r.tagOwners), ['tag:ops', 'tag:peer-lab', 'tag:peer-lab--alpha', 'tag:peer-lab--beta']);
    assert.equal(r.grants.length, 2);
    assert.equal(r.tests, undefined, 'a tests section holding only our entries goes away');
    assert.equal((removed.match(/\/\//g) ?? []).length, (original.match(/\/\//g) ?? []).length);
  });
});

describe('two stacks in one tailnet', () => {
  const original = fixture('other-stack.hujson');
  const labX = makeSpec('lab-x', [machine('lab-x', 'one'), machine('lab-x', 'two')]);

  it("does not take another stack's entries for ours, even with a shared tag prefix", () => {
    const merged = mergePolicy(original, lab);
    assert.ok(isSubsequence(original.split('\n'), merged.split('\n')));
    assert.equal(removeOwned(merged, lab), original);
    assert.deepEqual(
      policyChanges(original, lab).filter((c) => c.op !== '+'),
      [],
    );
    // and the other stack sees its own entries as in place
    assert.deepEqual(policyChanges(merged, labX), []);
  });

  it('removing the other stack leaves ours and the comments', () => {
    const merged = mergePolicy(original, lab);
    const without = removeOwned(merged, labX);
    const v = hujson(without);
    // tag:peer-lab-x stays: the ssh rule (not ours) names it
    assert.deepEqual(Object.keys(v.tagOwners), [
      'tag:peerprovision-lab-x',
      'tag:peer-lab-x',
      'tag:peerprovision-lab',
      'tag:peer-lab',
      'tag:peer-lab--alpha',
      'tag:peer-lab--beta',
    ]);
    assert.equal(v.grants.length, 2);
    assert.ok(v.grants.every((g: { dst: string[] }) => !g.dst[0]!.startsWith('tag:peer-lab-x')));
    assert.deepEqual(v.ssh, hujson(original).ssh, 'the ssh rule is not a grant or test: untouched');
    assert.ok(without.includes('// stack lab-x'));
    assert.ok(without.startsWith('// A tailnet already shared'));
    assert.equal(mergePolicy(without, lab), without);
  });
});

describe('edge shapes', () => {
  it('merges into an empty policy and into one-line JSON', () => {
    const e = mergePolicy('{}', lab);
    assert.equal(hujson(e).grants.length, 2);
    assert.equal(mergePolicy(e, lab), e);
    const oneLine = '{"grants": [{"src": ["group:x"], "dst": ["tag:y"], "ip": ["tcp:1"]}], "tagOwners": {"tag:y": ["group:x"]}}';
    const m = mergePolicy(oneLine, lab);
    const v = JSON.parse(m);
    assert.deepEqual(v.grants[0], { src: ['group:x'], dst: ['tag:y'], ip: ['tcp:1'] });
    assert.equal(v.grants.length, 3);
    assert.equal(removeOwned(m, lab), oneLine);
  });

  it('rejects a policy that is not HuJSON, or whose sections have the wrong type', () => {
    assert.throws(() => mergePolicy('{ "grants": [ }', lab), TailnetError);
    assert.throws(() => mergePolicy('{ "grants": {} }', lab), /"grants" is not an array/);
  });

  it('lists every wanted entry as + when the policy is unknown', () => {
    const c = policyChanges(undefined, lab);
    assert.equal(c.length, 8);
    assert.ok(c.every((x) => x.op === '+'));
  });

  it('warns about the default allow-all policy, which would fail our deny tests', () => {
    assert.equal(policyWarnings(fixture('default-allow-all.hujson')).length, 1);
    assert.deepEqual(policyWarnings(fixture('realistic.hujson')), []);
    assert.equal(policyWarnings('{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}').length, 1);
  });
});

describe('the legacy acls form of older tailnets ("users" for "src", "ports" for "dst"; tests with "user"/"allow")', () => {
  const original = fixture('legacy-acls.hujson');
  const merged = mergePolicy(original, lab);
  /** The text of one top-level section, as written. */
  const sectionText = (text: string, key: string) => {
    const at = text.indexOf(`"${key}": [`);
    return text.slice(at, text.indexOf('\n  ],', at));
  };

  it('keeps every legacy rule and test byte for byte, in order, and adds only our entries', () => {
    assert.ok(isSubsequence(original.split('\n'), merged.split('\n')), merged);
    assert.equal(sectionText(merged, 'acls'), sectionText(original, 'acls'));
    const before = hujson(original);
    const after = hujson(merged);
    assert.deepEqual(after.acls, before.acls);
    assert.deepEqual(after.tests.slice(0, 2), before.tests, 'the legacy test first, untouched, then ours');
    assert.equal(mergePolicy(merged, lab), merged);
    assert.equal(removeOwned(merged, lab), original);
  });

  it('never takes a legacy rule or test that names only our tags for ours', () => {
    const ours = ownedEntries(lab).tests[0]!;
    const legacy =
      '{\n  "tagOwners": {"tag:peer-lab": ["autogroup:admin"], "tag:peer-lab--alpha": ["autogroup:admin", "tag:peer-lab"], "tag:peer-lab--beta": ["autogroup:admin", "tag:peer-lab"]},\n' +
      '  "acls": [{"action": "accept", "users": ["tag:peer-lab--beta"], "ports": ["tag:peer-lab--alpha:18789"]}],\n' +
      `  "tests": [{"user": "${ours.src}", "allow": ${JSON.stringify(ours.accept)}, "deny": ${JSON.stringify(ours.deny)}}],\n}\n`;
    const m = mergePolicy(legacy, lab);
    assert.deepEqual(hujson(m).acls, hujson(legacy).acls);
    assert.deepEqual(hujson(m).tests[0], hujson(legacy).tests[0]);
    const removed = hujson(removeOwned(m, lab));
    assert.deepEqual(removed.acls, hujson(legacy).acls, 'the rule stays');
    assert.deepEqual(removed.tests, hujson(legacy).tests, 'the legacy test stays');
    assert.deepEqual(
      Object.keys(removed.tagOwners),
      ['tag:peer-lab--alpha', 'tag:peer-lab--beta', 'tag:peerprovision-lab'],
      'and the tags it names, and their owner',
    );
    assert.deepEqual(
      policyChanges(m, lab).filter((c) => c.op !== '+'),
      [],
    );
  });

  it('sees a rule that accepts everything in the legacy form too', () => {
    assert.equal(policyWarnings(fixture('legacy-default-allow-all.hujson')).length, 1);
    assert.equal(policyWarnings('{"acls": [{"action": "accept", "users": ["*"], "ports": ["*:*"]}]}').length, 1);
    assert.equal(policyWarnings('{"acls": [{"action": "accept", "users": ["*"], "dst": ["*:*"]}]}').length, 1, 'the forms mixed in one rule');
    assert.deepEqual(policyWarnings(original), []);
    assert.deepEqual(policyWarnings('{"ssh": [{"action": "accept", "src": ["*"], "dst": ["*"], "users": ["*"]}]}'), [], 'ssh "users" are unix users');
  });
});

// issue 19 item 2: under 0.1's tag scheme machine eu of stack prod carried tag:peer-prod-eu, the stack tag of a stack
// named prod-eu; whoever wrote tagOwners first owned the other's tag, and prod-eu's down deleted prod's device.
describe("tags of peer-provision 0.1's stacks", () => {
  const prod01 = fixture('stack-of-0.1.hujson');
  const prodEu = makeSpec('prod-eu', [machine('prod-eu', 'a'), machine('prod-eu', 'b')]);
  const prodUs = makeSpec('prod-us', [machine('prod-us', 'a'), machine('prod-us', 'b')]);
  const prod = makeSpec('prod', [machine('prod', 'eu'), machine('prod', 'us')]);

  it("refuses a policy that gives this stack's tag to another stack (its owner tag, or its stack tag before owner tags)", () => {
    assert.deepEqual(policyClashes(prod01, prodEu), ["tagOwners gives tag:peer-prod-eu, this stack's tag, to tag:peerprovision-prod"]);
    assert.deepEqual(policyClashes(prod01, prodUs), ["tagOwners gives tag:peer-prod-us, this stack's tag, to tag:peer-prod"]);
    assert.deepEqual(policyClashes(prod01, prod), [], "the stack's own entries are no clash");
    const ownTagAsOwner = '{"tagOwners": {"tag:peer-prod--eu": ["autogroup:admin", "tag:peer-prod--us"], "tag:peer-prod": ["group:ops"]}}';
    assert.deepEqual(policyClashes(ownTagAsOwner, prod), [], "the stack's own tags, or a user's group, as owners: no clash");
    assert.deepEqual(policyClashes(mergePolicy(prod01, prod), prodEu), [], "once prod is up with this version, 0.1's tag is gone: no clash");
    assert.deepEqual(policyClashes(fixture('holds-this-stack.hujson'), lab), []);
    assert.deepEqual(policyClashes(fixture('other-stack.hujson'), lab), [], 'a stack of this version shares no tag');
  });

  it("prod's next up writes tags that no other stack has, and takes 0.1's grants out; its down removes 0.1's entries", () => {
    const merged = mergePolicy(prod01, prod);
    const v = hujson(merged);
    assert.deepEqual(v.tagOwners['tag:peer-prod--eu'], ['autogroup:admin', 'tag:peerprovision-prod']);
    assert.deepEqual(
      v.grants.map((g: { dst: string[] }) => g.dst[0]),
      ['tag:peer-prod--eu', 'tag:peer-prod--us'],
    );
    const gone = hujson(removeOwned(merged, prod));
    assert.deepEqual(Object.keys(gone.tagOwners ?? {}), [], `0.1's tags go with the stack: ${removeOwned(merged, prod)}`);
  });

  it("a device is the stack's only with the stack tag and one of its machine tags (or a machine's 0.1 tag)", () => {
    assert.equal(isStackDevice(prod, ['tag:peer-prod', 'tag:peer-prod--eu']), true);
    assert.equal(isStackDevice(prod, ['tag:peer-prod', 'tag:peer-prod-eu']), true, "0.1's tags of machine eu");
    assert.equal(isStackDevice(prod, ['tag:peer-prod']), false, 'the stack tag alone');
    assert.equal(isStackDevice(prod, ['tag:peer-prod--eu']), false, 'a machine tag alone');
    assert.equal(isStackDevice(prodEu, ['tag:peer-prod', 'tag:peer-prod-eu']), false, "prod's 0.1 device carries prod-eu's stack tag: not prod-eu's");
    assert.equal(isStackDevice(prodEu, ['tag:peer-prod-eu', 'tag:peer-prod-eu--a']), true);
    assert.equal(isStackDevice(prod, ['tag:peer-prod-eu', 'tag:peer-prod-eu--a']), false, "prod-eu's device is not prod's");
  });
});
