// Recognising owned entries in a policy: which of its tagOwners entries, grants and tests are this stack's (for the
// merge, and for the record of what a write added). Pure: no I/O.
//
// Owned tags: the owner and stack tags, the spec's tags in our namespace, and every tag whose tagOwners list contains
// the owner tag (that is how we mark machine tags; it also finds the tags of machines since removed from the spec) or,
// as versions before the owner tag wrote them, the stack tag (another stack's tag, tag:peer-<name>-x of a stack named
// "<name>-x", was owned by autogroup:admin alone then, and is owned by its own owner tag now: not ours either way).
// A grant is ours when it has exactly src/dst/ip, every src and dst is an owned tag, and ip is one "tcp:<port>".
// A test is ours when it has exactly src/accept/deny, src is an owned tag and every target is "<owned tag>:<port>".
// A hand-written grant between two of our tags that carries more (another port list, app, via) is left alone.

import { getNodeValue } from 'jsonc-parser';
import type { Spec } from '../../peer-yaml/types.js';
import { canonical, isObject, isStringArray, parse } from './hujson.js';
import { type MergeOptions, ownedEntries } from './owned.js';

const hasExactly = (o: object, keys: string[]) => {
  const k = Object.keys(o);
  return k.length === keys.length && k.every((x) => keys.includes(x));
};

export function ownedTagSet(policy: unknown, spec: Spec): Set<string> {
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

export interface Matchers {
  tagOwner(tag: string): boolean;
  grant(v: unknown): boolean;
  test(v: unknown): boolean;
}

/** What identifies a grant or test in the record: its content, whatever its key order or formatting. */
export const entryId = (v: unknown): string => canonical(v);

export function matchers(owned: Set<string>, opts: MergeOptions = {}): Matchers {
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

export const grantKey = (g: unknown) => (isObject(g) && isStringArray(g.dst) ? g.dst.join(' ') : '');
export const testKey = (t: unknown) => (isObject(t) && typeof t.src === 'string' ? t.src : '');

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
