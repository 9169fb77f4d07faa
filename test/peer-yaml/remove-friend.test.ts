// unfriend takes the friend out of peer.yaml (src/peer-yaml/remove-friend.ts): his lines go, every other byte stays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { withoutFriend } from '../../src/peer-yaml/remove-friend.js';

const FILE = `version: 1
name: home   # the stack
machines:
  alpha: { ssh: local }
# who peers with us
friends:
  # Bob, from the climbing club
  bob:
    publicKey: age1bob
    hostname: bob-laptop   # his laptop
    with: [alpha]
  carol: { publicKey: age1carol, with: [alpha] }
  "dave":
    publicKey: age1dave
    with:
      - alpha
tailnet: { provider: pulumi }
`;

test('a friend in the middle or at the end: his lines (and the comment above him) cut, the rest byte for byte', () => {
  assert.equal(
    withoutFriend(FILE, 'bob'),
    FILE.replace('  # Bob, from the climbing club\n  bob:\n    publicKey: age1bob\n    hostname: bob-laptop   # his laptop\n    with: [alpha]\n', ''),
  );
  assert.equal(withoutFriend(FILE, 'carol'), FILE.replace('  carol: { publicKey: age1carol, with: [alpha] }\n', ''));
  assert.equal(withoutFriend(FILE, 'dave'), FILE.replace('  "dave":\n    publicKey: age1dave\n    with:\n      - alpha\n', ''), 'a quoted key, a block list');
  assert.equal(withoutFriend(FILE, 'erin'), FILE, 'not there: unchanged');
  assert.equal(withoutFriend(FILE, 'alpha'), FILE, 'a machine is not a friend');
});

test('the last friend: the whole friends: section goes (with its comment); the file still parses', () => {
  const one = 'version: 1\nmachines:\n  alpha: { ssh: local }\n# who peers with us\nfriends:\n  bob: { publicKey: age1bob, with: [alpha] }\n';
  assert.equal(withoutFriend(one, 'bob'), 'version: 1\nmachines:\n  alpha: { ssh: local }\n');
  const crlf = one.replaceAll('\n', '\r\n');
  assert.equal(withoutFriend(crlf, 'bob'), 'version: 1\r\nmachines:\r\n  alpha: { ssh: local }\r\n', 'CRLF lines');
  const noNewline = 'machines: {}\nfriends:\n  bob: { publicKey: age1bob, with: [alpha] }';
  assert.equal(withoutFriend(noNewline, 'bob'), 'machines: {}\n');
});

test('friends in flow style: rewritten by the yaml library, comments kept, the others intact', () => {
  const flow = '# mine\nversion: 1\nfriends: { bob: { publicKey: age1bob, with: [alpha] }, carol: { publicKey: age1carol, with: [alpha] } }\n';
  const edited = withoutFriend(flow, 'bob');
  assert.match(edited, /^# mine\n/);
  assert.deepEqual(parse(edited), { version: 1, friends: { carol: { publicKey: 'age1carol', with: ['alpha'] } } });
  assert.deepEqual(parse(withoutFriend('{ version: 1, friends: { bob: { with: [a] } } }\n', 'bob')), { version: 1 });
});
