// The real Pulumi CLI for the e2e with `provider: pulumi`: the binary build-go-tools.sh built from the Go module proxy
// (the version of our @pulumi/pulumi), a Pulumi home of the lab's own with the tailscale plugin double installed the
// way a user installs a plugin from a file (`pulumi plugin install resource tailscale vX -f FILE`), and a `pulumi` on
// PATH that records each call before running the real one, so a test can tell whether a command started Pulumi at all.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tailscalePluginVersion } from '../../src/tailnet/engine.js';
import { ROOT } from '../helpers.js';

export const PULUMI_VERSION = '3.248.0';
export const pulumiBinary = (cache: string) => join(cache, 'bin', `pulumi-${PULUMI_VERSION}`, 'pulumi');

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PulumiHome {
  /** The environment a CLI run needs: PATH with the recording `pulumi` first, PULUMI_HOME, no update check, no download. */
  env: Record<string, string>;
  /** Every call of `pulumi` so far, as its argument list (the Automation API's calls included). */
  calls(): string[][];
}

/** Sets up (again) the Pulumi home under `dir`: the recording `pulumi` and the plugin double, installed with the real CLI. */
export function preparePulumiHome(dir: string, cache: string): PulumiHome {
  const real = pulumiBinary(cache);
  if (!existsSync(real)) throw new Error(`${real} is not built: run \`sudo bash test/lab/prepare.sh\``);
  const home = join(dir, 'home');
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  rmSync(dir, { recursive: true, force: true });
  for (const d of [home, bin, join(dir, 'plugin')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  // one line per call: its arguments, each base64 (no argument of ours holds a secret, but one may hold a newline)
  writeFileSync(
    join(bin, 'pulumi'),
    `#!/bin/sh\nline=\nfor a in "$@"; do line="$line $(printf '%s' "$a" | base64 -w0)"; done\necho "$line" >> ${quote(log)}\nexec ${quote(real)} "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(log, '');
  const plugin = join(dir, 'plugin', 'pulumi-resource-tailscale');
  writeFileSync(plugin, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(join(ROOT, 'dist/test/lab/tailscale-plugin.js'))} "$@"\n`);
  chmodSync(plugin, 0o755);
  const tarball = join(dir, 'pulumi-resource-tailscale.tgz');
  execFileSync('tar', ['-czf', tarball, '-C', join(dir, 'plugin'), 'pulumi-resource-tailscale']);
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    PULUMI_HOME: home,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
  execFileSync(real, ['plugin', 'install', 'resource', 'tailscale', `v${tailscalePluginVersion()}`, '-f', tarball], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return {
    env,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) =>
          l
            .trim()
            .split(' ')
            .map((a) => Buffer.from(a, 'base64').toString()),
        ),
  };
}
