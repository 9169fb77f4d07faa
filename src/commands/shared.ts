// Small things several commands share.
import { formatProblem } from '../errors.js';
import { stderr } from '../output/io.js';
import { checkSecrets, type SecretCheck } from '../peer-yaml/secret-check.js';
import type { Spec } from '../peer-yaml/types.js';

/**
 * Reads every env:/file: reference of the spec once (checkSecrets registers each value for redaction as it reads
 * it), and each warning (a secret file other users can read) is printed here, once per run.
 */
export function readSecretReferences(spec: Spec): SecretCheck {
  const check = checkSecrets(spec);
  for (const w of check.warnings) stderr(`warning: ${formatProblem(w)}\n`);
  return check;
}
