// Shell completion of machine names (from the peer.yaml -f names, through the hidden __complete-machines) and of the
// tailnet subcommands: bash's completion function run for real (COMP_WORDS/COMP_CWORD set, COMPREPLY read), with
// a `peer-provision` on PATH that is this build; zsh's script is bash's through bashcompinit; fish's is read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { CLI, runCli, tempDir, writeTemp } from '../helpers.js';

const YAML =
  'version: 1\nname: x\ntailnet: {provider: provided}\nmachines:\n  laptop: {ssh: local, tailscale: {authKey: env:K}}\n  server: {ssh: me@host, tailscale: {authKey: env:K}}\n  nas: {ssh: nas, tailscale: {authKey: env:K}}\n';

describe('completion: machine names and tailnet subcommands', () => {
  const dir = tempDir('pp-completion-');
  const bin = join(dir, 'bin');
  const work = join(dir, 'work');
  let script = '';
  before(async () => {
    mkdirSync(bin);
    mkdirSync(work);
    writeFileSync(join(bin, 'peer-provision'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
    chmodSync(join(bin, 'peer-provision'), 0o755);
    writeFileSync(join(work, 'peer.yaml'), YAML);
    writeFileSync(join(work, 'other.yaml'), YAML.replace('nas:', 'backup:'));
    script = (await runCli(['completion', 'bash'])).stdout;
  });
  const complete = (line: string) =>
    new Promise<string>((done, fail) => {
      const words = line.split(' ');
      const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _peer_provision; printf '%s\\n' "\${COMPREPLY[@]}"`;
      execFile('bash', ['-c', program], { cwd: work, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: dir } }, (error, stdout) =>
        error ? fail(error) : done(stdout.trim().split('\n').sort().join(' ')),
      );
    });

  test('after --machine/-m: the machines of ./peer.yaml, or of the file -f names (~/ too); none for init or without a file', async () => {
    assert.equal(await complete('peer-provision up --machine '), 'laptop nas server');
    assert.equal(await complete('peer-provision plan -m s'), 'server');
    assert.equal(await complete('peer-provision status -f other.yaml --machine '), 'backup laptop server');
    assert.equal(await complete('peer-provision verify --file=other.yaml -m b'), 'backup');
    writeFileSync(join(dir, 'home.yaml'), YAML.replace('nas:', 'attic:'));
    assert.equal(await complete('peer-provision down -f ~/home.yaml -m a'), 'attic');
    assert.equal(await complete('peer-provision status -f missing.yaml --machine '), '');
    assert.equal(await complete('peer-provision init --machine '), '--file --help --machine --name --provider -f -m', "init's --machine is NAME=TARGET");
  });

  test('send: machines as PEER (until it is given) and after --from', async () => {
    assert.equal(await complete('peer-provision send '), 'laptop nas server');
    assert.equal(await complete('peer-provision send --from laptop s'), 'server');
    assert.equal(await complete('peer-provision send -f other.yaml --from '), 'backup laptop server');
    assert.match(await complete('peer-provision send nas --'), /--from/);
    assert.equal(await complete('peer-provision pe'), 'peers');
    assert.match(await complete('peer-provision peers --'), /--check/);
  });

  test('tailnet: its subcommands, then their options', async () => {
    assert.equal(await complete('peer-provision tailnet '), '--help init');
    assert.equal(await complete('peer-provision tailnet init --w'), '--write');
    assert.equal(await complete('peer-provision t'), 'tailnet');
  });

  test('__complete-machines: the names, one a line; nothing and exit 0 on any error; not in --help', async () => {
    const file = writeTemp(YAML);
    assert.deepEqual(await runCli(['__complete-machines', '-f', file]), { code: 0, stdout: 'laptop\nserver\nnas\n', stderr: '' });
    for (const args of [
      ['-f', '/nonexistent.yaml'],
      ['-f', writeTemp('version: 1\nmachines: [')],
      ['--bogus', '-f'],
      ['-f', dir],
    ])
      assert.deepEqual(await runCli(['__complete-machines', ...args], { cwd: dir }), { code: 0, stdout: '', stderr: '' }, args.join(' '));
    assert.ok(!(await runCli(['--help'])).stdout.includes('__complete'));
  });

  test('zsh runs the same function; fish completes machines, tailnet init apart from init', async () => {
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    assert.ok(zsh.includes('_peer_provision_machines()') && zsh.includes("'up:--machine'"));
    const fish = (await runCli(['completion', 'fish'])).stdout;
    assert.match(fish, /^function __peer_provision_machines$/m);
    assert.match(fish, /complete -c peer-provision -n '__fish_seen_subcommand_from up' -l machine -s m -x -a '\(__peer_provision_machines\)'/);
    assert.match(fish, /complete -c peer-provision -n '__fish_seen_subcommand_from send' -l from -x -a '\(__peer_provision_machines\)'/);
    assert.match(fish, /-n '__fish_seen_subcommand_from send; and __peer_provision_no_argument --file -f --from' -a '\(__peer_provision_machines\)'/);
    assert.match(fish, /-n '__fish_seen_subcommand_from tailnet; and not __fish_seen_subcommand_from init' -a init/);
    assert.match(fish, /-n '__fish_seen_subcommand_from tailnet; and __fish_seen_subcommand_from init' -l write/);
    assert.match(fish, /-n '__fish_seen_subcommand_from init; and not __fish_seen_subcommand_from tailnet' -l provider/);
    assert.ok(!/-n '__fish_seen_subcommand_from init' -l machine .*__peer_provision_machines/.test(fish), "init's --machine is NAME=TARGET");
  });
});
