import type { CommonOptions } from '../../cli.js';
import { EXIT } from '../../errors.js';
import { observeAll } from '../../observe/index.js';
import { printJson, stdout } from '../../output/io.js';
import { loadSpec } from '../../spec/load.js';
import { Transport } from '../../transport/remote.js';
import { observedEndpoints, renderChecks, verify } from '../../verify/index.js';

interface VerifyOptions extends CommonOptions {
  message: boolean;
  acceptNewHostKeys?: boolean;
}

export async function run(options: VerifyOptions): Promise<number> {
  const spec = loadSpec(options.file);
  const transport = new Transport(spec, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    const observed = await observeAll(spec, transport);
    const endpoints = observedEndpoints(spec, transport, observed);
    const checks = await verify(spec, endpoints, options.message);
    const ok = checks.length > 0 && checks.every((c) => c.ok);
    if (options.json) printJson({ format: 'peer-provision/verify@1', stack: spec.name, ok, checks });
    else stdout(`${renderChecks(checks)}${ok ? `\nAll ${checks.length} checks passed.\n` : `\n${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed.\n`}`);
    return ok ? EXIT.ok : EXIT.failure;
  } finally {
    await transport.close();
  }
}
