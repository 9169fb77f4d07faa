// init's check of one answer, as its questions use it: the rules of peer.yaml, said in one line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MACHINE_NAME, machineProblem, STACK_NAME } from '../../src/commands/init/answers.js';
import { stackNameFor } from '../../src/commands/init/index.js';
import { ROOT, tempDir } from '../helpers.js';

const file = join(tempDir('pp-init-'), 'peer.yaml');
const laptop = { name: 'laptop', target: 'local' };

test('a machine answer is checked with the rules of peer.yaml, alone and against the answers before it', () => {
  assert.equal(machineProblem('server=me@host:2222', [laptop], 'home', file), undefined);
  assert.equal(machineProblem('laptop=local', [], 'home', file), undefined, 'the first machine alone: too few is not its fault');
  assert.match(machineProblem('server=-oProxyCommand=x', [laptop], 'home', file)!, /^machines\.server\.ssh: must not start with a dash/);
  assert.match(machineProblem('server=me@host:0', [], 'home', file)!, /^machines\.server\.ssh: port 0 is not between 1 and 65535$/);
  // the machine's tag holds the stack name too
  const long = 'm'.repeat(40);
  assert.match(machineProblem(`${long}=x`, [laptop], 's'.repeat(30), file)!, /^machines\.m+: name plus stack name is too long for a Tailscale tag/);
  assert.match(machineProblem('server me@host', [], 'home', file)!, /^"server me@host": expected NAME=TARGET/);
  assert.equal(machineProblem('server=x', [], 'home', file), undefined);
  assert.match(machineProblem('b=x', [laptop, { name: 'a', target: 'x' }], 'home', file)!, /^machines\.b\.ssh: ssh target "x" is already machine a's: two/);
  assert.doesNotMatch(machineProblem('b=x', [{ name: 'a', target: 'x' }], 'home', file)!, /peer\.yaml:\d/, 'no position in a file not written yet');
});

// issue 19 item 2: "--" is never in a stack name (it ends the stack name in machine tags); init agrees with the schema
test("init's name patterns are the schema's, and a folder name becomes a stack name the schema accepts", () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/peer.schema.json'), 'utf8'));
  assert.equal(STACK_NAME.source, schema.properties.name.pattern);
  assert.ok(JSON.stringify(schema).includes(JSON.stringify(MACHINE_NAME.source)), 'the machine name pattern is in the schema');
  for (const [folder, name] of [
    ['/home/me/my--peers', 'my-peers'],
    ['/srv/A__B..c', 'a-b-c'],
    ['/srv/--', 'peers'],
  ])
    assert.equal(stackNameFor(join(folder, 'peer.yaml')), name, folder);
  assert.ok(STACK_NAME.test(stackNameFor('/x/a--b/peer.yaml')));
});
