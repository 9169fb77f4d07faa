// HuJSON text editing: a policy's text is edited in place (offsets from jsonc-parser's tree, edits applied with
// applyEdits), so comments, trailing commas, formatting and every entry we do not own stay byte for byte. Pure: no I/O.
//
// Why not jsonc-parser's `modify`: with formatting options it re-formats neighbouring entries (a user's one-line grant
// becomes eight lines), moves a trailing `// comment` onto the inserted entry, and deleting the last property of an
// object that has a trailing comma leaves `{ , }` (invalid). The primitives below handle those cases; tests cover them.

import { applyEdits, createScanner, type Edit, getNodeValue, type Node, type ParseError, parseTree, SyntaxKind } from 'jsonc-parser';
import { TailnetError } from '../errors.js';
import type { PolicySection } from './owned.js';

export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parse(text: string): Node {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) {
    const at = errors[0]?.offset ?? 0;
    const line = text.slice(0, at).split('\n').length;
    throw new TailnetError(`the tailnet policy is not valid HuJSON (line ${line})`, 'Fix the policy file in the admin console, or set tailnet.acl: skip.');
  }
  if (root.type !== 'object') throw new TailnetError('the tailnet policy is not a JSON object');
  return root;
}

export function section(root: Node, key: string): Node | undefined {
  const prop = root.children?.find((p) => p.children?.[0]?.value === key);
  return prop?.children?.[1];
}

