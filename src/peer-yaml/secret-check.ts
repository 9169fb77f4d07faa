// Every env:/file: reference of a spec, checked before anything is touched: the file is a small regular
// file (not /dev/zero, a FIFO or a folder), the value is there, and it is usable (a gateway token meets the
// token rule; any other secret is long enough to be one). Problems point at the reference in peer.yaml.
// The sshConfig file is checked the same way (ssh would read /dev/zero or a FIFO forever).
import type { Problem } from '../errors.js';
import { passedToChildren } from '../model/child-env.js';
import { registerSecret } from '../model/redact.js';
import { problemAt } from './load.js';
import { FileRefused, MiB, readRegularFile } from './read-file.js';
import { MAX_SECRET_FILE_BYTES } from './secrets.js';
import { tokenProblem } from './token-rule.js';
import type { SecretRef, Spec } from './types.js';

/** Shorter values are no secret worth the name, and redacting them by value would blank ordinary words. */
export const MIN_SECRET_LENGTH = 8;

export interface SecretCheck {
  /** Present but unusable (a FIFO, too large, empty, weak, a variable passed on to children): bad input anywhere. */
  problems: Problem[];
  /**
   * Simply not on this machine (a variable unset or empty, a file that does not exist): validate lists them and
   * the file stays valid (a PR check, a laptop); plan and up refuse before connecting.
   */
  missing: Problem[];
  /** Usable, but worth fixing: a secret file other users can read. */
  warnings: Problem[];
}

interface Reference {
  path: (string | number)[];
  ref: SecretRef;
  isToken: boolean;
}

function references(spec: Spec): Reference[] {
  const refs: Reference[] = [];
  const add = (path: (string | number)[], ref: SecretRef | undefined, isToken = false) => {
    if (ref && ref.kind !== 'generate') refs.push({ path, ref, isToken });
  };
  for (const m of spec.machines) {
    add(['machines', m.name, 'gateway', 'token'], m.gateway.token, true);
    if (spec.tailnet.provider === 'provided') add(['machines', m.name, 'tailscale', 'authKey'], m.tailscale.authKey);
  }
  if (spec.tailnet.provider === 'pulumi') {
    for (const [key, ref] of Object.entries(spec.tailnet.credentials ?? {})) add(['tailnet', 'credentials', key], ref);
  }
  return refs;
}

/** Every reference read once: what is unusable, what is missing, what to warn about; each usable value is registered. */
export function checkSecrets(spec: Spec, env: NodeJS.ProcessEnv = process.env): SecretCheck {
  const result: SecretCheck = { problems: [], missing: [], warnings: [] };
  if (spec.sshConfig) {
    try {
      readRegularFile(spec.sshConfig, MiB);
    } catch (error) {
      if (!(error instanceof FileRefused)) throw error;
      result.problems.push(problemAt(spec, ['sshConfig'], `file ${spec.sshConfig} ${error.reason}`));
    }
  }
  for (const { path, ref, isToken } of references(spec)) {
    const problem = (message: string) => result.problems.push(problemAt(spec, path, message));
    const missing = (message: string) => result.missing.push(problemAt(spec, path, message));
    let value: string | undefined;
    if (ref.kind === 'env') {
      if (passedToChildren(ref.name)) {
        problem(
          `env:${ref.name} names a variable peer-provision passes on to ssh and the machines' commands (ssh's SendEnv ships LC_* to every machine): keep the secret in a variable of its own, say PP_${ref.name.replace(/^LC_/, '')}`,
        );
        continue;
      }
      value = env[ref.name]?.trim();
      if (!value) {
        missing(`environment variable ${ref.name} is not set (or empty)`);
        continue;
      }
    } else if (ref.kind === 'file') {
      try {
        const file = readRegularFile(ref.path, MAX_SECRET_FILE_BYTES);
        value = file.text.trim();
        if (file.mode & 0o077) {
          const mode = file.mode.toString(8).padStart(4, '0');
          result.warnings.push(problemAt(spec, path, `file ${ref.path} can be read by other users (mode ${mode}): chmod 600 ${ref.path}`));
        }
      } catch (error) {
        if (!(error instanceof FileRefused)) throw error;
        const hint = error.code === 'ENOENT' && ref.path.includes('$') ? ' (peer.yaml expands no $VARIABLES: use ~/ or a path relative to peer.yaml)' : '';
        (error.code === 'ENOENT' ? missing : problem)(`file ${ref.path} ${error.reason}${hint}`);
        continue;
      }
      if (!value) {
        problem(`file ${ref.path} is empty`);
        continue;
      }
    } else continue;
    const where = ref.kind === 'env' ? `environment variable ${ref.name}` : `the content of file ${ref.path}`;
    const bad = isToken ? tokenProblem(value) : otherSecretProblem(value);
    if (bad) problem(`${where} ${bad}`);
    else registerSecret(value); // a usable value, registered as it is read (a short one would blank ordinary words)
  }
  return result;
}

function otherSecretProblem(value: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\x00-\x1f\x7f]/.test(value)) return 'holds line breaks or control characters: give one value on one line';
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters: too short to be a real secret`;
  return undefined;
}
