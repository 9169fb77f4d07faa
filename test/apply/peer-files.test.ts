import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPeerFiles } from '../../src/apply/peer-files.js';
import { layout } from '../../src/model/openclaw-layout.js';

const peers = [{ name: 'beta', hostname: 'beta-agent', ip: '100.64.0.2', port: 18789 }];

test('peer files: peer-config and the skill, no secret in either; a digest that tracks content', () => {
  const where = layout('/home/bob/.openclaw/openclaw.json', undefined, '/home/bob');
  const files = renderPeerFiles('alice-bob', 'alpha', peers, where);
  assert.deepEqual(
    files.files.map((f) => [f.path, f.mode]),
    [
      ['/home/bob/.openclaw/peer-agent/peer-config.md', '644'],
      ['/home/bob/.openclaw/workspace/skills/peer-messaging/SKILL.md', '644'],
    ],
  );
  const config = files.files[0].content;
  assert.match(config, /- A2A endpoint: http:\/\/100\.64\.0\.2:18789\/a2a\/v1/);
  assert.match(config, /- send to it: the `message` tool, channel `a2a`, target `beta` \(OpenClaw's address: `a2a:beta`\)/);
  assert.doesNotMatch(config, /token file/);
  const skill = files.files[1].content;
  assert.match(skill, /^---\nname: peer-messaging\ndescription: .*\(beta\) over OpenClaw's A2A channel\.\n---/);
  assert.match(skill, /"action": "send", "channel": "a2a", "target": "<peer name>"/);
  assert.match(skill, /untrusted input/);
  for (const pattern of ['HANDOFF', 'INSIGHT', 'REVIEW REQUEST', 'DELEGATION']) assert.ok(skill.includes(pattern), pattern);
  assert.doesNotMatch(skill, /curl|Authorization|\/tools\/invoke|```sh/, 'no shell, no curl, no token in the skill');
  assert.equal(renderPeerFiles('alice-bob', 'alpha', peers, where).digest, files.digest);
  assert.notEqual(renderPeerFiles('alice-bob', 'alpha', [{ ...peers[0], ip: '100.64.0.9' }], where).digest, files.digest);
});

test('the skill goes to the workspace the config names', () => {
  const where = layout('/root/.openclaw/openclaw.json', { agents: { defaults: { workspace: '~/agent-ws' } } }, '/root');
  assert.equal(where.skillDir, '/root/agent-ws/skills/peer-messaging');
});
