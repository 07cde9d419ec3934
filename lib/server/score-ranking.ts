/** Rerank answers of every API family: highest score first. */

/** Highest score first, with a 0-based rank; `entry` builds each answer from its score and input position. */
export function rankByScore<T>(scores: number[], entry: (score: number, index: number) => T): Array<T & { rank: number }> {
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score)
    .map(({ score, index }, rank) => ({ ...entry(score, index), rank }));
}
