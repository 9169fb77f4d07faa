import type { CommonOptions } from '../../cli.js';
import { EXIT } from '../../errors.js';
import { printJson, stdout } from '../../output/io.js';
import { renderPlan } from '../../output/render-plan.js';
import { plan } from '../../plan/index.js';
import { offlineTailnetActions } from '../../plan/tailnet.js';
import { isEmpty } from '../../plan/types.js';
import { loadSpec } from '../../spec/load.js';

interface PlanOptions extends CommonOptions {
  offline: boolean;
  detailedExitcode: boolean;
  for: 'up' | 'down';
}

export async function run(options: PlanOptions): Promise<number> {
  const spec = loadSpec(options.file);
  const result = plan({
    spec,
    command: options.for,
    machines: new Map(),
    tailnet: offlineTailnetActions(spec, options.for),
  });
  if (options.json) printJson(result);
  else stdout(renderPlan(result));
  return options.detailedExitcode && !isEmpty(result) ? EXIT.changesPending : EXIT.ok;
}
