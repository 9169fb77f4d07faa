// The tailnet policy (ACL) entries this stack owns, and a merge of them into a HuJSON policy that changes nothing else.
// Pure: no I/O, no Pulumi. The HuJSON text is edited in place (offsets from jsonc-parser's tree, edits applied with
// applyEdits), so comments, trailing commas, formatting and every entry we do not own stay byte for byte.
//
// Why not jsonc-parser's `modify`: with formatting options it re-formats neighbouring entries (a user's one-line grant
// becomes eight lines), moves a trailing `// comment` onto the inserted entry, and deleting the last property of an
// object that has a trailing comma leaves `{ , }` (invalid). The primitives below handle those cases; tests cover them.

import { applyEdits, createScanner, type Edit, getNodeValue, type Node, type ParseError, parseTree, SyntaxKind } from 'jsonc-parser';
import type { MachineSpec, Spec } from '../peer-yaml/types.js';
import { legacyMachineTag, MACHINE_TAG_SEPARATOR, machineTag, ownerTag, stackTag } from '../peer-yaml/types.js';
import { TailnetError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------------------
// What this stack owns

export interface Grant {
  src: string[];
  dst: string[];
  ip: string[];
}
export interface PolicyTest {
  src: string;
  accept: string[];
  deny: string[];
}
export interface OwnedEntries {
  /** tag → owners, in a stable order (owner tag, stack tag, then machine tags in spec order). */
  tagOwners: [string, string[]][];
  /** One grant per machine that has peers: its peers may reach its gateway port, nothing else. */
  grants: Grant[];
  /** One test per machine that has peers: its peers' gateway ports accepted, port 22 on them denied. */
  tests: PolicyTest[];
}

export type PolicySection = 'grants' | 'tagOwners' | 'tests';
export interface PolicyChange {
  op: '+' | '~' | '-';
  section: PolicySection;
  summary: string;
}

/** What to do about a rule that lets every device reach every port (this stack's policy tests fail under it). */
export const ALLOW_ALL_FIX =
  'Narrow or remove that rule in the policy file (admin console, Access controls) so that it no longer reaches every ' +
  'port of every device, or set tailnet.acl: skip and manage the policy yourself. New tailnets ship such a rule.';

/**
 * Who owns this stack's tags. `autogroup:admin` lets an admin's API key mint keys with them and lets an admin create
 * the OAuth client. The owner tag (spec.tailnet.ownerTag, which no machine carries) owns the stack tag and the machine
 * tags, so an OAuth client created with the owner tag mints keys carrying the stack and machine tags, all tags it
 * owns and none its own (Tailscale refuses a key that mixes the two, tailscale/tailscale#12402), and nothing outside
 * this stack. A machine's own tags own nothing: a node cannot advertise its way into another machine's tag.
 */
export const TAG_OWNER = 'autogroup:admin';

/** The port the policy tests expect to be denied (another port if a gateway listens on 22). */
export const denyPortFor = (gatewayPort: number) => (gatewayPort === 22 ? 23 : 22);

/** Whether a tag lies in this stack's tag namespace (tag:peer-<name> and tag:peer-<name>--…). */
const inNamespace = (spec: Spec, tag: string) => tag === spec.tailnet.stackTag || tag.startsWith(`${spec.tailnet.stackTag}${MACHINE_TAG_SEPARATOR}`);

/**
 * A device this stack joined: it carries the stack tag and one of this stack's machine tags (or a machine's 0.1 tag).
 * The stack tag alone is not enough: in 0.1's scheme machine eu of stack prod carried tag:peer-prod-eu, the stack tag
 * of a stack named prod-eu, whose down would have deleted it.
 */
export function isStackDevice(spec: Spec, tags: readonly string[]): boolean {
  if (!tags.includes(spec.tailnet.stackTag)) return false;
  const legacy = new Set(spec.machines.map((m) => legacyMachineTag(spec.name, m.name)));
  return tags.some((t) => (t !== spec.tailnet.stackTag && inNamespace(spec, t)) || legacy.has(t));
}

/** Whether an owner names another peer-provision stack: its owner tag, or (before owner tags) its stack tag. */
const otherStackOwner = (spec: Spec, owner: string) =>
  (owner.startsWith(ownerTag('')) && owner !== spec.tailnet.ownerTag) || (owner.startsWith(stackTag('')) && !inNamespace(spec, owner));

/**
 * This stack's tags that the policy already gives to another peer-provision stack (in tagOwners, owned by that
 * stack's owner tag): under 0.1's tag scheme, machine eu of stack prod has tag:peer-prod-eu, this stack's tag if it
 * is named prod-eu. Writing on would share the tag (the other stack's grants would open this stack's machines), so up
 * refuses. One line per clash, with the owner that clashes.
 */
export function policyClashes(text: string, spec: Spec): string[] {
  const v = getNodeValue(parse(text));
  const present = isObject(v) && isObject(v.tagOwners) ? v.tagOwners : {};
  const out: string[] = [];
  for (const [tag] of ownedEntries(spec).tagOwners) {
    const owners = present[tag];
    const others = isStringArray(owners) ? owners.filter((o) => otherStackOwner(spec, o)) : [];
    if (others.length > 0) out.push(`tagOwners gives ${tag}, this stack's tag, to ${others.join(', ')}`);
  }
  return out;
}

/** What to do about a clash (see policyClashes). */
export const CLASH_FIX =
  "The other stack was set up by peer-provision 0.1, whose machine tags can equal another stack's tags: run `peer-provision down` " +
  'on it (with its own peer.yaml), then `up` again with this version, which gives it tags that cannot clash; or rename this stack.';

/** The tag that addresses a machine in grants and tests. */
export const addressTag = (spec: Spec, m: MachineSpec): string => machineTag(spec.name, m.name);

function peersOf(spec: Spec, name: string): MachineSpec[] {
  const names = new Set<string>();
  for (const [a, b] of spec.peers) {
    if (a === name) names.add(b);
    if (b === name) names.add(a);
  }
  return spec.machines.filter((m) => names.has(m.name));
}

export interface MergeOptions {
  /**
   * The tagOwners entries this stack added (recorded beside the state when it added them). Only these are ever
   * changed or removed; an entry the user wrote (for example from `peer-provision tailnet init`) stays as written.
   * Undefined: every entry of an owned tag counts as ours (pure callers and tests).
   */
  ours?: ReadonlySet<string>;
  /**
   * The grants and tests this stack wrote (as `entryId`s, recorded beside the state). Only these are ever changed or
   * removed: a grant or test of the user's between this stack's tags (another port, say) stays as written. Undefined:
   * nothing recorded yet (a stack from before the record, pure callers): every entry of the stack's shape counts.
   */
  oursGrants?: ReadonlySet<string>;
  oursTests?: ReadonlySet<string>;
  /**
   * Machines whose policy tests may be written: those already joined. A test naming a tag no device carries yet is
   * rejected by Tailscale-compatible engines (headscale) and undocumented for Tailscale, so a first `up`, before any
   * machine has joined, writes none; the next `up` adds them. Undefined: every machine.
   */
  testsFor?: ReadonlySet<string>;
}

/** The entries this stack wants in the policy, derived from the spec alone. */
export function ownedEntries(spec: Spec, testsFor?: ReadonlySet<string>): OwnedEntries {
  const { stackTag, ownerTag } = spec.tailnet;
  const tagOwners: [string, string[]][] = [[ownerTag, [TAG_OWNER]]];
  const seen = new Set([ownerTag]);
  for (const t of [stackTag, ...spec.machines.flatMap((m) => [...m.tags, addressTag(spec, m)])]) {
    // Tags outside our namespace (if a spec ever adds some) belong to the user: we neither own nor remove them.
    if (seen.has(t) || !inNamespace(spec, t)) continue;
    seen.add(t);
    tagOwners.push([t, [TAG_OWNER, ownerTag]]);
  }
  const grants: Grant[] = [];
  const tests: PolicyTest[] = [];
  for (const m of spec.machines) {
    const peers = peersOf(spec, m.name);
    if (peers.length === 0) continue;
    grants.push({ src: peers.map((p) => addressTag(spec, p)), dst: [addressTag(spec, m)], ip: [`tcp:${m.gateway.port}`] });
    if (testsFor && !testsFor.has(m.name)) continue;
    const tested = testsFor ? peers.filter((p) => testsFor.has(p.name)) : peers;
    if (tested.length === 0) continue;
    tests.push({
      src: addressTag(spec, m),
      accept: tested.map((p) => `${addressTag(spec, p)}:${p.gateway.port}`),
      deny: tested.map((p) => `${addressTag(spec, p)}:${denyPortFor(p.gateway.port)}`),
    });
  }
  return { tagOwners, grants, tests };
}

// ---------------------------------------------------------------------------------------------------------------------
// Recognising owned entries in a policy
//
// Owned tags: the owner and stack tags, the spec's tags in our namespace, and every tag whose tagOwners list contains
// the owner tag (that is how we mark machine tags; it also finds the tags of machines since removed from the spec) or,
// as versions before the owner tag wrote them, the stack tag (another stack's tag, tag:peer-<name>-x of a stack named
// "<name>-x", was owned by autogroup:admin alone then, and is owned by its own owner tag now: not ours either way).
// A grant is ours when it has exactly src/dst/ip, every src and dst is an owned tag, and ip is one "tcp:<port>".
// A test is ours when it has exactly src/accept/deny, src is an owned tag and every target is "<owned tag>:<port>".
// A hand-written grant between two of our tags that carries more (another port list, app, via) is left alone.

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const hasExactly = (o: object, keys: string[]) => {
  const k = Object.keys(o);
  return k.length === keys.length && k.every((x) => keys.includes(x));
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ownedTagSet(policy: unknown, spec: Spec): Set<string> {
  const { stackTag, ownerTag } = spec.tailnet;
  const set = new Set<string>(ownedEntries(spec).tagOwners.map(([t]) => t));
  const to = isObject(policy) ? policy.tagOwners : undefined;
  if (isObject(to)) {
    for (const [tag, owners] of Object.entries(to)) {
      const marked = isStringArray(owners) && (owners.includes(ownerTag) || owners.includes(stackTag));
      if (marked && tag.startsWith('tag:')) set.add(tag);
    }
  }
  return set;
}

interface Matchers {
  tagOwner(tag: string): boolean;
  grant(v: unknown): boolean;
  test(v: unknown): boolean;
}

/** What identifies a grant or test in the record: its content, whatever its key order or formatting. */
export const entryId = (v: unknown): string => canonical(v);

function matchers(owned: Set<string>, opts: MergeOptions = {}): Matchers {
  const recorded = (set: ReadonlySet<string> | undefined, v: unknown) => !set || set.has(entryId(v));
  const target = (s: string) => {
    const i = s.lastIndexOf(':');
    return i > 0 && owned.has(s.slice(0, i)) && /^\d+$/.test(s.slice(i + 1));
  };
  return {
    tagOwner: (tag) => owned.has(tag),
    grant: (v) =>
      isObject(v) &&
      hasExactly(v, ['src', 'dst', 'ip']) &&
      isStringArray(v.src) &&
      v.src.length > 0 &&
      v.src.every((t) => owned.has(t)) &&
      isStringArray(v.dst) &&
      v.dst.length > 0 &&
      v.dst.every((t) => owned.has(t)) &&
      isStringArray(v.ip) &&
      v.ip.length === 1 &&
      /^tcp:\d+$/.test(v.ip[0]!) &&
      recorded(opts.oursGrants, v),
    test: (v) =>
      isObject(v) &&
      hasExactly(v, ['src', 'accept', 'deny']) &&
      typeof v.src === 'string' &&
      owned.has(v.src) &&
      isStringArray(v.accept) &&
      v.accept.every(target) &&
      isStringArray(v.deny) &&
      v.deny.every(target) &&
      recorded(opts.oursTests, v),
  };
}

const grantKey = (g: unknown) => (isObject(g) && isStringArray(g.dst) ? g.dst.join(' ') : '');
const testKey = (t: unknown) => (isObject(t) && typeof t.src === 'string' ? t.src : '');

// ---------------------------------------------------------------------------------------------------------------------
// HuJSON text editing

function parse(text: string): Node {
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

function section(root: Node, key: string): Node | undefined {
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

const canonical = (v: unknown): string =>
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

interface SectionPlan {
  key: PolicySection;
  kind: 'array' | 'object';
  /** Desired members: key → [value, rendered member text]. */
  want: [string, unknown, string][];
  /** Whether an existing member (value, or property name for objects) is ours. */
  owned: (value: unknown, name?: string) => boolean;
  keyOf: (value: unknown, name?: string) => string;
}

/** Re-applies one edit batch at a time, re-parsing in between, until the section matches `plan`. */
function reconcileSection(text: string, plan: SectionPlan): string {
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
const hasIdentical = (c: Node | undefined, kind: 'array' | 'object', value: unknown): boolean =>
  kind === 'array' && c?.type === 'array' && (c.children ?? []).some((m) => canonical(getNodeValue(m)) === canonical(value));

function memberValue(m: Node, kind: 'array' | 'object'): { value: unknown; name?: string } {
  if (kind === 'object') return { name: m.children?.[0]?.value as string, value: m.children?.[1] ? getNodeValue(m.children[1]) : undefined };
  return { value: getNodeValue(m) };
}

/** Every string value in a JSON value (keys of objects too when `keys`). */
function strings(v: unknown, out: string[], keys = true): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out, keys);
  else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      if (keys) out.push(k);
      strings(x, out, keys);
    }
  return out;
}

/**
 * Of the `candidates` (tagOwners entries we would like to remove), those some other part of the policy still names
 * ("tag:x", "tag:x:22", an owner list of a tag that stays). Removing one of them would leave a dangling tag, and
 * Tailscale rejects a policy naming an undefined tag (400 "tag not found"). A fixpoint: keeping a tag keeps the tags
 * its owner list names.
 */
export function referencedTags(policy: unknown, candidates: ReadonlySet<string>): Set<string> {
  const p = isObject(policy) ? policy : {};
  const to = isObject(p.tagOwners) ? p.tagOwners : {};
  const rest = strings(Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'tagOwners')), []);
  const names = (s: string, t: string) => s === t || s.startsWith(`${t}:`);
  const kept = new Set<string>();
  for (;;) {
    const refs = [...rest];
    for (const [tag, owners] of Object.entries(to)) if (!candidates.has(tag) || kept.has(tag)) strings(owners, refs, false);
    let grew = false;
    for (const c of candidates) {
      if (!kept.has(c) && refs.some((s) => names(s, c))) {
        kept.add(c);
        grew = true;
      }
    }
    if (!grew) return kept;
  }
}

