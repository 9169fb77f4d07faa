// restart.sh with peer.yaml's own restart command, on this machine's sh (issue 19 item 19): a command that starts the
// gateway in the background (`... &`) kept the session's output open, and the step waited for that process to exit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { home, runTemplate } from './run-template.js';

const restart = (command: string) =>
  runTemplate('restart', { SERVICE: 'none', RESTART_CMD: command, OLD_PID: '', PORT: 9, LISTEN_IP: '127.0.0.1', TIMEOUT: 1 }, { HOME: home(undefined) }, false);

test('restart.sh: a restart command that leaves a process in the background does not hold the step', () => {
  const started = Date.now();
  const r = restart('sleep 30 &');
  assert.ok(Date.now() - started < 10_000, `the step waited for the background process (${Date.now() - started} ms)`);
  // (nothing answers on port 9: the wait for the gateway then ends after TIMEOUT, naming what it waited for)
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the gateway did not become ready on 127\.0\.0\.1:9 within 1s/);
});

test('restart.sh: a failing restart command is named, with the end of what it printed', () => {
  const r = restart('echo starting; echo "no such unit" >&2; exit 3');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the restart command from peer\.yaml failed \(exit 3\): echo starting/);
  assert.match(r.stderr, /no such unit/);
});
