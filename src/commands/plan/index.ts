import type { CommonOptions } from '../../cli.js';
import { EXIT } from '../../errors.js';
import { prepareDown } from '../../apply/down.js';
import { prepareUp } from '../../apply/prepare.js';
import { planTailnetForUp } from '../../apply/tailnet.js';
import { printJson, stdout } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import { plan } from '../../plan/index.js';
import { offlineTailnetActions } from '../../plan/tailnet.js';
import { blockers, isEmpty, type Plan } from '../../plan/types.js';
import { loadSpec } from '../../spec/load.js';
import type { Spec } from '../../spec/types.js';
import { Transport } from '../../transport/remote.js';

interface PlanOptions extends CommonOptions {
  offline?: boolean;
  detailedExitcode?: boolean;
  for: 'up' | 'down';
  acceptNewHostKeys?: boolean;
}

export async function run(options: PlanOptions): Promise<number> {
  const spec = loadSpec(options.file);
  const result = options.offline
    ? plan({ spec, command: options.for, machines: new Map(), tailnet: offlineTailnetActions(spec, options.for) })
    : await observedPlan(spec, options.for, Boolean(options.acceptNewHostKeys));
  if (options.json) printJson(result);
  else stdout(renderPlan(result));
  if (blockers(result).length > 0) return EXIT.failure; // up would refuse: a CI gate must not pass
  return options.detailedExitcode && !isEmpty(result) ? EXIT.changesPending : EXIT.ok;
}

/** Reads every machine (read-only) and, for pulumi with acl merge, the tailnet policy. Writes nothing. */
async function observedPlan(spec: Spec, command: 'up' | 'down', acceptNewHostKeys: boolean): Promise<Plan> {
  const transport = new Transport(spec, { acceptNewHostKeys });
  try {
    if (command === 'down') return (await prepareDown(spec, transport)).plan;
    const tailnet = (joined: Set<string>) =>
      spec.tailnet.provider === 'pulumi' && !hasCredentials(spec) ? Promise.resolve(offlineTailnetActions(spec, 'up')) : planTailnetForUp(spec, joined, true);
    return (await prepareUp(spec, transport, tailnet)).plan;
  } finally {
    await transport.close();
  }
}

const hasCredentials = (spec: Spec) =>
  Object.values(spec.tailnet.credentials ?? {}).every((ref) => !ref || ref.kind !== 'env' || process.env[ref.name]);
