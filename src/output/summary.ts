// The table at the end of `up`: where each peer is now, and whether its peers reached it.
import type { CheckResult } from '../verify/index.js';
import { renderTable } from './table.js';

export interface SummaryRow {
  machine: string;
  ip?: string;
  port: number;
  /** Why the machine was not worked on (unreachable), if so. */
  skipped?: string;
}

export function renderSummary(rows: SummaryRow[], checks: CheckResult[]): string {
  const table = [['MACHINE', 'TAILNET IP', 'GATEWAY URL', 'VERIFIED']];
  for (const row of rows) {
    const mine = checks.filter((c) => c.to === row.machine);
    const failed = mine.filter((c) => !c.ok).length;
    const verified = row.skipped
      ? `no: ${row.skipped}`
      : mine.length === 0
        ? 'not checked'
        : failed
          ? `no: ${failed} of ${mine.length} checks failed`
          : `yes (${mine.length} check${mine.length === 1 ? '' : 's'})`;
    table.push([row.machine, row.ip ?? '-', row.ip ? `http://${row.ip}:${row.port}` : '-', verified]);
  }
  return renderTable(table);
}
