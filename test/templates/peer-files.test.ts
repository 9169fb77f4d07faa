// peer-files.sh on this machine's sh: paths with spaces (and any other byte but NUL) stay whole.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
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
      OWNED_DIRS: owned,
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

  const again = runTemplate(
    'peer-files',
    { STACK: 'lab', FILES: `644 ${b64(config)} ${b64('peers: none\n')}`, OWNED_DIRS: owned, DIGEST: 'def' },
    { HOME: dir },
    false,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(parseResult(again.stdout).values, { written: '1', removed: '1' });
  assert.equal(existsSync(token), false, 'the token file of a peer no longer listed is removed');
  assert.equal(readFileSync(config, 'utf8'), 'peers: none\n');
});
