// A small reader of POSIX sh text, for the checks of test/templates/vars.test.ts: which upper-case variables
// a script reads ($NAME, ${NAME...}) and assigns (NAME=..., read NAME, for NAME in), outside comments and
// single quotes (awk programs and `sh -c '...'` bodies there are other languages or other shells).
// It follows quotes, backslashes and $(...) nesting; it is not a full parser. A quoted here-document's body
// (<<'END' ... END: send.sh's node program) is literal text, never expanded, and is skipped; unquoted ones are
// not understood (the templates have none).

export interface ShellNames {
  reads: Set<string>;
  assigns: Set<string>;
}

const NAME = /^[A-Z_][A-Z0-9_]*/;

/** The text without the bodies of its quoted here-documents (the rest of the operator's line stays). */
const withoutLiteralHeredocs = (text: string) => text.replace(/<<-?[ \t]*(['"])([A-Za-z_][A-Za-z0-9_]*)\1([^\n]*\n)[\s\S]*?\n\2(?=\n|$)/g, '$3');

export function shellNames(script: string): ShellNames {
  const text = withoutLiteralHeredocs(script);
  const reads = new Set<string>();
  const assigns = new Set<string>();
  // frames: 'n' plain shell (top level or inside $(...), with its open parentheses), 'd' double quotes,
  // 'a' arithmetic $((...)), where a bare NAME is a read too
  const stack: { kind: 'n' | 'd' | 'a'; parens: number }[] = [{ kind: 'n', parens: 0 }];
  let wordStart = true;
  for (let i = 0; i < text.length; i++) {
    const frame = stack[stack.length - 1];
    const c = text[i];
    if (c === '\\') {
      i++;
      wordStart = false;
      continue;
    }
    if (c === '$') {
      if (text.startsWith('((', i + 1)) {
        stack.push({ kind: 'a', parens: 0 });
        i += 2;
        continue;
      }
      if (text[i + 1] === '(') {
        stack.push({ kind: 'n', parens: 0 });
        i++;
        wordStart = true;
        continue;
      }
      const name = NAME.exec(text.slice(i + (text[i + 1] === '{' ? 2 : 1)))?.[0];
      if (name) reads.add(name);
      wordStart = false;
      continue;
    }
    if (frame.kind === 'a') {
      const name = /[A-Za-z0-9_]/.test(text[i - 1]) ? undefined : NAME.exec(text.slice(i))?.[0];
      if (name) {
        reads.add(name);
        i += name.length - 1;
      } else if (c === '(') frame.parens++;
      else if (c === ')' && frame.parens > 0) frame.parens--;
      else if (c === ')' && text[i + 1] === ')') {
        stack.pop();
        i++;
      }
      continue;
    }
    if (frame.kind === 'd') {
      if (c === '"') stack.pop();
      continue;
    }
    if (c === '"') {
      stack.push({ kind: 'd', parens: 0 });
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      i = end === -1 ? text.length : end;
    } else if (c === '#' && wordStart) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end - 1;
    } else if (c === '(') {
      frame.parens++;
    } else if (c === ')' && stack.length > 1 && frame.parens === 0) {
      stack.pop();
    } else if (c === ')') {
      frame.parens = Math.max(0, frame.parens - 1);
    } else if (wordStart) {
      const rest = text.slice(i);
      const assigned = /^([A-Z_][A-Z0-9_]*)=/.exec(rest)?.[1] ?? /^(?:read(?: -r)?|for) ((?:[A-Z_][A-Z0-9_]* ?)+)/.exec(rest)?.[1];
      for (const name of assigned?.trim().split(' ') ?? []) assigns.add(name);
    }
    wordStart = /[\s;&|({]/.test(c);
  }
  return { reads, assigns };
}
