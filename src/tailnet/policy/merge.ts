// The merge of this stack's entries into a HuJSON policy that changes nothing else, and their removal. Pure: no I/O,
// no Pulumi.

import { getNodeValue } from 'jsonc-parser';
import type { Spec } from '../../peer-yaml/types.js';
import { isObject, parse, reconcileSection, renderInline, type SectionPlan } from './hujson.js';
import { type MergeOptions, type OwnedEntries, ownedEntries } from './owned.js';
import { grantKey, type Matchers, matchers, ownedTagSet, testKey } from './recognise.js';

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

export function sectionPlans(text: string, spec: Spec, want: OwnedEntries, opts: MergeOptions): SectionPlan[] {
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
