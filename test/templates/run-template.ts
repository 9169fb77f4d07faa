// Runs one of templates/*.sh with the system sh, as the tool sends it (variables, lib.sh, the template on
// stdin), on this machine, in a HOME of its own. As an unprivileged user where permissions matter (root
// writes anywhere, so a read-only folder is a fault only for someone else).
import { spawnSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { script, type Vars } from '../../src/transport/script.js';
import { tempDir } from '../helpers.js';

export const NOBODY = 65534;
export const canDropPrivileges = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;

export function home(owner = canDropPrivileges ? NOBODY : undefined): string {
  const dir = tempDir('pp-template-');
  if (owner !== undefined) chownSync(dir, owner, owner);
  return dir;
}

export function runTemplate(name: string, vars: Vars, env: { HOME: string; PATH?: string }, asNobody = canDropPrivileges) {
  const argv = asNobody ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-s'] : ['sh', '-s'];
  const r = spawnSync(argv[0], argv.slice(1), {
    input: script(name, vars),
    encoding: 'utf8',
    env: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: env.HOME, LC_ALL: 'C' },
    cwd: env.HOME,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
