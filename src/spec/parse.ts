// Step 1 of peer.yaml -> Spec: read the file and parse YAML safely, keeping positions for error messages.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError, type Problem } from '../errors.js';

const MAX_BYTES = 1024 * 1024; // a peer.yaml is a few KB; refuse anything that is clearly not one
const MAX_ALIASES = 50; // defeats alias bombs ("billion laughs") while allowing ordinary anchors

export interface ParsedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  data: unknown;
}

export function parsePeerFile(file: string): ParsedFile {
  const problem = (message: string, line?: number, col?: number): InputError =>
    new InputError([{ file, line, col, field: '', message }]);
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) throw problem(`file is larger than ${MAX_BYTES} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw problem(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, field: '', message: e.message.split('\n')[0] };
      }),
    );
  }
  if (doc.contents === null) throw problem('the file is empty: see the bundled peer.yaml for an example');
  if (!isMap(doc.contents)) throw problem('the top level must be a mapping (version:, name:, tailnet:, machines:)', 1, 1);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    throw problem((error as Error).message);
  }
  return { file, doc, lines, data };
}

/**
 * Where a field is, for an error message. The field itself when it exists (its key with atKey, else its
 * value); when it does not, the key of its nearest existing parent (so "missing x" points at the parent).
 */
export function locate(parsed: ParsedFile, path: (string | number)[], atKey = false): Pick<Problem, 'line' | 'col'> {
  const at = (node: Node | null | undefined) => {
    if (!node?.range) return undefined;
    const pos = parsed.lines.linePos(node.range[0]);
    return { line: pos.line, col: pos.col };
  };
  for (let depth = path.length; depth >= 1; depth--) {
    const parent = parsed.doc.getIn(path.slice(0, depth - 1), true) as Node | undefined;
    const segment = path[depth - 1];
    const exact = depth === path.length;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
      if (pair) {
        const found = exact && !atKey ? at(pair.value as Node) ?? at(pair.key as Node) : at(pair.key as Node);
        if (found) return found;
      }
    } else if (isSeq(parent) && typeof segment === 'number') {
      const found = at(parent.items[segment] as Node);
      if (found) return found;
    }
  }
  return at(parsed.doc.contents) ?? {};
}