/** Renders a value on one line, in the style of Tailscale's own examples: {"src": ["tag:a"], "dst": [...]}. */
export function renderInline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(renderInline).join(', ')}]`;
  if (isObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${renderInline(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

export const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : isObject(v)
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

class Doc {
  constructor(readonly text: string) {}
  lineStart(pos: number) {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }
  lineEnd(pos: number) {
    const nl = this.text.indexOf('\n', pos);
    return nl < 0 ? this.text.length : nl;
  }
  blank(a: number, b: number) {
    return /^[ \t]*$/.test(this.text.slice(a, b));
  }
  /** Offset of the comma following `pos` (only whitespace and comments in between), or -1. */
  commaAfter(pos: number): number {
    const s = createScanner(this.text, false);
    s.setPosition(pos);
    for (;;) {
      const k = s.scan();
      if (k === SyntaxKind.CommaToken) return s.getTokenOffset();
      if (k === SyntaxKind.Trivia || k === SyntaxKind.LineBreakTrivia || k === SyntaxKind.LineCommentTrivia || k === SyntaxKind.BlockCommentTrivia) continue;
      return -1;
    }
  }
  /** Whether the text inside a container, apart from whitespace, holds anything (comments). */
  hasComments(c: Node) {
    return !/^\s*$/.test(this.text.slice(c.offset + 1, c.offset + c.length - 1));
  }
  indentUnit(root: Node): string {
    const first = root.children?.[0];
    if (first) {
      const ls = this.lineStart(first.offset);
      if (ls > root.offset && this.blank(ls, first.offset) && first.offset > ls) return this.text.slice(ls, first.offset);
    }
    return '  ';
  }
  lineIndent(pos: number) {
    const ls = this.lineStart(pos);
    return /^[ \t]*/.exec(this.text.slice(ls))![0];
  }
  /** Whether the document writes trailing commas (judged on the root object's last member). */
  trailingCommas(root: Node) {
    const last = root.children?.at(-1);
    return last ? this.commaAfter(last.offset + last.length) >= 0 : false;
  }

  /** Edits removing one member (array element or object property) of `container`, with its comma and line. */
  removeMember(container: Node, index: number): Edit[] {
    const kids = container.children!;
    const e = kids[index]!;
    const s = e.offset;
    const t = e.offset + e.length;
    const ca = this.commaAfter(t);
    const after = ca >= 0 ? ca + 1 : t;
    const le = this.lineEnd(after);
    const ownLine = this.blank(this.lineStart(s), s) && /^[ \t]*(\/\/.*)?$/.test(this.text.slice(after, le));
    const prev = index > 0 ? kids[index - 1]! : undefined;
    const prevComma = prev && ca < 0 ? this.commaAfter(prev.offset + prev.length) : -1;
    if (ownLine) {
      const ls = this.lineStart(s);
      const edits: Edit[] = [{ offset: ls, length: Math.min(le + 1, this.text.length) - ls, content: '' }];
      // The last member without a trailing comma: its predecessor's comma goes too (restores a JSON-style list).
      if (prevComma >= 0) edits.push({ offset: prevComma, length: 1, content: '' });
      return edits;
    }
    if (ca >= 0) {
      let end = ca + 1;
      while (this.text[end] === ' ' || this.text[end] === '\t') end++;
      return [{ offset: s, length: end - s, content: '' }];
    }
    if (prevComma >= 0) return [{ offset: prevComma, length: t - prevComma, content: '' }];
    return [{ offset: s, length: t - s, content: '' }];
  }

  /** Edits appending a member rendered by `render(indent)` at the end of `container`. */
  appendMember(root: Node, container: Node, render: (indent: string) => string): Edit[] {
    const kids = container.children ?? [];
    const close = container.offset + container.length - 1;
    const unit = this.indentUnit(root);
    const tc = this.trailingCommas(root);
    if (kids.length === 0) {
      const closeIndent = this.lineIndent(container.offset);
      const indent = closeIndent + unit;
      if (this.blank(this.lineStart(close), close) && this.lineStart(close) > container.offset) {
        // Multi-line empty container (perhaps holding comments): a new line before the closing bracket.
        return [{ offset: this.lineStart(close), length: 0, content: `${indent}${render(indent)}${tc ? ',' : ''}\n` }];
      }
      const inner = this.text.slice(container.offset + 1, close);
      if (/^\s*$/.test(inner)) {
        return [{ offset: container.offset + 1, length: inner.length, content: `\n${indent}${render(indent)}${tc ? ',' : ''}\n${closeIndent}` }];
      }
      return [{ offset: close, length: 0, content: ` ${render(indent)} ` }];
    }
    const last = kids.at(-1)!;
    const lastEnd = last.offset + last.length;
    const ca = this.commaAfter(lastEnd);
    if (this.blank(this.lineStart(last.offset), last.offset) && this.blank(this.lineStart(close), close)) {
      const indent = this.text.slice(this.lineStart(last.offset), last.offset);
      if (ca >= 0) return [{ offset: this.lineStart(close), length: 0, content: `${indent}${render(indent)},\n` }];
      return [
        { offset: lastEnd, length: 0, content: ',' },
        { offset: this.lineStart(close), length: 0, content: `${indent}${render(indent)}\n` },
      ];
    }
    const indent = this.lineIndent(last.offset);
    if (ca >= 0) return [{ offset: ca + 1, length: 0, content: ` ${render(indent)},` }];
    return [{ offset: lastEnd, length: 0, content: `, ${render(indent)}` }];
  }
}

/** A multi-line section value: `[\n  item,\n  item,\n]` indented under `indent`. */
function renderSection(kind: 'array' | 'object', items: string[], indent: string, unit: string, tc: boolean): string {
  const [open, close] = kind === 'array' ? ['[', ']'] : ['{', '}'];
  const lines = items.map((it, i) => `${indent}${unit}${it}${tc || i < items.length - 1 ? ',' : ''}`);
  return `${open}\n${lines.join('\n')}\n${indent}${close}`;
}

export interface SectionPlan {
  key: PolicySection;
  kind: 'array' | 'object';
  /** Desired members: key → [value, rendered member text]. */
  want: [string, unknown, string][];
  /** Whether an existing member (value, or property name for objects) is ours. */
  owned: (value: unknown, name?: string) => boolean;
  keyOf: (value: unknown, name?: string) => string;
}

/** Re-applies one edit batch at a time, re-parsing in between, until the section matches `plan`. */
export function reconcileSection(text: string, plan: SectionPlan): string {
  const wantKeys = new Set(plan.want.map(([k]) => k));
  let removedAny = false;
  // 1. Remove owned members we do not want (or duplicates of one we want).
  for (;;) {
    const root = parse(text);
    const c = section(root, plan.key);
    if (!c) break;
    const seen = new Set<string>();
    const idx = (c.children ?? []).findIndex((m) => {
      const { value, name } = memberValue(m, plan.kind);
      if (!plan.owned(value, name)) return false;
      const k = plan.keyOf(value, name);
      const drop = !wantKeys.has(k) || seen.has(k);
      seen.add(k);
      return drop;
    });
    if (idx < 0) break;
    text = applyEdits(text, new Doc(text).removeMember(c, idx));
    removedAny = true;
  }
  // 2. Replace owned members whose content differs; 3. append missing ones.
  for (const [k, value, rendered] of plan.want) {
    const root = parse(text);
    const doc = new Doc(text);
    const c = section(root, plan.key);
    if (!c) {
      const unit = doc.indentUnit(root);
      const tc = doc.trailingCommas(root);
      const items = plan.want.map(([, , r]) => r);
      const render = (indent: string) => `${JSON.stringify(plan.key)}: ${renderSection(plan.kind, items, indent, unit, tc)}`;
      return applyEdits(text, doc.appendMember(root, root, render));
    }
    if (c.type !== plan.kind) throw new TailnetError(`the tailnet policy's "${plan.key}" is not ${plan.kind === 'array' ? 'an array' : 'an object'}`);
    const existing = (c.children ?? []).find((m) => {
      const { value: v, name } = memberValue(m, plan.kind);
      return plan.owned(v, name) && plan.keyOf(v, name) === k;
    });
    if (existing) {
      const valueNode = plan.kind === 'object' ? existing.children![1]! : existing;
      if (canonical(getNodeValue(valueNode)) !== canonical(value)) {
        text = applyEdits(text, [{ offset: valueNode.offset, length: valueNode.length, content: renderInline(value) }]);
      }
    } else if (!hasIdentical(c, plan.kind, value)) {
      // (an identical entry of the user's is there already: it serves, and stays theirs)
      text = applyEdits(
        text,
        doc.appendMember(root, c, () => rendered),
      );
    }
  }
  // 4. A section we emptied, that holds nothing else (not even a comment), goes away entirely.
  if (removedAny && plan.want.length === 0) {
    const root = parse(text);
    const c = section(root, plan.key);
    const doc = new Doc(text);
    if (c && (c.children ?? []).length === 0 && !doc.hasComments(c)) {
      const i = root.children!.findIndex((p) => p.children?.[1] === c);
      text = applyEdits(text, doc.removeMember(root, i));
    }
  }
  return text;
}

/** An array section already holding an entry with this content (whoever wrote it). */
export const hasIdentical = (c: Node | undefined, kind: 'array' | 'object', value: unknown): boolean =>
  kind === 'array' && c?.type === 'array' && (c.children ?? []).some((m) => canonical(getNodeValue(m)) === canonical(value));

export function memberValue(m: Node, kind: 'array' | 'object'): { value: unknown; name?: string } {
  if (kind === 'object') return { name: m.children?.[0]?.value as string, value: m.children?.[1] ? getNodeValue(m.children[1]) : undefined };
  return { value: getNodeValue(m) };
}
