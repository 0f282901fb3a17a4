import { isMap, isScalar, type Document, type Scalar } from 'yaml';

/**
 * Removes `key` from a YAML document's top-level mapping, keeping the comments above it.
 * The yaml library hangs the comment lines before a key on that key, so deleting the pair
 * took them along: the file's header with the first key, every comment with the last one.
 * They go to what follows (the next key, or the end of the file); only the comment on the
 * removed line itself (`key: value # why`) goes with it.
 */
export function unsetKeepingComments(doc: Document, key: string): void {
  const map = doc.contents;
  if (!isMap(map)) return;
  const at = map.items.findIndex((pair) => (isScalar(pair.key) ? pair.key.value : pair.key) === key);
  if (at === -1) return;
  const removed = map.items.splice(at, 1)[0]!.key;
  const above = isScalar(removed) ? removed.commentBefore : undefined;
  if (!above) return;
  const next = map.items[at]?.key;
  if (isScalar(next)) {
    next.commentBefore = next.commentBefore ? `${above}\n${next.commentBefore}` : above;
    next.spaceBefore ||= (removed as Scalar).spaceBefore;
  } else if (at === 0) {
    doc.commentBefore = doc.commentBefore ? `${doc.commentBefore}\n\n${above}` : above;
  } else {
    map.comment = map.comment ? `${above}\n${map.comment}` : above;
  }
}

/**
 * The document as text: with no key left, only its comments (an empty mapping would be
 * written `{}`, and no mapping at all `null`).
 */
export function yamlText(doc: Document): string {
  if (!isMap(doc.contents) || doc.contents.items.length > 0) return String(doc);
  const comments = [doc.commentBefore, doc.contents.commentBefore, doc.contents.comment, doc.comment].filter((c): c is string => Boolean(c));
  return comments.map((c) => `${c.replace(/^(.*)$/gm, (line) => (line === '' ? '' : `#${line}`))}\n`).join('\n');
}
