// A Tailscale key pasted anywhere in peer.yaml, not only where a reference goes (the schema refuses it there): as an
// ssh alias, a tailnet name or a backend it would pass the schema and sit in the file, committed with it.
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Problem } from '../errors.js';
import type { ParsedFile } from './parse.js';
import { looksLikeTailscaleKey, PASTED_KEY } from './plain-words.js';

/** Each pasted key not already reported where it stands. */
export function pastedKeys(parsed: ParsedFile, reported: Problem[]): Problem[] {
  const problems: Problem[] = [];
  const at = new Set(reported.map((p) => `${p.line}:${p.col}`));
  const visit = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (looksLikeTailscaleKey(key)) add(pair.key as Node, [...path, String(key)]);
        visit(pair.value, [...path, String(key)]);
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) visit(item, [...path, index]);
    } else if (isScalar(node) && looksLikeTailscaleKey(node.value)) add(node, path);
  };
  const add = (node: Node, path: (string | number)[]) => {
    if (!node.range) return;
    const { line, col } = parsed.lines.linePos(node.range[0]);
    if (at.has(`${line}:${col}`)) return;
    problems.push({ file: parsed.file, line, col, field: path.join('.'), ...PASTED_KEY });
  };
  visit(parsed.doc.contents, []);
  return problems;
}
