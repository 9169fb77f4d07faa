// plan --out FILE writes the plan; up FILE / down FILE read it back. A plan holds no secret (they are resolved
// again at apply), so the file may be a CI artifact; it is written whole or not at all.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { PeerProvisionError, UsageError } from '../errors.js';
import { staleness } from '../plan/stale.js';
import type { Plan } from '../plan/types.js';

export function writePlanFile(path: string, plan: Plan): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

export function readPlanFile(path: string, command: 'up' | 'down'): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as Plan;
  } catch (error) {
    throw new UsageError(`${path}: not a plan file: ${(error as Error).message}`, 'write one with `peer-provision plan --out FILE`');
  }
  if (plan?.format !== 'peer-provision/plan@2') {
    throw new UsageError(
      `${path}: not a plan of this peer-provision (format ${JSON.stringify(plan?.format)}, expected "peer-provision/plan@2")`,
      'make a new one with `peer-provision plan --out FILE`',
    );
  }
  if (plan.command !== command) {
    throw new UsageError(
      `${path}: a plan for ${plan.command}, not ${command}`,
      `run \`peer-provision ${plan.command} ${path}\`, or make one with \`peer-provision plan${command === 'down' ? ' --for down' : ''} --out FILE\``,
    );
  }
  return plan;
}

/**
 * The fresh plan, when the saved one is still what it would do; otherwise refuse, naming what moved. The saved plan
 * is only compared: its steps, blockers and machines never run (an edited file could hold anything).
 */
export function checkNotStale(saved: Plan, fresh: Plan, path: string): Plan {
  const moved = staleness(saved, fresh);
  if (moved.length > 0) {
    throw new PeerProvisionError(
      `the saved plan ${path} is stale, nothing was changed:\n${moved.map((m) => `  - ${m}`).join('\n')}`,
      `make a new plan (\`peer-provision plan${saved.command === 'down' ? ' --for down' : ''} --out ${path}\`), review it, and apply that`,
    );
  }
  return fresh;
}
