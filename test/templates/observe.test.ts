// observe.sh on this machine's sh, read by the real parser: a config path and contents with quotes, tabs,
// newlines and UTF-8 come back exactly, and down's records (current and original text) too.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { forgetSecrets } from '../../src/model/redact.js';
import { parseObservation } from '../../src/observe/parse.js';
import { loadSpec } from '../../src/peer-yaml/load.js';
import { plan } from '../../src/plan/index.js';
import { ROOT, writeTemp } from '../helpers.js';
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

  const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: config, WANT_BACKUP: 1, GUARD: 0 }, { HOME: dir }, false);
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

/**
 * A gateway whose environment holds shell words: observe asks `openclaw config file` with the gateway's OPENCLAW_*
 * variables, and used to splice them unquoted into a command line, so `OPENCLAW_HOME=/x sh MARKER` ran MARKER during
 * the read-only observe (issue 19 item 7). A value with a line break must not pass for a variable of its own either.
 */
function observeWithGatewayEnv(gatewayEnv: Record<string, string>) {
  const dir = home(undefined);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const seen = join(dir, 'openclaw-env');
  // stand-ins: the gateway is a sleeping child of ours (pgrep finds it); openclaw reports the environment it got
  writeFileSync(join(bin, 'openclaw'), `#!/bin/sh\nenv | grep '^OPENCLAW_' | sort > ${seen}\necho ${join(dir, 'cfg.json')}\n`, { mode: 0o755 });
  const gateway = spawn('sleep', ['30'], { env: { PATH: '/usr/bin:/bin', ...gatewayEnv }, stdio: 'ignore' });
  writeFileSync(join(bin, 'pgrep'), `#!/bin/sh\necho ${gateway.pid}\n`, { mode: 0o755 });
  try {
    const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: '', WANT_BACKUP: 0, GUARD: 0 }, { HOME: dir, PATH: `${bin}:/usr/bin:/bin` }, false);
    assert.equal(r.code, 0, r.stderr);
    return { dir, configPath: parseObservation(r.stdout).state.gateway.configPath, openclawEnv: existsSync(seen) ? readFileSync(seen, 'utf8') : undefined };
  } finally {
    gateway.kill();
    forgetSecrets();
  }
}

test('observe.sh: a value in the gateway environment is data, never a command', () => {
  const marker = join(home(undefined), 'marker.sh');
  writeFileSync(marker, `#!/bin/sh\necho pwned > ${marker}.ran\n`, { mode: 0o755 });
  const o = observeWithGatewayEnv({ OPENCLAW_HOME: `/x sh ${marker}` });
  assert.ok(!existsSync(`${marker}.ran`), 'a word of the gateway environment ran as a command');
  assert.equal(o.openclawEnv, `OPENCLAW_HOME=/x sh ${marker}\n`, 'openclaw got the value whole');
  assert.equal(o.configPath, join(o.dir, 'cfg.json'));
});

test('observe.sh: a line break in one variable of the gateway environment does not forge another', () => {
  const o = observeWithGatewayEnv({ OPENCLAW_HOME: '/srv/oc', FORGED: 'a\nOPENCLAW_CONFIG_PATH=/etc/passwd\nOPENCLAW_PROFILE=x' });
  assert.notEqual(o.configPath, '/etc/passwd');
  assert.equal(o.openclawEnv, 'OPENCLAW_HOME=/srv/oc\n', 'only the real variable reached openclaw');
});

test('observe.sh: a backup of the original that is not JSON5 is said to be unreadable (down must not guess from it)', () => {
  forgetSecrets();
  const dir = home(undefined);
  const config = join(dir, 'openclaw.json');
  writeFileSync(config, '{ gateway: { bind: "tailnet" } }\n');
  const rec = join(dir, '.peer-provision', 'lab', 'configs', recordId(config));
  mkdirSync(rec, { recursive: true });
  writeFileSync(join(rec, 'path'), `${config}\n`);
  writeFileSync(join(rec, 'orig'), '{ gateway: { bind: "loopback" \n');
  writeFileSync(join(rec, 'applied'), '{ gateway: { bind: "tailnet", port: 1 } }\n');
  const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: config, WANT_BACKUP: 1, GUARD: 0 }, { HOME: dir }, false);
  assert.equal(r.code, 0, r.stderr);
  const [recorded] = parseObservation(r.stdout).state.recorded ?? [];
  assert.equal(recorded?.origUnreadable, true);
  forgetSecrets();
});

/**
 * Which OpenClaw is installed, found without running it: the `openclaw` on PATH is a link to its openclaw.mjs (npm's
 * global bin) or a wrapper script that execs it (the lab's); its package says the version, and dist/extensions/a2a
 * whether it ships the A2A channel peers talk through (plan blocks a machine without it).
 */
