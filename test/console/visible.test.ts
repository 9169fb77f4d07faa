// issue 19 item 16: control characters from a machine (a tailnet name holding `\e[2K\r…`) reached the terminal
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paint } from '../../src/console/colour.js';
import { visible } from '../../src/console/visible.js';
import { lastLines } from '../../src/transport/remote.js';

test('control characters are shown as escapes; line breaks, tabs and the tool’s own colours stay', () => {
  assert.equal(visible('tailnet \u001b[2K\rowned\u0007 \u009b31m'), 'tailnet \\x1b[2K\\x0downed\\x07 \\x9b31m');
  assert.equal(visible('a\n\tb'), 'a\n\tb');
  const green = paint('ok', 'green', true);
  assert.equal(visible(`${green} done`), `${green} done`);
});

test("a remote command's error, as the tool quotes it, cannot move the cursor", () => {
  assert.equal(lastLines('first\nerror: \u001b[1A\u001b[2Kfaked success\n'), 'first\nerror: \\x1b[1A\\x1b[2Kfaked success');
});
