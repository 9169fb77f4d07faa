/**
 * The lab's Go builds (tailscale, headscale, the Pulumi CLI: build-go-tools.sh) that `prepare.sh --go-in-background`
 * leaves running, as .ci/run does on a new machine: the unit tests need none of those programs and run meanwhile;
 * what needs one waits here until it is built. Where the builds are done (warm, or prepare.sh waited), this returns
 * at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE_DIR } from './lab.js';

/** build-go-tools.sh's pid, written as it starts. */
export const GO_BUILDS_PID = join(CACHE_DIR, '.go-builds.pid');

/** build-go-tools.sh writes `.built` beside a program once it is complete. */
const isBuilt = (binary: string) => existsSync(join(dirname(binary), '.built'));

function builderRunning(): boolean {
  try {
    const pid = Number(readFileSync(GO_BUILDS_PID, 'utf8').trim());
    // (a pid of a builder long gone may belong to another process by now)
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('build-go-tools.sh');
  } catch {
    return false;
  }
}

/**
 * Waits while the background builds go on and one of these programs is not built yet. A program the builder left
 * unbuilt is a failed build, named with the end of its log (where no builder was started, the lab's own status says
 * what is missing).
 */
export async function goBuilt(binaries: string[]): Promise<void> {
  const missing = () => binaries.filter((b) => !isBuilt(b));
  let told = false;
  while (missing().length && builderRunning()) {
    if (!told)
      process.stderr.write(
        `# waiting for the lab's Go builds (prepare.sh --go-in-background): ${missing()
          .map((b) => basename(b))
          .join(', ')}\n`,
      );
    told = true;
    await sleep(2000);
  }
  if (!missing().length || !existsSync(GO_BUILDS_PID)) return;
  const failed = missing().map((b) => {
    const tool = basename(dirname(b)).replace(/-[^-]*$/, ''); // bin/<tool>-<version>/<binary>
    const log = join(CACHE_DIR, 'go', `build-${tool}.log`);
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
    return `${b} was not built; the end of ${log}:\n${tail}`;
  });
  throw new Error(`the lab's Go builds failed:\n${failed.join('\n')}`);
}
