// The one tailnet planner (src/plan/tailnet.ts): steps in the plan's vocabulary, from the spec and the policy observe read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { planTailnet } from '../../src/plan/tailnet.js';
import { PROVIDED_NOTE } from '../../src/tailnet/notes.js';
import { mergePolicy } from '../../src/tailnet/policy/merge.js';
import { friend, makeSpec } from '../tailnet/helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/policies/${name}`, import.meta.url), 'utf8');
const spec = makeSpec('lab');
const read = (text: string) => ({ text, ours: [] });

describe('planTailnet (up)', () => {
  it('mints keys for the joining machines only, after the policy step, and merges the policy', () => {
    const { actions, notes } = planTailnet({ spec, command: 'up', joined: new Set(['alpha']), joining: ['beta'], policy: read(fixture('realistic.hujson')) });
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['merge-policy', 'mint-keys'],
    );
    const [policy, mint] = actions;
    assert.equal(mint!.kind === 'mint-keys' && mint.input.machines.join(), 'beta');
    assert.match(mint!.summary, /mint an auth key for beta: single-use, preauthorized, expires in 1h/);
    assert.deepEqual(mint!.needs, [policy!.id], 'tags must be in tagOwners before a key may carry them');
    // 4 tagOwners (owner, stack, 2 machines) + 2 grants; no test yet: beta has not joined (a test naming a tag without devices can be refused)
    assert.equal(policy!.changes!.length, 6);
    assert.deepEqual(policy!.kind === 'merge-policy' && policy.input.testsFor, ['alpha']);
    assert.ok(notes.some((n) => /tests are written for machines that have joined/.test(n)));
  });

  it('re-key (rotate): a machine on the tailnet that joins again gets a key, and keeps its policy tests', () => {
    const converged = read(mergePolicy('{}', spec));
    const a = planTailnet({ spec, command: 'up', joined: new Set(['alpha', 'beta']), joining: ['alpha'], policy: converged });
    assert.deepEqual(
      a.actions.map((x) => x.kind),
      ['mint-keys'],
      'a key, and no policy change: alpha stays tested',
    );
    assert.match(a.actions[0]!.summary, /^mint an auth key for alpha \(to re-key its node\):/);
  });

  it("friends: invite mints its friend's key, every pending invite's key rides along whenever keys are minted, and each friend's state is noted", () => {
    const withFriends = { ...spec, friends: [friend('lab', 'bob', ['alpha']), friend('lab', 'carol', ['beta']), friend('lab', 'dave', ['alpha'])] };
    const policy = read(mergePolicy('{}', withFriends));
    const carol = { friend: 'carol', invite: 'c'.repeat(32), expirySeconds: 3600 };
    const bob = { friend: 'bob', invite: 'b'.repeat(32), expirySeconds: 86400 };
    const base = { spec: withFriends, command: 'up' as const, joined: new Set(['alpha', 'beta']), policy, friendsJoined: new Set(['dave']) };
    const invite = planTailnet({ ...base, joining: [], friendKeys: { pending: [carol, bob], mint: ['bob'] } });
    assert.deepEqual(
      invite.actions.map((a) => [a.kind, a.summary, a.kind === 'mint-keys' && a.input]),
      [['mint-keys', 'mint an auth key for friend bob: single-use, preauthorized, expires in 1d', { machines: [], friends: [carol, bob] }]],
    );
    assert.deepEqual(invite.notes, [
      'friend bob: invited now; their machine joins when they run `peer-provision accept`',
      'friend carol: invited, waiting for them to accept',
      'friend dave: joined, peers with alpha',
    ]);
    const up = planTailnet({ ...base, joined: new Set(['alpha']), joining: ['beta'], friendKeys: { pending: [carol], mint: [] } });
    assert.deepEqual(
      up.actions.flatMap((a) => (a.kind === 'mint-keys' ? [a.input] : [])),
      [{ machines: ['beta'], friends: [carol] }],
      "carol's key kept",
    );
    const converged = planTailnet({ ...base, joining: [], friendKeys: { pending: [carol], mint: [] } });
    assert.deepEqual(converged.actions, [], 'a pending invite alone starts no Pulumi run');
    assert.match(converged.notes.find((n) => n.startsWith('friend bob'))!, /not invited yet \(`peer-provision invite bob`\)/);
    const removed = planTailnet({ ...base, joining: [], friendKeys: { pending: [carol], mint: [], revoke: ['erin'] } });
    assert.deepEqual(
      removed.actions.map((a) => [a.op, a.summary, a.changes, a.kind === 'mint-keys' && a.input]),
      [
        [
          'destroy',
          "revoke the key of erin's invite (no longer a friend)",
          [{ field: 'erin (former friend)', from: '(invite key)', to: undefined }],
          { machines: [], friends: [carol] },
        ],
      ],
      "a friend taken out of peer.yaml before accepting: a Pulumi run that no longer declares erin's key (carol's is kept)",
    );
  });

  it('former friends: their key revoked first (when it may still be declared), then their device removed; provided: a note only', () => {
    const policy = read(mergePolicy('{}', spec));
    const base = { spec, command: 'up' as const, joined: new Set(['alpha', 'beta']), joining: [], policy };
    const both = planTailnet({ ...base, friendKeys: { pending: [], mint: [], revoke: ['erin'], former: ['erin', 'frank'] } });
    assert.deepEqual(
      both.actions.map((a) => [a.kind, a.op, a.needs]),
      [
        ['mint-keys', 'destroy', []],
        ['remove-friend-devices', 'destroy', ['tailnet/mint-keys']],
      ],
    );
    const devices = both.actions[1]!;
    assert.equal(devices.summary, 'remove the device of erin, frank (no longer a friend: tag tag:peer-lab--erin, tag:peer-lab--frank)');
    assert.deepEqual(devices.kind === 'remove-friend-devices' && devices.input, { friends: ['erin', 'frank'] });
    assert.deepEqual(devices.changes, [
      { field: 'erin (former friend)', from: '(device)', to: undefined },
      { field: 'frank (former friend)', from: '(device)', to: undefined },
    ]);
    const accepted = planTailnet({ ...base, friendKeys: { pending: [], mint: [], former: ['frank'] } });
    assert.deepEqual(
      accepted.actions.map((a) => [a.kind, a.needs]),
      [['remove-friend-devices', []]],
      'a key already gone starts no Pulumi run',
    );
    const provided = planTailnet({
      ...base,
      spec: { ...spec, tailnet: { ...spec.tailnet, provider: 'provided' } },
      friendKeys: { pending: [], mint: [], former: ['frank'] },
    });
    assert.deepEqual(provided.actions, []);
    assert.match(provided.notes.join('\n'), /frank is no longer a friend: remove their device \(tag tag:peer-lab--frank\) in your tailnet's admin console/);
  });

  it('is empty when converged', () => {
    assert.deepEqual(planTailnet({ spec, command: 'up', joined: new Set(['alpha', 'beta']), joining: [], policy: read(mergePolicy('{}', spec)) }).actions, []);
  });

  it('says the policy is unknown until read, and notes skip / provided / allow-all', () => {
    const unread = planTailnet({
      spec,
      command: 'up',
      joined: new Set(['alpha', 'beta']),
      joining: [],
      policy: { unread: 'not read: something on this side blocks up' },
    });
    assert.deepEqual(
      unread.actions.map((a) => [a.op, a.resource, a.reason]),
      [['unknown', 'tailnet-policy', 'not read: something on this side blocks up']],
    );
    const skip = planTailnet({
      spec: { ...spec, tailnet: { ...spec.tailnet, acl: 'skip' } },
      command: 'up',
      joined: new Set(['alpha', 'beta']),
      joining: [],
      policy: { unread: 'not needed' },
    });
    assert.deepEqual(skip.actions, []);
    const provided = planTailnet({
      spec: makeSpec('lab', undefined, { provider: 'provided' }),
      command: 'up',
      joined: new Set(),
      joining: ['alpha'],
      policy: { unread: 'not needed' },
    });
    assert.deepEqual(provided, { actions: [], notes: [PROVIDED_NOTE] });
    const warn = planTailnet({ spec, command: 'up', joined: new Set(['alpha', 'beta']), joining: [], policy: read(fixture('default-allow-all.hujson')) });
    assert.ok(
      warn.notes.some((n) => /policy warning: grants: a grant lets every source reach every port.*up will refuse.*Fix: Narrow or remove that rule/.test(n)),
    );
  });

  it('offline: one unknown key step per machine and an unknown policy step, none runnable', () => {
    const off = planTailnet({ spec, command: 'up', joined: new Set(), joining: [], policy: { unread: 'not observed (--offline)', offline: true } });
    assert.deepEqual(
      off.actions.map((a) => [a.op, a.resource]),
      [
        ['unknown', 'tailnet-key'],
        ['unknown', 'tailnet-key'],
        ['unknown', 'tailnet-policy'],
      ],
    );
    assert.equal(new Set(off.actions.map((a) => a.id)).size, 3, 'ids are unique');
  });
});

describe('planTailnet (down)', () => {
  it('keys, then devices, then the policy entries, each needing the one before', () => {
    const { actions } = planTailnet({ spec, command: 'down', joined: new Set(), joining: [], policy: { unread: 'not needed' } });
    assert.deepEqual(
      actions.map((a) => [a.kind, a.needs]),
      [
        ['revoke-keys', []],
        ['remove-devices', ['tailnet/revoke-keys']],
        ['remove-policy', ['tailnet/remove-devices']],
      ],
    );
  });
});
