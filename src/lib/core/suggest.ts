/** Levenshtein distance between two words. */
function distance(a: string, b: string): number {
  const dp = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]
    dp[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }

  return dp[b.length]
}

/**
 * The candidate closest to `word` (did-you-mean), or undefined when none is close: a prefix of one candidate, or at
 * most a third of the word's letters apart (at least 1, at most 3).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  if (!w) return undefined
  const prefixed = candidates.filter(c => c.toLowerCase().startsWith(w))
  if (prefixed.length === 1) return prefixed[0]
  return nearest(w, candidates, Math.min(3, Math.max(1, Math.floor(w.length / 3))))
}

/** The candidate fewest edits from `word` (case aside), at most `max` edits away; the first of equals. */
export function nearest(word: string, candidates: readonly string[], max: number): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestD = max + 1
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase())
    if (d < bestD) {
      best = c
      bestD = d
    }
  }

  return best
}
