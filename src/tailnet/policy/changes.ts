// For plan: the owned entries a merge would add, change or remove, readably, and the rules that would make this
// stack's policy tests fail. Pure: no I/O.

import { getNodeValue } from 'jsonc-parser';
import type { Spec } from '../../peer-yaml/types.js';
import { canonical, hasIdentical, isObject, isStringArray, memberValue, parse, renderInline, section } from './hujson.js';
import { sectionPlans } from './merge.js';
import { type Grant, type MergeOptions, ownedEntries, type PolicyChange, type PolicySection, type PolicyTest } from './owned.js';

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
