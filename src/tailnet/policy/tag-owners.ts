// For `peer-provision tailnet init`: the tagOwners entries a first run needs before the OAuth client can be created.
// Pure: no I/O.

import { getNodeValue } from 'jsonc-parser';
import type { Spec } from '../../peer-yaml/types.js';
import { isObject, isStringArray, parse, reconcileSection, renderInline } from './hujson.js';
import { ownedEntries } from './owned.js';

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
