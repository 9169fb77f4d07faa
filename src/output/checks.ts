// How checks and blockers read in text: one line per check (verify, up), two per blocker (the reason, then the fix).
import type { PlanBlocker } from '../plan/types.js';
import type { CheckResult } from '../verify/index.js';

export function renderChecks(results: CheckResult[]): string {
  return results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.from} -> ${r.to} ${r.check.padEnd(14)} ${r.detail}`).join('\n') + '\n';
}

export const formatBlocker = (b: PlanBlocker) => `  - ${b.where}: ${b.reason}\n    fix: ${b.fix}`;
