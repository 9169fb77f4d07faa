// peer-files.sh on this machine's sh: paths with spaces (and any other byte but NUL) stay whole.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseResult } from '../../src/transport/result.js';
import { home, runTemplate } from './run-template.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('peer files land at paths with spaces and newlines, with their modes; files no longer written go', () => {
  const dir = home(undefined);
  const owned = join(dir, 'My Agent', 'peer-agent');
  const token = join(owned, 'tokens', 'beta\nagent.token');
  const config = join(owned, 'peer config.md');
  const r = runTemplate(
    'peer-files',
    {
      STACK: 'lab',
      FILES: [`600 ${b64(token)} ${b64('t0ken-value\n')}`, `644 ${b64(config)} ${b64('peers: beta\n')}`].join('\n'),
      DIGEST: 'abc',
    },
    { HOME: dir },
    false,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseResult(r.stdout), { changed: true, values: { written: '2', removed: '0' }, message: '' });
  assert.equal(readFileSync(token, 'utf8'), 't0ken-value\n');
  assert.equal(statSync(token).mode & 0o777, 0o600);
  assert.equal(readFileSync(config, 'utf8'), 'peers: beta\n');
  assert.equal(readFileSync(join(dir, '.peer-provision', 'lab', 'peer-files.sha256'), 'utf8'), 'abc\n');

  const again = runTemplate('peer-files', { STACK: 'lab', FILES: `644 ${b64(config)} ${b64('peers: none\n')}`, DIGEST: 'def' }, { HOME: dir }, false);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(parseResult(again.stdout).values, { written: '1', removed: '1' });
  assert.equal(existsSync(token), false, 'the token file of a peer no longer listed is removed');
  assert.equal(readFileSync(config, 'utf8'), 'peers: none\n');
});

// issue 19 item 4: up overwrote a skill of the user's at the skill's path, and down removed whole folders
test('a file peer-provision did not write is never overwritten; the folders it creates are recorded, and only those', () => {
  const dir = home(undefined);
  const skill = join(dir, 'ws', 'skills', 'peer-messaging', 'SKILL.md');
  mkdirSync(join(dir, 'ws', 'skills', 'peer-messaging'), { recursive: true });
  writeFileSync(skill, 'my own skill\n');
  const vars = { STACK: 'lab', FILES: `644 ${b64(skill)} ${b64('ours\n')}`, DIGEST: 'abc' };
  const refused = runTemplate('peer-files', vars, { HOME: dir }, false);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /SKILL\.md is there already and peer-provision did not write it/);
  assert.equal(readFileSync(skill, 'utf8'), 'my own skill\n', 'untouched');

  const config = join(dir, 'oc', 'peer-agent', 'peer-config.md');
  mkdirSync(join(dir, 'oc'));
  const r = runTemplate('peer-files', { STACK: 'lab', FILES: `644 ${b64(config)} ${b64('peers\n')}`, DIGEST: 'abc' }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  const created = readFileSync(join(dir, '.peer-provision', 'lab', 'created-dirs'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => Buffer.from(l, 'base64').toString());
  assert.deepEqual(created, [join(dir, 'oc', 'peer-agent')], 'the folder it made, not the one that was there');
  const again = runTemplate('peer-files', { STACK: 'lab', FILES: `644 ${b64(config)} ${b64('peers 2\n')}`, DIGEST: 'def' }, { HOME: dir }, false);
  assert.equal(again.code, 0, 'its own file is rewritten');
});
