// init's questions in a real terminal (tmux), as gh asks its own: a wrong answer is said in one line and the same
// question comes again, the answers before it kept (a wrong machine answer used to lose every answer, at the end);
// an existing peer.yaml is refused before the first question; Ctrl-C at any question is exit 130, quietly.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSpec } from '../src/peer-yaml/load.js';
import { tempDir } from './helpers.js';
import { TMUX_MISSING, TmuxTerminal } from './tmux.js';

const skip = TMUX_MISSING ?? false;
const PROVIDER = /Tailscale keys: .* \[pulumi\]:$/;
/** The question asked again right below the one-line reason. */
const askedAgain = (reason: string, question: string) => new RegExp(`\\n✗ ${reason}\\n${question}:$`);
const quiet = (screen: string) => assert.doesNotMatch(screen, /AbortError|unexpected error|\n\s+at /, screen);

async function inTmux(args: string[], cwd: string, session: (t: TmuxTerminal) => Promise<void>): Promise<void> {
  const terminal = TmuxTerminal.start(args, { cwd, columns: 100, rows: 40 });
  try {
    await session(terminal);
  } finally {
    terminal.close();
  }
}

test('init on a terminal: each wrong answer is said and asked again, the earlier answers kept, the file holds the corrected ones', { skip }, async () => {
  const dir = tempDir('pp-init-');
  await inTmux(['init'], dir, async (t) => {
    await t.waitFor(/machine 1:$/);
    t.type('laptop=local');
    await t.waitFor(/machine 2:$/);
    t.type('server=me@host:99999');
    await t.waitFor(askedAgain('machines\\.server\\.ssh: port 99999 is not between 1 and 65535', 'machine 2'));
    t.type('Web_1=web');
    await t.waitFor(askedAgain('machine name "Web_1": a machine name is lowercase letters, digits and dashes.*', 'machine 2'));
    t.type('server=me@host:2222');
    await t.waitFor(/machine 3:$/);
    t.type('box=me@host:2222');
    await t.waitFor(askedAgain(`machines\\.box\\.ssh: ssh target "me@host:2222" is already machine server's: two entries would be one machine.*`, 'machine 3'));
    t.type('pc=local');
    await t.waitFor(askedAgain('machines\\.pc\\.ssh: only one machine can be local \\(already: laptop\\)', 'machine 3'));
    t.type('server=other');
    await t.waitFor(askedAgain("machine name server is already machine 2's: each machine has a name of its own", 'machine 3'));
    t.type('');
    await t.waitFor(PROVIDER);
    t.type('terraform');
    await t.waitFor(new RegExp(`\\n✗ provider "terraform": expected pulumi or provided\\n${PROVIDER.source}`));
    t.type('provided');
    assert.equal(await t.exitCode(), 0, t.screen());
    const screen = t.screen();
    assert.match(screen, /\nWrote peer\.yaml: stack pp-init-\S+, 2 machines \(laptop=local, server=me@host:2222\), provider provided\.\n/);
    assert.equal(screen.match(/machine 1:/g)?.length, 1, 'the first answer was kept, never asked again');
    quiet(screen);
  });
  const spec = loadSpec(join(dir, 'peer.yaml'));
  assert.deepEqual(
    spec.machines.map((m) => [m.name, m.ssh.kind === 'local' ? 'local' : `${m.ssh.destination}:${m.ssh.port}`]),
    [
      ['laptop', 'local'],
      ['server', 'me@host:2222'],
    ],
  );
  assert.equal(spec.tailnet.provider, 'provided');
});

test('init on a terminal: Ctrl-C after a refused answer is exit 130, one line, no stack, nothing written', { skip }, async () => {
  const dir = tempDir('pp-init-');
  await inTmux(['init'], dir, async (t) => {
    await t.waitFor(/machine 1:$/);
    t.type('a');
    await t.waitFor(askedAgain('"a": expected NAME=TARGET, e\\.g\\. laptop=local or server=me@host:2222', 'machine 1'));
    t.keys('C-c');
    assert.equal(await t.exitCode(), 130, t.screen());
    const screen = t.screen();
    assert.match(screen, /\nInterrupted at the question: nothing was changed\.$/);
    quiet(screen);
  });
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
});

test('init on a terminal: an existing peer.yaml is refused before the first question (exit 2)', { skip }, async () => {
  const dir = tempDir('pp-init-');
  writeFileSync(join(dir, 'peer.yaml'), 'mine\n');
  await inTmux(['init'], dir, async (t) => {
    assert.equal(await t.exitCode(), 2, t.screen());
    const screen = t.screen();
    assert.match(screen, /^peer\.yaml already exists: init never overwrites it\nhint: edit it, or pass -f NEW_PATH/);
    assert.doesNotMatch(screen, /machine 1:/, 'nothing was asked');
  });
  await inTmux(['init', '-f', 'missing/peer.yaml'], dir, async (t) => {
    assert.equal(await t.exitCode(), 2, t.screen());
    assert.match(t.screen(), /^missing: no such folder: init cannot write peer\.yaml there\n/);
  });
});
