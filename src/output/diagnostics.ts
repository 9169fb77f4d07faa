// Problems in an input file as compilers show theirs (rustc, terraform): FILE:LINE:COL: field: message, then the
// line itself with carets under what is wrong, then the hint. A secret pasted into the file is never shown: the
// line is printed with it masked (a key anywhere, a URL's password, and any value of a secret's field that is
// not a reference).

import { paint } from '../console/colour.js';
import { formatProblem, type Problem } from '../errors.js';
import { MiB, readRegularFile } from '../peer-yaml/read-file.js';

/** The text of a file to quote lines from; undefined when it cannot be read (then no line is shown). */
export type Source = (file: string) => string | undefined;

/** At most this many characters of a line are shown, around the column (a hostile file may have one huge line). */
const MAX_SHOWN = 160;

export function renderDiagnostics(problems: Problem[], options: { colour: boolean; source?: Source }): string {
  const source = cached(options.source ?? readSource);
  const blocks = problems.map((p) => block(p, source, options.colour));
  // a blank line after each quoted line keeps one problem apart from the next, as rustc does
  return blocks.map((lines, i) => (lines.length > 1 && i < blocks.length - 1 ? [...lines, ''] : lines).join('\n')).join('\n') + '\n';
}

function block(p: Problem, source: Source, colour: boolean): string[] {
  const lines = [paint(formatProblem(p), 'bold', colour)];
  const text = p.line ? source(p.file)?.split(/\r?\n/)[p.line - 1] : undefined;
  if (text !== undefined && p.line) {
    const { shown, caret } = excerpt(masked(text), (p.col ?? 1) - 1);
    const gutter = ' '.repeat(String(p.line).length);
    lines.push(`${gutter} |`, `${p.line} | ${shown}`, `${gutter} | ${' '.repeat(caret.at)}${paint('^'.repeat(caret.width), 'red', colour)}`);
  }
  if (p.hint) lines.push(`${paint('hint:', 'yellow', colour)} ${p.hint}`);
  return lines;
}

/** The part of the line to show, and where under it the carets go (one character each, so they line up). */
function excerpt(line: string, column: number): { shown: string; caret: { at: number; width: number } } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character would move the caret off its place
  const plain = line.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const start = plain.length > MAX_SHOWN ? Math.max(0, Math.min(column - MAX_SHOWN / 2, plain.length - MAX_SHOWN)) : 0;
  const window = plain.slice(start, start + MAX_SHOWN);
  const lead = start > 0 ? '…' : '';
  const shown = lead + window + (start + MAX_SHOWN < plain.length ? '…' : '');
  const at = Math.min(column - start, window.length) + lead.length;
  return { shown, caret: { at, width: Math.max(1, tokenAt(window, column - start).length) } };
}

/** The word the column points at: a quoted string whole, else up to a space, a comma, a bracket or a key's colon (${VAR} whole). */
function tokenAt(line: string, column: number): string {
  const rest = line.slice(column);
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    return end > 0 ? rest.slice(0, end + 1) : rest;
  }
  return (/^(?:\$\{[^}\s]*\}|[^\s,[\]{}])+/.exec(rest)?.[0] ?? '').replace(/:$/, '');
}

const SECRET_FIELD = /\b(authKey|token|oauthClientId|oauthClientSecret|apiKey)(\s*:\s*)(["']?)([^\s,}\]#"']+)/g;
/** Not a secret: a reference, generate, or a ${VARIABLE} written where a reference was meant. */
const REFERENCE = /^(env:|file:|generate|\$)/;

/** The line with every secret in it masked, each character by one `*` (the carets stay in place). */
export function masked(line: string): string {
  const stars = (text: string) => '*'.repeat(text.length);
  return line
    .replace(SECRET_FIELD, (all, key: string, colon: string, quote: string, value: string) =>
      REFERENCE.test(value) ? all : `${key}${colon}${quote}${stars(value)}`,
    )
    .replace(/tskey-[A-Za-z0-9_-]+/g, (key) => `tskey-${stars(key.slice(6))}`)
    .replace(/(\/\/[^/\s:@]*:)([^@\s/]+)@/g, (_, user: string, password: string) => `${user}${stars(password)}@`);
}

function readSource(file: string): string | undefined {
  try {
    return readRegularFile(file, MiB).text;
  } catch {
    return undefined;
  }
}

function cached(source: Source): Source {
  const texts = new Map<string, string | undefined>();
  return (file) => {
    if (!texts.has(file)) texts.set(file, source(file));
    return texts.get(file);
  };
}
