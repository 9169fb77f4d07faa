// This stack's tags that a policy already gives to another peer-provision stack (0.1's tag scheme), which up refuses.
// Pure: no I/O.

import { getNodeValue } from 'jsonc-parser';
import type { Spec } from '../../peer-yaml/types.js';
import { ownerTag, stackTag } from '../../peer-yaml/types.js';
import { isObject, isStringArray, parse } from './hujson.js';
import { inNamespace, ownedEntries } from './owned.js';

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
