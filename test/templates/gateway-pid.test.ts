// templates/lib.sh gateway_pid on a systemd machine: the unit `openclaw gateway install` writes runs
// `node .../dist/index.js gateway`, whose process title is not openclaw-gateway (seen in the lab's systemd machines),
// so the pid comes from the unit's MainPID: the user unit first, then a system unit.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir } from '../helpers.js';

const lib = readFileSync(join(ROOT, 'templates/lib.sh'), 'utf8');

/** Runs gateway_pid with stand-ins for pgrep (finds nothing) and systemctl (MainPID of the user / system unit). */
function gatewayPid(userMainPid: string, systemMainPid: string): string {
  const bin = tempDir('pp-gwpid-');
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool('pgrep', 'exit 1');
  tool('systemctl', `case " $* " in *" --user "*) echo ${userMainPid} ;; *) echo ${systemMainPid} ;; esac`);
  return execFileSync('sh', ['-c', `${lib}\ngateway_pid`], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin } }).trim();
}

test("gateway_pid: the user unit's MainPID when no process is titled openclaw-gateway", () => {
  assert.equal(gatewayPid('4242', '0'), '4242');
});
test("gateway_pid: a system unit's MainPID when there is no user unit", () => {
  assert.equal(gatewayPid('0', '777'), '777');
});
test('gateway_pid: nothing when no unit runs', () => {
  assert.equal(gatewayPid('0', '0'), '');
});

// The lab's supervisor machines run OpenClaw on Node 24 while PATH's node is the host's Node 20: send.sh's first real
// run imported OpenClaw's gateway client with PATH's node and failed. The gateway's own binary is the one to use.
test("openclaw_node: the running gateway's own node binary, not PATH's; PATH's when there is no gateway", () => {
  const bin = tempDir('pp-ocnode-');
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'node'), 0o755);
  const gateway = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    const run = (pid: string) =>
      execFileSync('sh', ['-c', `${lib}\nopenclaw_node ${pid}`], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin } }).trim();
    assert.equal(run(String(gateway.pid)), realpathSync(process.execPath));
    assert.equal(run(''), join(bin, 'node'), 'no gateway: the node on PATH');
    assert.equal(run('999999999'), join(bin, 'node'), 'a pid that is gone: the node on PATH');
  } finally {
    gateway.kill();
  }
});