test('observe.sh: the OpenClaw package behind the openclaw command, its version, and whether it has the A2A channel', () => {
  const dir = home(undefined);
  const pkg = (name: string, version: string, a2a: boolean) => {
    const root = join(dir, name, 'node_modules', 'openclaw');
    mkdirSync(join(root, 'dist', 'extensions', a2a ? 'a2a' : 'telegram'), { recursive: true });
    writeFileSync(join(root, 'package.json'), `{\n  "name": "openclaw",\n  "version": "${version}",\n  "type": "module"\n}\n`);
    writeFileSync(join(root, 'openclaw.mjs'), '#!/usr/bin/env node\n', { mode: 0o755 });
    if (a2a) writeFileSync(join(root, 'dist', 'extensions', 'a2a', 'openclaw.plugin.json'), '{"id":"a2a"}');
    return join(root, 'openclaw.mjs');
  };
  const observeWith = (bin: string) => {
    const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: '', WANT_BACKUP: 0, GUARD: 0 }, { HOME: dir, PATH: `${bin}:/usr/bin:/bin` }, false);
    assert.equal(r.code, 0, r.stderr);
    return parseObservation(r.stdout).state.gateway;
  };
  const wrapperBin = join(dir, 'wrapper-bin');
  mkdirSync(wrapperBin);
  writeFileSync(join(wrapperBin, 'openclaw'), `#!/bin/sh\nexec /opt/node/bin/node ${pkg('new', '2026.9.6', true)} "$@"\n`, { mode: 0o755 });
  assert.deepEqual([observeWith(wrapperBin).version, observeWith(wrapperBin).a2aChannel], ['2026.9.6', true]);
  const linkBin = join(dir, 'link-bin');
  mkdirSync(linkBin);
  symlinkSync(pkg('old', '2026.1.2', false), join(linkBin, 'openclaw'));
  assert.deepEqual([observeWith(linkBin).version, observeWith(linkBin).a2aChannel], ['2026.1.2', false]);
  const none = observeWith(join(dir, 'empty-bin'));
  assert.deepEqual([none.installed, none.version, none.a2aChannel], [false, undefined, undefined], 'no OpenClaw: nothing claimed');
});

/**
 * `ssh host sh -s` reads no ~/.profile: an OpenClaw installed with nvm (or Homebrew, volta, pnpm, npm's user prefix) is
 * not on that shell's PATH. observe.sh (and every template that runs openclaw) looks where those installers put it.
 */
test('observe.sh finds an OpenClaw that nvm installed, though ssh gave no PATH to it (issue 20)', () => {
  const dir = home(undefined);
  const nvmBin = join(dir, '.nvm', 'versions', 'node', 'v24.11.0', 'bin');
  mkdirSync(nvmBin, { recursive: true });
  mkdirSync(join(dir, '.nvm', 'versions', 'node', 'v22.1.0', 'bin'), { recursive: true }); // another node, without it
  writeFileSync(join(nvmBin, 'openclaw'), '#!/bin/sh\necho "node is $(command -v node)"\n', { mode: 0o755 });
  writeFileSync(join(nvmBin, 'node'), '#!/bin/sh\n', { mode: 0o755 });
  const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: '', WANT_BACKUP: 0, GUARD: 0 }, { HOME: dir, PATH: '/usr/bin:/bin' }, false);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseObservation(r.stdout).state.gateway.installed, true);
  // and what OpenClaw runs on: its node, beside it
  const run = spawnSync('sh', ['-s'], {
    input: `${readFileSync(join(ROOT, 'templates/lib.sh'), 'utf8')}\nfind_openclaw\nopenclaw\n`,
    encoding: 'utf8',
    env: { HOME: dir, PATH: '/usr/bin:/bin' },
  });
  assert.equal(run.stdout.trim(), `node is ${join(nvmBin, 'node')}`);
});

test('observe.sh: tailscaled not running is said in the CLI words, and up and down are blocked with the way to start it (no join planned)', () => {
  forgetSecrets();
  const dir = home(undefined);
  // tailscale 1.102.5's own answer when tailscaled is stopped
  writeFileSync(
    join(dir, 'tailscale'),
    `#!/bin/sh
echo 'failed to connect to local tailscaled; it doesn'"'"'t appear to be running (sudo systemctl start tailscaled ?)' >&2
exit 1
`,
    { mode: 0o755 },
  );
  const r = runTemplate('observe', { STACK: 'lab', PORT: 1, CONFIG_PATH: '', WANT_BACKUP: 0, GUARD: 0 }, { HOME: dir, PATH: `${dir}:/usr/bin:/bin` }, false);
  assert.equal(r.code, 0, r.stderr);
  const { state } = parseObservation(r.stdout);
  assert.equal(state.tailscale.installed, true);
  assert.equal(state.tailscale.daemonError, "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)");

  const spec = loadSpec(
    writeTemp(
      'version: 1\nname: lab\ntailnet: { provider: provided }\nmachines:\n  m1: { ssh: lab-m1, tailscale: { authKey: env:K1 } }\n  m2: { ssh: lab-m2, tailscale: { authKey: env:K2 } }\n',
    ),
  );
  const machines = new Map(['m1', 'm2'].map((m) => [m, { status: 'observed' as const, state }]));
  for (const command of ['up', 'down'] as const) {
    const p = plan({ spec, command, machines, policy: { unread: 'not needed' } });
    const b = p.blockers.find((x) => x.where === 'm1' && /tailscaled is not running/.test(x.reason));
    assert.ok(b, `${command}: ${JSON.stringify(p.blockers)}`);
    assert.match(b.reason, /it doesn't appear to be running/);
    assert.match(b.fix, /sudo systemctl enable --now tailscaled/);
    assert.ok(!p.machines[0]!.actions.some((a) => a.kind === 'join'), `${command}: no join over an unknown node`);
    if (command === 'up') assert.match(p.machines[0]!.notes?.[0] ?? '', /^tailscaled is not answering: failed to connect/);
  }
});
