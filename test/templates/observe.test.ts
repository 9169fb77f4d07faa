// observe.sh on this machine's sh, read by the real parser: a config path and contents with quotes, tabs,
// newlines and UTF-8 come back exactly, and down's records (current and original text) too.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseObservation } from '../../src/observe/parse.js';
import { forgetSecrets } from '../../src/output/redact.js';
import { home, runTemplate } from './run-template.js';

const recordId = (path: string) => createHash('sha256').update(path).digest('hex').slice(0, 16);

test('observe.sh: hostile config path and contents, the records for down, the peer files digest', () => {
  forgetSecrets();
  const dir = home(undefined);
  const folder = join(dir, 'My "Open"\tClaw\nconfig – ü');
  const config = join(folder, 'openclaw.json');
  const text =
    '// mine: "quoted" \\ back\tslash\n{ gateway: { port: 18789, bind: "tailnet", auth: { mode: "token", token: "observed-token-0123456789abcdef" } } }\n';
  mkdirSync(folder, { recursive: true });
  writeFileSync(config, text);
  const state = join(dir, '.peer-provision', 'lab');
  const rec = join(state, 'configs', recordId(config));
  mkdirSync(rec, { recursive: true });
  writeFileSync(join(rec, 'path'), `${config}\n`);
  writeFileSync(join(rec, 'orig'), '{ gateway: { port: 18000 } }\n');
  writeFileSync(join(rec, 'applied'), text);
  writeFileSync(join(state, 'peer-files.sha256'), 'abc123\n');

  const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: config, WANT_BACKUP: 1 }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, 'one line: the result');
  const { state: s, private: p } = parseObservation(r.stdout);
  assert.equal(s.os, 'linux');
  assert.equal(s.gateway.configPath, config);
  assert.equal(s.gateway.configKind, 'file');
  assert.equal(s.gateway.configExists, true);
  assert.equal(s.gateway.backupExists, true);
  assert.equal(s.gateway.port, 18789);
  assert.equal(s.gateway.editedSinceApplied, undefined, 'the config is what peer-provision wrote: no applied text sent');
  assert.equal(p.configText, text);
  assert.equal(p.home, dir);
  assert.equal(s.peerFilesHash, 'abc123');
  assert.deepEqual(s.recorded, [
    { id: recordId(config), path: config, kind: 'file', absent: false, edited: false, appliedSame: true, origSame: false, origPort: 18000 },
  ]);
  assert.deepEqual(p.records.get(recordId(config)), { current: text, orig: '{ gateway: { port: 18000 } }\n' });
  assert.ok(p.secrets.includes('observed-token-0123456789abcdef'), 'the token read is handed back for observe to register');
  forgetSecrets();
});
