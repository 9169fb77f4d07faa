// Step 1 of peer.yaml -> Spec: read the file and parse YAML safely, keeping positions for error messages.
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { InputError, type Problem } from '../errors.js';
import { FileRefused, MiB, readRegularFile } from './read-file.js';

const MAX_BYTES = MiB; // a peer.yaml is a few KB; refuse anything that is clearly not one
const MAX_ALIASES = 50; // defeats alias bombs ("billion laughs") while allowing ordinary anchors
/** peer.yaml is at most 6 levels deep; the YAML library recurses per level, so 200k `[` would overflow its stack. */
const MAX_FLOW_DEPTH = 32;
/** A file that is not YAML at all can make hundreds of errors: the first few say enough. */
const MAX_SYNTAX_PROBLEMS = 10;

export interface ParsedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  data: unknown;
}

export function parsePeerFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readRegularFile(file, MAX_BYTES).text;
  } catch (error) {
    if (!(error instanceof FileRefused)) throw error;
    const message = error.code ? `cannot read: ${error.code} (it ${error.reason})` : `cannot read: it ${error.reason}`;
    throw new InputError([{ file, field: '', message }]);
  }
  return parsePeerText(file, text);
}

/** The text as the peer.yaml `file` (init checks its answers before anything is written). */
export function parsePeerText(file: string, text: string): ParsedFile {
  const problem = (message: string, line?: number, col?: number): InputError => new InputError([{ file, line, col, field: '', message }]);
  const lines = new LineCounter();
  const deep = tooDeep(text);
  if (deep !== undefined) {
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1 && i < deep; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    const pos = lines.linePos(deep);
    throw problem(`brackets nested more than ${MAX_FLOW_DEPTH} levels deep: this is not a peer.yaml`, pos.line, pos.col);
  }
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.slice(0, MAX_SYNTAX_PROBLEMS).map((e) => {
      const pos = lines.linePos(e.pos[0]);
      if (e.code === 'DUPLICATE_KEY') return duplicateKey(file, doc, pos, e.pos[0]);
      return { file, line: pos.line, col: pos.col, field: '', message: e.message.split('\n')[0] };
    });
    if (doc.errors.length > MAX_SYNTAX_PROBLEMS) {
      problems.push({ file, field: '', message: `and ${doc.errors.length - MAX_SYNTAX_PROBLEMS} more YAML errors` });
    }
    throw new InputError(problems);
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
        const found = exact && !atKey ? (at(pair.value as Node) ?? at(pair.key as Node)) : at(pair.key as Node);
        if (found) return found;
      }
    } else if (isSeq(parent) && typeof segment === 'number') {
      const found = at(parent.items[segment] as Node);
      if (found) return found;
    }
  }
  return at(parsed.doc.contents) ?? {};
}

/**
 * The offset where flow collections ([ and {) nest deeper than MAX_FLOW_DEPTH, or undefined. A linear scan
 * before parsing: the parser itself would recurse once per level. Quoted text and comments are skipped.
 */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      else if (c === '\n' && quote === "'" && depth === 0) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      if (end === -1) break;
      i = end;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]))) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/** "Map keys must be unique" says neither which key nor where it sits: name both. */
function duplicateKey(file: string, doc: Document.Parsed, pos: { line: number; col: number }, offset: number): Problem {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  let key: unknown;
  for (let guard = 0; guard < 64 && node; guard++) {
    const items = isMap(node) || isSeq(node) ? (node.items as unknown[]) : [];
    let next: unknown;
    for (const [index, item] of items.entries()) {
      if (isPair(item)) {
        const k = item.key as Node | null;
        const v = item.value as Node | null;
        if (k?.range && k.range[0] === offset) {
          key = isScalar(k) ? k.value : String(k);
          next = undefined;
          break;
        }
        const start = k?.range?.[0] ?? v?.range?.[0];
        const end = v?.range?.[2] ?? k?.range?.[2];
        if (start !== undefined && end !== undefined && offset >= start && offset < end) {
          path.push(isScalar(k) ? String(k.value) : index);
          next = v;
          break;
        }
      } else if ((item as Node)?.range && offset >= (item as Node).range![0] && offset < (item as Node).range![2]) {
        path.push(index);
        next = item;
        break;
      }
    }
    if (key !== undefined || next === undefined) break;
    node = next;
  }
  const field = key === undefined ? path.join('.') : [...path, String(key)].join('.');
  const what = key === undefined ? 'a key' : `the key "${String(key)}"`;
  return { file, line: pos.line, col: pos.col, field, message: `${what} appears twice in this mapping: each key may be given once` };
}
