// A plain text table: columns two spaces apart, each as wide as its widest cell, the last one not padded.

/** The rows (the first is the header) as lines, each ending in a newline. */
export function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
