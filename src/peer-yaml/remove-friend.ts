// Takes one friend out of peer.yaml's text for `unfriend`, leaving every other byte as it was: the lines of his entry
// (and the comment lines right above it, which are about him) are cut; the whole `friends:` section when he was its
// last. A file that writes `friends` in flow style ({ bob: ... }) is rewritten by the yaml library instead, which keeps
// comments but may respace that section.
import { isMap, isScalar, type Pair, parseDocument } from 'yaml';

/** peer.yaml's text without friends.NAME; the text itself when he is not there. */
export function withoutFriend(text: string, name: string): string {
  const doc = parseDocument(text);
  const friends = doc.get('friends', true);
  if (!isMap(friends)) return text;
  const pair = friends.items.find((p) => isScalar(p.key) && p.key.value === name);
  if (!pair) return text;
  const last = friends.items.length === 1;
  const top = isMap(doc.contents) ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'friends') : undefined;
  const cut = last ? top : pair;
  if (!friends.flow && cut && !(isMap(doc.contents) && doc.contents.flow)) {
    const range = lineRange(text, cut);
    if (range) return text.slice(0, range[0]) + text.slice(range[1]);
  }
  if (last) doc.delete('friends');
  else doc.deleteIn(['friends', name]);
  return doc.toString({ lineWidth: 0 });
}

/** From the start of the key's line (and the comment lines right above it, at its indent) to the end of the value's last line. */
function lineRange(text: string, pair: Pair): [number, number] | undefined {
  const key = (pair.key as { range?: [number, number, number] }).range;
  const value = (pair.value as { range?: [number, number, number] } | null)?.range;
  if (!key || !value) return undefined;
  let start = text.lastIndexOf('\n', key[0] - 1) + 1;
  const indent = text.slice(start, key[0]);
  if (!/^ *$/.test(indent)) return undefined; // the key shares its line with something else
  for (;;) {
    const before = text.lastIndexOf('\n', start - 2) + 1;
    if (start === 0 || !text.slice(before, start - 1).startsWith(`${indent}#`)) break;
    start = before;
  }
  const newline = text.indexOf('\n', Math.max(value[1] - 1, key[0]));
  return [start, newline === -1 ? text.length : newline + 1];
}
