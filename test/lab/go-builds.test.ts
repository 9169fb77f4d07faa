/**
 * Waiting for the lab's Go builds that `prepare.sh --go-in-background` leaves running (test/lab/go-builds.ts). The
 * builds themselves take minutes: here a builder script stands in for build-go-tools.sh (same name, same contract: its
 * pid in <cache>/.go-builds.pid as it starts, `.built` beside a program once it is complete). The real script's side
 * of that contract is checked on its own, on a cache where everything is built.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../helpers.js';

const GO_BUILDS = pathToFileURL(join(ROOT, 'dist/test/lab/go-builds.js')).href;
const binary = (cache: string, tool: string) => join(cache, 'bin', `${tool}-1.0.0`, tool);

/** Starts a builder named build-go-tools.sh that "builds" tool after ms (or fails, logging why). */
function startBuilder(cache: string, tool: string, ms: number, fail = false): void {
  const dir = tempDir('pp-go-builder-');
  const script = join(dir, 'build-go-tools.sh');
  const out = join(cache, 'bin', `${tool}-1.0.0`);
  writeFileSync(
    script,
    `echo "$$" > '${cache}/.go-builds.pid'\nsleep ${ms / 1000}\n` +
      (fail
        ? `mkdir -p '${cache}/go' && echo "compile: something broke in ${tool}" > '${cache}/go/build-${tool}.log'\nexit 1\n`
        : `mkdir -p '${out}' && touch '${out}/${tool}' '${out}/.built'\n`),
  );
  spawn('bash', [script], { stdio: 'ignore', detached: true }).unref();
}

/** goBuilt(binaries) in a process of its own with this cache: how long it took, and what it threw. */
function waitFor(cache: string, binaries: string[]): Promise<{ ms: number; error: string }> {
  const code = `const t = Date.now(); import('${GO_BUILDS}').then((m) => m.goBuilt(${JSON.stringify(binaries)}))
    .then(() => console.log(JSON.stringify({ ms: Date.now() - t, error: '' })), (e) => console.log(JSON.stringify({ ms: Date.now() - t, error: e.message })))`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, PEER_LAB_CACHE: cache } }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    ),
  );
}

/**
 * A stand-in for the Go toolchain, first on PATH in the returned env (with PEER_LAB_CACHE=cache): each call runs the
 * shell in `before` and `after` (`$log` is the log file), and a build (after `buildSeconds`) writes its -o file.
 */
function fakeGo(cache: string, notes: { before: string; after?: string; buildSeconds?: number }): { env: NodeJS.ProcessEnv; log: string } {
  const bin = tempDir('pp-fake-go-');
  const log = join(bin, 'go.log');
  writeFileSync(
    join(bin, 'go'),
    `#!/bin/sh\nlog='${log}'\n${notes.before}\n` +
      `if [ "$1" = build ]; then sleep ${notes.buildSeconds ?? 0}; while [ $# -gt 0 ]; do [ "$1" = -o ] && mkdir -p "$(dirname "$2")" && : > "$2"; shift; done; fi\n` +
      `${notes.after ?? ''}\n`,
    { mode: 0o755 },
  );
  return { env: { ...process.env, PEER_LAB_CACHE: cache, PATH: `${bin}:${process.env.PATH}` }, log };
}

