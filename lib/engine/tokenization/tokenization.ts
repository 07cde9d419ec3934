/**
 * The one tokenization path of every task (encode, score, extract): small requests are
 * tokenized on the event loop (a round trip to a worker costs more than a few short texts),
 * large ones on the TokenizationPool's worker threads. Reports its time to the observer.
 */
import type { TokenizedText } from '../../families/model-family.js';
import type { TextTokenizer } from './text-tokenizer.js';
import type { TokenizationPool } from './tokenization-pool.js';

/** Requests with fewer characters than this are tokenized inline (well under a millisecond). */
export const INLINE_TOKENIZATION_CHARS = 16384;

export interface TokenizationObserver {
  onTokenization?(model: string, ms: number): void;
}

export class Tokenization {
  constructor(private readonly pool: TokenizationPool | undefined, private readonly observer: TokenizationObserver = {}) {}

  /** Content tokens (no special tokens) of each text; token strings and spans only when asked. */
  async contentTokens(model: string, directory: string, tokenizer: TextTokenizer, texts: string[], withTokens = false): Promise<TokenizedText[]> {
    const started = performance.now();
    const characters = texts.reduce((n, t) => n + t.length, 0);
    const result = !this.pool || characters < INLINE_TOKENIZATION_CHARS
      ? texts.map((text) => (withTokens ? tokenizer.contentTokens(text) : { ids: tokenizer.contentIds(text), tokens: [], spans: [] }))
      : await this.pool.tokenize(directory, texts, withTokens);
    this.observer.onTokenization?.(model, performance.now() - started);
    return result;
  }
}
