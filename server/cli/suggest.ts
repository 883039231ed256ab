/** "did you mean": the closest known command or flag to a mistyped one (edit distance, via `leven`). */
import leven from 'leven';

/**
 * The candidate nearest to `typed`, when it is near enough to be a typo: at most a third of the
 * longer word's letters differ (at least one), so `stauts` finds `status` but `foo` finds nothing.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { word: string; distance: number; prefix: number } | undefined;
  for (const word of candidates) {
    const distance = leven(typed.toLowerCase(), word.toLowerCase());
    // Between equally near words, the one that starts like the typed one: `--jsn` is `--json`, not `--dsn`.
    const prefix = commonPrefix(typed.toLowerCase(), word.toLowerCase());
    if (best === undefined || distance < best.distance || (distance === best.distance && prefix > best.prefix)) best = { word, distance, prefix };
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(typed.length, best.word.length) / 3));
  return best.distance <= allowed ? best.word : undefined;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
