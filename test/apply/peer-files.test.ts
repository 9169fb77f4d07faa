import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPeerFiles } from '../../src/apply/peer-files.js';
import { layout } from '../../src/model/openclaw-layout.js';

const peers = [{ name: 'beta', hostname: 'beta-agent', ip: '100.64.0.2', port: 18789, token: 'beta-token-123456' }];

test('peer files: peer-config, a 0600 token file per peer, the skill; a digest that tracks content', () => {
  const where = layout('/home/bob/.openclaw/openclaw.json', undefined, '/home/bob');
  const files = renderPeerFiles('alice-bob', 'alpha', peers, where);
  assert.deepEqual(
    files.files.map((f) => [f.path, f.mode]),
    [
      ['/home/bob/.openclaw/peer-agent/peer-config.md', '644'],
      ['/home/bob/.openclaw/peer-agent/tokens/beta.token', '600'],
      ['/home/bob/.openclaw/workspace/skills/peer-messaging/SKILL.md', '644'],
    ],
  );
  const config = files.files[0].content;
  assert.match(config, /- gateway URL: http:\/\/100\.64\.0\.2:18789/);
  assert.match(config, /- token file: \/home\/bob\/\.openclaw\/peer-agent\/tokens\/beta\.token/);
  assert.ok(!config.includes('beta-token-123456'), 'the token is only in its own file');
  assert.equal(files.files[1].content, 'beta-token-123456\n');
  assert.match(files.files[2].content, /^---\nname: peer-messaging\ndescription: .*\(beta\)\.\n---/);
  assert.equal(renderPeerFiles('alice-bob', 'alpha', peers, where).digest, files.digest);
  assert.notEqual(renderPeerFiles('alice-bob', 'alpha', [{ ...peers[0], ip: '100.64.0.9' }], where).digest, files.digest);
});

test('the skill goes to the workspace the config names', () => {
  const where = layout('/root/.openclaw/openclaw.json', { agents: { defaults: { workspace: '~/agent-ws' } } }, '/root');
  assert.equal(where.skillDir, '/root/agent-ws/skills/peer-messaging');
});
