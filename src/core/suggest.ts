/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known words closest to a typo (a prefix counts as close), best first; none when nothing is near.
 * Words whose lengths differ by more than the allowed distance are not compared: the distance
 * is at least that difference, and the matrix of a 600 KB field name sent to the API against
 * each field took seconds of the daemon's only thread.
 */
export function suggest(word: string, known: Iterable<string>): string[] {
  // Case does not count (`version` is near `toVersion`), and a known word that ends with the typo is near too.
  const w = word.toLowerCase();
  const near = (candidate: string): number | undefined => {
    const k = candidate.toLowerCase();
    if (k.startsWith(w) || w.startsWith(k) || (w.length >= 4 && k.endsWith(w))) return 1;
    const allowed = Math.max(1, Math.floor(Math.min(w.length, k.length) / 3));
    if (Math.abs(w.length - k.length) > allowed) return undefined;
    const d = distance(w, k);
    return d <= allowed ? d : undefined;
  };
  const scored = [...new Set(known)].flatMap((k) => {
    const d = near(k);
    return d === undefined ? [] : [{ k, d }];
  });
  return scored
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, 3)
    .map(({ k }) => k);
}

export function didYouMean(word: string, known: Iterable<string>): string {
  const near = suggest(word, known);
  return near.length === 0 ? '' : `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`;
}
