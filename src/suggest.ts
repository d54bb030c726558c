/**
 * "Did you mean …": the closest of a few known words to what was typed, as commander does for flags and
 * commands, so that every usage error (a choice, a placeholder, a time zone) can point at the fix.
 */

/** The candidate nearest to `typed` (case-insensitive edit distance), if it is near enough to be a typo. */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const word = typed.toLowerCase();
  // A beginning that fits one candidate only (`auto` → Automatic) is what was meant.
  const started = candidates.filter(
    (candidate) => word.length >= 2 && candidate.toLowerCase().startsWith(word),
  );
  if (started.length === 1) return started[0];
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  // Commander's own rule of thumb: at most 40 % of the word may differ.
  if (best === undefined || best.distance > Math.max(1, Math.floor(word.length * 0.4))) return undefined;
  return best.candidate;
}

/** ` (did you mean X?)`, or nothing: to end an error line. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const near = closest(typed, candidates);
  return near === undefined ? "" : ` (did you mean ${near}?)`;
}

/** Levenshtein distance with adjacent transpositions (Damerau, optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.length, b.length);
}
