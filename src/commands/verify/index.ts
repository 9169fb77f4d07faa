import { EXIT } from '../../errors.js';
import { observeAll } from '../../observe/index.js';
import { renderChecks } from '../../output/checks.js';
import type { View } from '../../output/view.js';
import { loadSpec } from '../../peer-yaml/load.js';
import type { CommonOptions } from '../../program.js';
import { Transport } from '../../transport/remote.js';
import { observedEndpoints, verify } from '../../verify/index.js';
import { restrictSpec, targetSet } from '../targets.js';

interface VerifyOptions extends CommonOptions {
  message: boolean;
  acceptNewHostKeys?: boolean;
  machine?: string[];
}

export async function run(options: VerifyOptions, view: View): Promise<number> {
  const whole = loadSpec(options.file);
  const spec = restrictSpec(whole, targetSet(whole, options.machine)); // --machine: those machines and the pairs among them
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    const observed = await observeAll(spec, transport);
    const endpoints = observedEndpoints(spec, transport, observed);
    const checks = await verify(spec, endpoints, options.message);
    const ok = checks.length > 0 && checks.every((c) => c.ok);
    view.document(
      { format: 'peer-provision/verify@1', stack: spec.name, ok, checks },
      () =>
        `${renderChecks(checks)}${ok ? `\nAll ${checks.length} checks passed.\n` : `\n${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed.\n`}`,
    );
    return ok ? EXIT.ok : EXIT.failure;
  } finally {
    await transport.close();
  }
}