function sectionPlans(text: string, spec: Spec, want: OwnedEntries, opts: MergeOptions): SectionPlan[] {
  const value = getNodeValue(parse(text));
  const owned = ownedTagSet(value, spec);
  const m = matchers(owned, opts);
  // tagOwners: which present entries are ours, and which of them may go (not wanted, not named elsewhere once our
  // grants and tests are gone: judged on the text with those removed).
  const present = new Set(Object.keys(isObject(value) && isObject(value.tagOwners) ? value.tagOwners : {}));
  const ours = (tag: string) => (opts.ours ? opts.ours.has(tag) : owned.has(tag));
  const wanted = new Set(want.tagOwners.map(([t]) => t));
  const candidates = new Set([...present].filter((t) => ours(t) && !wanted.has(t)));
  let stuck = new Set<string>();
  if (candidates.size > 0) {
    let scratch = text;
    for (const plan of grantAndTestPlans(m, want)) scratch = reconcileSection(scratch, plan);
    stuck = referencedTags(getNodeValue(parse(scratch)), candidates);
  }
  return [
    {
      key: 'tagOwners',
      kind: 'object',
      // An entry the user wrote for one of our tags is theirs: not rewritten, not duplicated.
      want: want.tagOwners.filter(([t]) => !present.has(t) || ours(t)).map(([t, o]) => [t, o, `${JSON.stringify(t)}: ${renderInline(o)}`]),
      owned: (_v, name) => name !== undefined && ours(name) && !stuck.has(name),
      keyOf: (_v, name) => name ?? '',
    },
    ...grantAndTestPlans(m, want),
  ];
}

