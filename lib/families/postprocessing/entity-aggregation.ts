/**
 * Token classification to entities: BIO labels aggregated into character spans (code points),
 * as transformers' token-classification pipeline does with its "simple" strategy.
 */

export interface Entity {
  text: string;
  label: string;
  score: number;
  start: number;
  end: number;
}

/** Entity types of a BIO label set: "B-PER", "I-PER" -> "PER"; plain labels other than "O" stand for themselves. */
export function entityTypes(labels: string[]): Set<string> {
  return new Set(labels.filter((l) => l !== 'O').map((l) => l.replace(/^[BI]-/, '')));
}

export interface TokenPrediction {
  label: string;
  score: number;
  span: [number, number];
  continuation: boolean;
}

/**
 * BIO aggregation: an entity starts at B-X (or at I-X after something else) and continues over
 * I-X tokens and over word pieces of the same word; its score is the mean of its tokens' scores.
 */
export function aggregateBio(text: string, tokens: TokenPrediction[]): Entity[] {
  const entities: Entity[] = [];
  let current: { label: string; start: number; end: number; scores: number[] } | undefined;
  const close = () => {
    if (current) {
      entities.push({ text: sliceCodePoints(text, current.start, current.end), label: current.label, score: current.scores.reduce((a, b) => a + b, 0) / current.scores.length, start: current.start, end: current.end });
    }
    current = undefined;
  };
  for (const token of tokens) {
    const type = token.label === 'O' ? null : token.label.replace(/^[BI]-/, '');
    const inside = token.label.startsWith('I-') || token.continuation;
    if (current && (token.continuation || (type === current.label && inside))) {
      current.end = token.span[1];
      current.scores.push(token.score);
      continue;
    }
    close();
    if (type) current = { label: type, start: token.span[0], end: token.span[1], scores: [token.score] };
  }
  close();
  return entities;
}

/** A span in code points -> the substring of text (Python's slicing, which entity offsets follow). */
export function sliceCodePoints(text: string, start: number, end: number): string {
  return [...text].slice(start, end).join('');
}
