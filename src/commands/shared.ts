// Small things several commands share.
import type { Renderer } from '../apply/tasks.js';
import { InputError, type Problem } from '../errors.js';
import { registerSecret } from '../output/redact.js';
import type { SecretRef, Spec } from '../spec/types.js';
import { describeRef, resolveSecret } from '../spec/secrets.js';

/** Resolves every env:/file: reference up front so a missing one is reported before anything is touched. */
export function preflightSecrets(spec: Spec): void {
  const problems: Problem[] = [];
  const check = (field: string, ref: SecretRef | undefined) => {
    if (!ref || ref.kind === 'generate') return;
    try {
      registerSecret(resolveSecret(ref, field));
    } catch {
      problems.push({ file: spec.file, field, message: `${describeRef(ref)} is not set or cannot be read` });
    }
  };
  for (const m of spec.machines) {
    check(`machines.${m.name}.gateway.token`, m.gateway.token);
    if (spec.tailnet.provider === 'provided') check(`machines.${m.name}.tailscale.authKey`, m.tailscale.authKey);
  }
  if (problems.length) throw new InputError(problems);
}

/** listr2's live tree on a terminal; plain timestamped lines in CI or a pipe; nothing with --json. */
export function rendererFor(json: boolean | undefined): Renderer {
  if (json) return 'silent';
  return process.stderr.isTTY && !process.env.CI ? 'default' : 'simple';
}