function grantAndTestPlans(m: Matchers, want: OwnedEntries): SectionPlan[] {
  return [
    { key: 'grants', kind: 'array', want: want.grants.map((g) => [grantKey(g), g, renderInline(g)]), owned: m.grant, keyOf: grantKey },
    { key: 'tests', kind: 'array', want: want.tests.map((t) => [testKey(t), t, renderInline(t)]), owned: m.test, keyOf: testKey },
  ];
}

function reconcile(text: string, spec: Spec, want: OwnedEntries, opts: MergeOptions): string {
  // Owned tags are judged on the text as given, before stale tagOwners entries are removed.
  for (const plan of sectionPlans(text, spec, want, opts)) text = reconcileSection(text, plan);
  return text;
}

/** The policy with this stack's entries added or replaced and everything else untouched. Idempotent, byte for byte. */
export function mergePolicy(text: string, spec: Spec, opts: MergeOptions = {}): string {
  return reconcile(text, spec, ownedEntries(spec, opts.testsFor), opts);
}

/**
 * The policy with every entry this stack owns removed (and sections it emptied, when they hold nothing else), except
 * tagOwners entries the user wrote or that something else still names.
 */
export function removeOwned(text: string, spec: Spec, opts: MergeOptions = {}): string {
  return reconcile(text, spec, { tagOwners: [], grants: [], tests: [] }, opts);
}

