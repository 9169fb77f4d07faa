// The tests' own temp folders: tempDir's are removed when the test process that made them exits (a full run used to
// leave some 430 in /tmp).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers.js';

test('a folder tempDir made, with files in it, is gone once its process exits', () => {
  const helpers = pathToFileURL(join(ROOT, 'dist/test/helpers.js')).href;
  const code = `const { tempDir } = await import('${helpers}'); const fs = await import('node:fs');
    const d = tempDir('pp-helpers-'); fs.mkdirSync(d + '/sub'); fs.writeFileSync(d + '/sub/f', 'x'); console.log(d);`;
  const dir = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }).trim();
  assert.match(dir, /pp-helpers-/);
  assert.equal(existsSync(dir), false, `${dir} is left behind`);
});