describe('waiting for the lab Go builds left running in the background', () => {
  it('waits while the builder runs and the program is not built, then goes on', async () => {
    const cache = tempDir();
    startBuilder(cache, 'tailscale', 2500);
    await new Promise((r) => setTimeout(r, 300)); // (the builder has written its pid)
    const r = await waitFor(cache, [binary(cache, 'tailscale')]);
    assert.equal(r.error, '');
    assert.ok(r.ms >= 1500, `it waited for the build (${r.ms} ms)`);
    assert.ok(existsSync(join(cache, 'bin', 'tailscale-1.0.0', '.built')));
  });

  it('a builder that exits without the program is a failed build, named with the end of its log', async () => {
    const cache = tempDir();
    startBuilder(cache, 'pulumi', 1000, true);
    await new Promise((r) => setTimeout(r, 300));
    const r = await waitFor(cache, [binary(cache, 'pulumi')]);
    assert.match(r.error, /the lab's Go builds failed/);
    assert.match(r.error, /pulumi-1\.0\.0\/pulumi was not built/);
    assert.match(r.error, /compile: something broke in pulumi/);
  });

  it('returns at once where no build was started, or the programs are built', async () => {
    const none = tempDir();
    assert.deepEqual((await waitFor(none, [binary(none, 'headscale')])).error, '', 'the lab status names what is missing, not this');
    const built = tempDir();
    startBuilder(built, 'headscale', 0);
    await new Promise((r) => setTimeout(r, 500));
    const r = await waitFor(built, [binary(built, 'headscale')]);
    assert.equal(r.error, '');
    assert.ok(r.ms < 1500, `${r.ms} ms`);
  });

  it('the real build-go-tools.sh writes its pid as it starts (here, on a cache where everything is built)', async () => {
    const cache = tempDir();
    const versions = { tailscale: '1.102.5', headscale: '0.29.2', pulumi: '3.248.0' };
    for (const [tool, version] of Object.entries(versions)) {
      mkdirSync(join(cache, 'bin', `${tool}-${version}`), { recursive: true });
      writeFileSync(join(cache, 'bin', `${tool}-${version}`, '.built'), '');
    }
    const env = { ...process.env, PEER_LAB_CACHE: cache, PATH: `${process.env.PATH}:/usr/local/go/bin` };
    const pid = await new Promise<number>((resolve, reject) => {
      const child = spawn('bash', [join(ROOT, 'test/lab/build-go-tools.sh')], { env, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(child.pid ?? 0) : reject(new Error(`build-go-tools.sh exited ${code}`))));
    });
    assert.equal(readFileSync(join(cache, '.go-builds.pid'), 'utf8').trim(), String(pid));
  });

  it('the real build-go-tools.sh builds in the order the tests need: tailscale, then headscale from the same module, then the Pulumi CLI (its sources fetched meanwhile)', async () => {
    const cache = tempDir();
    // notes each call as it starts and ends (with the folder it ran in); a build takes a second
    const { env, log } = fakeGo(cache, { before: 'args="$* @$PWD"; echo "start $args" >> "$log"', after: 'echo "end $args" >> "$log"', buildSeconds: 1 });
    const out = await new Promise<string>((resolve, reject) =>
      execFile('bash', [join(ROOT, 'test/lab/build-go-tools.sh')], { env }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    for (const tool of ['tailscale', 'headscale', 'pulumi']) assert.match(out, new RegExp(`${tool} ready`), out);
    const lines = readFileSync(log, 'utf8').split('\n');
    const at = (pattern: RegExp) => {
      const i = lines.findIndex((l) => pattern.test(l));
      assert.ok(i >= 0, `${pattern} in\n${lines.join('\n')}`);
      return i;
    };
    const lastLabBuildEnds = Math.max(at(/^end build .*cmd\/tailscaled /), at(/^end build .*cmd\/headscale /));
    assert.ok(at(/^start build .*cmd\/pulumi /) > lastLabBuildEnds, "the Pulumi CLI compiles after the lab's two programs are built");
    assert.ok(at(/^start mod tidy .*pulumi-/) < lastLabBuildEnds, 'its sources are fetched while they build');
    assert.ok(at(/^start build .*cmd\/headscale /) > at(/^end build .*cmd\/tailscaled /), 'headscale builds once tailscale is built');
    // one module for the two (what they share compiles once), tailscaled pinned to its own module graph's versions
    const folder = (pattern: RegExp) => lines[at(pattern)].replace(/.* @/, '');
    assert.equal(folder(/^start build .*cmd\/headscale /), folder(/^start build .*cmd\/tailscaled /));
    assert.match(folder(/^start build .*cmd\/tailscaled /), /\/go\/src\/lab-tailscale-1\.102\.5-headscale-0\.29\.2$/);
    assert.ok(
      at(/^start list -m .* all @.*\/go\/src\/tailscale-1\.102\.5$/) < at(/^start build .*cmd\/tailscaled /),
      "tailscaled's own module graph is read first",
    );
    assert.ok(existsSync(join(cache, 'bin', 'pulumi-3.248.0', '.built')));
  });

  // --background (prepare.sh --go-in-background): nice 19 alone did not yield the CPU to the tests, since the kernel shares
  // it between sessions' autogroups first; the script's own autogroup goes to nice 19 too, and never its caller's.
  // A process in the root group (never in a session of its own, as CI's runner under its PID 1) reads an empty
  // /proc/PID/autogroup: CI failed twice on a check that took "" for a group name. Groups are compared as whole fields.
  const autogroup = (pid: number | string) => readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();
  const noAutogroup = existsSync('/proc/self/autogroup') ? false : 'this kernel has no autogroup scheduling';
  const logged = (log: string) =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const m = line.match(/^(\S+) nice=(-?\d+) group=\[(.*)\]$/);
        assert.ok(m, `a line of the stand-in Go's log: ${JSON.stringify(line)}`);
        return { line, nice: Number(m[2]), group: m[3] };
      });
  it('(the log the stand-in Go writes is read field by field: a root-group caller logs an empty group)', () => {
    const log = join(tempDir(), 'go.log');
    writeFileSync(log, 'mod nice=19 group=[]\nbuild nice=19 group=[/autogroup-12 nice 0]\n');
    assert.deepEqual(
      logged(log).map(({ nice, group }) => [nice, group]),
      [
        [19, ''],
        [19, '/autogroup-12 nice 0'],
      ],
    );
  });
  it("the real build-go-tools.sh --background: nice 19 and, leading a session of its own, its autogroup too; not its caller's", {
    skip: noAutogroup,
  }, async () => {
    const cache = tempDir();
    // notes the priority each call runs at
    const { env, log } = fakeGo(cache, { before: 'echo "$1 nice=$(ps -o ni= -p $$ | tr -d \' \') group=[$(cat /proc/$$/autogroup)]" >> "$log"' });
    const build = (detached: boolean) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('bash', [join(ROOT, 'test/lab/build-go-tools.sh'), '--background', 'headscale'], { env, stdio: 'ignore', detached });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build-go-tools.sh exited ${code}`))));
      });
    const mine = autogroup(process.pid); // "" in the root group
    const groupName = (group: string) => group.replace(/ nice -?\d+$/, '');

    await build(true); // (detached: a session of its own, as prepare.sh's setsid gives it)
    const shown = (entries: { line: string }[]) => `${entries.map((l) => l.line).join('\n')}\nthe caller's: [${mine}]`;
    const own = logged(log);
    assert.ok(own.length > 0 && own.every((l) => l.nice === 19 && /^\/autogroup-\d+ nice 19$/.test(l.group)), shown(own));
    assert.ok(
      own.every((l) => groupName(l.group) !== groupName(mine)),
      `in an autogroup of its own:\n${shown(own)}`,
    );

    rmSync(cache, { recursive: true, force: true });
    writeFileSync(log, '');
    await build(false); // in the caller's session: nice 19, the caller's autogroup left as it was
    const shared = logged(log);
    assert.ok(shared.length > 0 && shared.every((l) => l.nice === 19 && l.group === mine), shown(shared));
    assert.equal(autogroup(process.pid), mine);
  });
});