/** The tagOwners entries present in a policy text (to record which ones a merge added). */
export function tagOwnerNames(text: string): Set<string> {
  const v = getNodeValue(parse(text));
  return new Set(Object.keys(isObject(v) && isObject(v.tagOwners) ? v.tagOwners : {}));
}

// ---------------------------------------------------------------------------------------------------------------------
// For plan

const summarize: Record<PolicySection, (v: unknown, name?: string) => string> = {
  tagOwners: (v, name) => `${name}: owned by ${isStringArray(v) ? v.join(', ') : renderInline(v)}`,
  grants: (v) => {
    const g = v as Grant;
    return `${g.src.join(', ')} → ${g.dst.join(', ')} ${g.ip.join(', ')}`;
  },
  tests: (v) => {
    const t = v as PolicyTest;
    return `${t.src}: accept ${t.accept.join(', ')}; deny ${t.deny.join(', ')}`;
  },
};

/**
 * The owned entries a merge would add (+), change (~) or remove (-), readably. Without the current policy (not read,
 * offline) every wanted entry is listed as '+': the caller should say the real change is unknown until read.
 */
export function policyChanges(currentText: string | undefined, spec: Spec, opts: MergeOptions = {}): PolicyChange[] {
  const want = ownedEntries(spec, opts.testsFor);
  const changes: PolicyChange[] = [];
  if (currentText === undefined) {
    for (const [t, o] of want.tagOwners) changes.push({ op: '+', section: 'tagOwners', summary: summarize.tagOwners(o, t) });
    for (const g of want.grants) changes.push({ op: '+', section: 'grants', summary: summarize.grants(g) });
    for (const t of want.tests) changes.push({ op: '+', section: 'tests', summary: summarize.tests(t) });
    return changes;
  }
  const root = parse(currentText);
  for (const plan of sectionPlans(currentText, spec, want, opts)) {
    const c = section(root, plan.key);
    const have = new Map<string, { value: unknown; name?: string }>();
    for (const m of c && c.type === plan.kind ? (c.children ?? []) : []) {
      const mv = memberValue(m, plan.kind);
      if (plan.owned(mv.value, mv.name)) {
        const k = plan.keyOf(mv.value, mv.name);
        if (have.has(k)) changes.push({ op: '-', section: plan.key, summary: `${summarize[plan.key](mv.value, mv.name)} (duplicate)` });
        else have.set(k, mv);
      }
    }
    const wantKeys = new Set(plan.want.map(([k]) => k));
    for (const [k, old] of have) {
      if (!wantKeys.has(k)) changes.push({ op: '-', section: plan.key, summary: summarize[plan.key](old.value, old.name) });
    }
    for (const [k, value] of plan.want) {
      const old = have.get(k);
      const s = summarize[plan.key](value, plan.kind === 'object' ? k : undefined);
      if (!old) {
        if (!hasIdentical(c, plan.kind, value)) changes.push({ op: '+', section: plan.key, summary: s });
      } else if (canonical(old.value) !== canonical(value))
        changes.push({ op: '~', section: plan.key, summary: `${s} (was: ${summarize[plan.key](old.value, old.name)})` });
    }
  }
  const order: PolicySection[] = ['tagOwners', 'grants', 'tests'];
  return changes.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
}

