// Small things several commands share.
import { formatProblem, InputError } from '../errors.js';
import { stderr } from '../output/io.js';
import { registerSecret } from '../output/redact.js';
import { checkSecrets } from '../peer-yaml/secret-check.js';
import type { Spec } from '../peer-yaml/types.js';

/**
 * Resolves every env:/file: reference up front so a missing, unreadable or unusable one (a token outside
 * the token rule, /dev/zero as a file) is reported, FILE:LINE:COL at the reference, before anything is
 * touched. Every value is registered for redaction the moment it is read.
 */
export function preflightSecrets(spec: Spec): void {
  const { problems, warnings, values } = checkSecrets(spec, { requireEnv: true });
  for (const value of values) registerSecret(value);
  if (problems.length) throw new InputError(problems);
  for (const w of warnings) stderr(`warning: ${formatProblem(w)}\n`);
}

/**
 * validate's part: every file: reference (missing, a folder, /dev/zero, empty, too big, other users can
 * read it: a warning) and every env: reference that is set, at FILE:LINE:COL. Unset variables are not a
 * problem here: CI validates without the secrets.
 */
export function validateSecretReferences(spec: Spec): void {
  const { problems, warnings } = checkSecrets(spec, { requireEnv: false });
  if (problems.length) throw new InputError(problems);
  for (const w of warnings) stderr(`warning: ${formatProblem(w)}\n`);
}
