// Every template reads exactly the variables it declares (# @var NAME: why): a variable it reads is declared,
// assigned in the script or in lib.sh, or one of the few the machine's environment gives; every declared one
// is read. And every template ends its work with lib.sh's result line.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { declaredVars } from '../../src/transport/script.js';
import { ROOT } from '../helpers.js';
import { shellNames } from './shell-words.js';

/** What the remote machine's own environment gives (ssh's session or the local shell), not peer-provision. */
const ENVIRONMENT = new Set(['HOME', 'TMPDIR', 'XDG_RUNTIME_DIR', 'SSH_CONNECTION']);
const TEMPLATES = join(ROOT, 'templates');
const templates = readdirSync(TEMPLATES)
  .filter((f) => f.endsWith('.sh') && f !== 'lib.sh')
  .map((f) => f.slice(0, -3));
const lib = shellNames(readFileSync(join(TEMPLATES, 'lib.sh'), 'utf8'));

test('the reader finds reads and assignments, and skips comments, single quotes and escapes', () => {
  const names = shellNames(
    `# $IN_COMMENT\nA=1; read -r B C; for D in x; do :; done\necho "$E \${F:-x} \\$ESCAPED $(printf '%s $SQ' "$G")" '$SQ2'\nawk '{print $NF}' x # $TRAILING\n[ $((H + 1)) ]`,
  );
  assert.deepEqual([...names.reads].sort(), ['E', 'F', 'G', 'H']);
  assert.deepEqual([...names.assigns].sort(), ['A', 'B', 'C', 'D']);
  const heredoc = shellNames(`cat > f <<'END' && echo "$AFTER"\nconst x = \`\${NOT_SHELL}\`;\nEND\necho "$LAST"`);
  assert.deepEqual([...heredoc.reads].sort(), ['AFTER', 'LAST'], "a quoted here-document's body is not shell");
});

test('lib.sh declares nothing and reads only what it assigns or the environment gives', () => {
  assert.equal(declaredVars('lib').size, 0);
  for (const name of lib.reads) assert.ok(lib.assigns.has(name) || ENVIRONMENT.has(name), `lib.sh reads $${name}`);
});

for (const name of templates) {
  test(`${name}.sh reads exactly the variables it declares`, () => {
    const text = readFileSync(join(TEMPLATES, `${name}.sh`), 'utf8');
    const declared = declaredVars(name);
    const { reads, assigns } = shellNames(text);
    assert.ok(declared.size > 0, 'declares its variables with # @var');
    assert.doesNotMatch(text, /^# Vars:/m, 'the free-form Vars: comment is gone');
    for (const v of reads) {
      assert.ok(declared.has(v) || assigns.has(v) || lib.assigns.has(v) || ENVIRONMENT.has(v), `reads $${v}, which is not declared`);
    }
    for (const v of declared.keys()) assert.ok(reads.has(v), `declares ${v} but never reads it`);
    for (const v of declared.keys()) assert.ok(!ENVIRONMENT.has(v) && !assigns.has(v), `${v} is declared and also set here or by the environment`);
    assert.match(text, /^\s*(?:.*&& )?.*\bresult (?:true|false) /m, 'answers with lib.sh result');
  });
}