/**
 * The sources and destinations of an `acls` rule in either form: older tailnets write "users" and "ports", the old
 * names of "src" and "dst" that Tailscale still accepts (tailscale/tailscale client/tailscale/acl.go, ACLRow: "old
 * name for src", "old name for dst"). Both are read, so a check never misses a rule for the names it was written with.
 */
export function aclRuleTargets(rule: Record<string, unknown>): { src: string[]; dst: string[] } {
  const list = (v: unknown) => (isStringArray(v) ? v : []);
  return { src: [...list(rule.src), ...list(rule.users)], dst: [...list(rule.dst), ...list(rule.ports)] };
}

/**
 * Rules in the policy that let everything reach everything (the default policy's allow-all, in the current or the
 * legacy form): with one of them the stack's tests (port 22 denied) fail and Tailscale rejects the whole policy. A
 * heuristic on the literal forms only; the API's own test run stays the authority.
 */
export function policyWarnings(text: string): string[] {
  const policy = getNodeValue(parse(text)) as Record<string, unknown>;
  const out: string[] = [];
  const acls = Array.isArray(policy.acls) ? policy.acls : [];
  for (const r of acls) {
    if (!isObject(r) || r.action !== 'accept') continue;
    const { src, dst } = aclRuleTargets(r);
    if (src.includes('*') && dst.includes('*:*')) out.push('acls: a rule accepts every source to every port (*:*)');
  }
  const grants = Array.isArray(policy.grants) ? policy.grants : [];
  for (const g of grants) {
    if (isObject(g) && isStringArray(g.src) && g.src.includes('*') && isStringArray(g.dst) && g.dst.includes('*') && isStringArray(g.ip) && g.ip.includes('*'))
      out.push('grants: a grant lets every source reach every port (ip "*")');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// For `peer-provision tailnet init`: the tagOwners entries a first run needs before the OAuth client can be created.

/** The tagOwners entries of this stack as policy lines, ready to paste into "tagOwners". */
export function tagOwnerLines(spec: Spec): string[] {
  return ownedEntries(spec).tagOwners.map(([t, o]) => `${JSON.stringify(t)}: ${renderInline(o)},`);
}

/**
 * The policy with the given tagOwners entries added where absent, and their owners added to an entry already there
 * that lacks some (so the OAuth client's owner tag can mint keys with it); no owner is ever removed and nothing else
 * changes. What this writes is the user's (it is not recorded as the stack's), so `down` keeps it.
 */
export function addTagOwners(text: string, entries: [string, string[]][]): string {
  const v = getNodeValue(parse(text));
  const present: Record<string, unknown> = isObject(v) && isObject(v.tagOwners) ? v.tagOwners : {};
  const want: [string, string[]][] = [];
  for (const [tag, owners] of entries) {
    const had = present[tag];
    if (had === undefined) want.push([tag, owners]);
    else if (isStringArray(had) && owners.some((o) => !had.includes(o))) want.push([tag, [...had, ...owners.filter((o) => !had.includes(o))]]);
  }
  const extended = new Set(want.map(([t]) => t).filter((t) => t in present));
  return reconcileSection(text, {
    key: 'tagOwners',
    kind: 'object',
    want: want.map(([t, o]) => [t, o, `${JSON.stringify(t)}: ${renderInline(o)}`]),
    owned: (_v, name) => name !== undefined && extended.has(name),
    keyOf: (_v, name) => name ?? '',
  });
}

/**
 * The grants and tests of `text` this stack may call its own after a write: of the stack's shape, and either recorded
 * as its own already or new since `before` (what the write added). Without a record yet, every entry of the shape
 * counts, as the merge that wrote it treated them.
 */
export function ownedGrantsAndTests(before: string, after: string, spec: Spec, opts: MergeOptions): { grants: string[]; tests: string[] } {
  const ids = (text: string, section: 'grants' | 'tests', o: MergeOptions) => {
    const v = getNodeValue(parse(text));
    const list = isObject(v) && Array.isArray(v[section]) ? (v[section] as unknown[]) : [];
    const m = matchers(ownedTagSet(v, spec), o);
    return new Set(list.filter((x) => (section === 'grants' ? m.grant(x) : m.test(x))).map(entryId));
  };
  const pick = (section: 'grants' | 'tests', recorded: ReadonlySet<string> | undefined) => {
    const had = ids(before, section, {});
    return [...ids(after, section, {})].filter((id) => (recorded ? recorded.has(id) : had.has(id)) || !had.has(id)).sort();
  };
  return { grants: pick('grants', opts.oursGrants), tests: pick('tests', opts.oursTests) };
}
