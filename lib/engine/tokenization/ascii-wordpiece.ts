/**
 * A fast path for the commonest tokenization of all: ASCII text through a BERT tokenizer
 * (BertNormalizer with clean_text, BertPreTokenizer, WordPiece), the pipeline of MiniLM, bge,
 * e5 and every other BERT-family checkpoint. It computes exactly what the Rust HF tokenizer does
 * for such text, in a fraction of @huggingface/tokenizers' time (that library runs the general
 * pipeline: Unicode normalization, offsets, token strings):
 *   - clean_text: control characters are dropped, \t \n \r become spaces;
 *   - lowercase (when the normalizer says so); accents and CJK spacing are no-ops on ASCII;
 *   - words split on spaces, and every ASCII punctuation character is a word of its own;
 *   - WordPiece: greedy longest match, "##" continuations, [UNK] for a word with no match or
 *     longer than max_input_chars_per_word.
 * Anything else returns undefined and goes through the library: a character above 0x7F, or text
 * containing an added token (such as "[MASK]", or one of tokenizer_config.json's
 * additional_special_tokens), which the library extracts before normalizing.
 * Tested against the Rust tokenizer on random ASCII text (test/ascii-wordpiece.test.ts).
 */

/** Word -> piece ids, cleared when full: real text repeats its words. */
const WORD_CACHE_LIMIT = 65536;

interface TokenizerJson {
  normalizer?: { type?: string; clean_text?: boolean; lowercase?: boolean } | null;
  pre_tokenizer?: { type?: string } | null;
  model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
  added_tokens?: Array<{ content: string }>;
}

export class AsciiWordPiece {
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly unkId: number,
    private readonly prefix: string,
    private readonly maxChars: number,
    private readonly lowercase: boolean,
    /** Added tokens' contents, lowercased: text holding one goes to the library. */
    private readonly addedLower: string[],
  ) {}

  /**
   * The fast path for this tokenizer.json (and tokenizer_config.json, whose extra special tokens
   * the library also extracts), or undefined where the pipeline is not BERT's.
   */
  static from(tokenizerJson: object, tokenizerConfig: object = {}): AsciiWordPiece | undefined {
    const json = tokenizerJson as TokenizerJson;
    const config = tokenizerConfig as { additional_special_tokens?: Array<string | { content?: string }>; do_lowercase_and_remove_accent?: boolean };
    if (config.do_lowercase_and_remove_accent) return undefined;
    const { normalizer, pre_tokenizer: pre, model } = json;
    if (normalizer?.type !== 'BertNormalizer' || normalizer.clean_text === false) return undefined;
    if (pre?.type !== 'BertPreTokenizer' || model?.type !== 'WordPiece' || !model.vocab) return undefined;
    const vocab = new Map(Object.entries(model.vocab));
    const unkId = vocab.get(model.unk_token ?? '[UNK]');
    if (unkId === undefined) return undefined;
    const extra = (config.additional_special_tokens ?? []).map((t) => (typeof t === 'string' ? t : t.content ?? ''));
    const added = [...(json.added_tokens ?? []).map((t) => t.content), ...extra].map((t) => t.toLowerCase()).filter((t) => t.length > 0);
    return new AsciiWordPiece(vocab, unkId, model.continuing_subword_prefix ?? '##', model.max_input_chars_per_word ?? 100, normalizer.lowercase ?? true, added);
  }

  /** Content ids of `text` (no special tokens), or undefined where the library must decide. */
  contentIds(text: string): number[] | undefined {
    let controls = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return undefined;
      if (c < 0x20 || c === 0x7f) controls = true;
    }
    const lower = text.toLowerCase();
    for (const token of this.addedLower) if (lower.includes(token)) return undefined;
    let s = this.lowercase ? lower : text;
    // clean_text: \t \n \r are whitespace; every other control character is removed (it does
    // not split the word it sits in).
    if (controls) s = s.replace(/[\t\n\r]/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
    const ids: number[] = [];
    let start = -1;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 0x20;
      const space = c === 0x20;
      if (space || isAsciiPunctuation(c)) {
        if (start >= 0) this.pushWord(s.slice(start, i), ids);
        start = -1;
        if (!space) this.pushWord(s[i], ids);
      } else if (start < 0) {
        start = i;
      }
    }
    return ids;
  }

  private pushWord(word: string, ids: number[]): void {
    let pieces = this.cache.get(word);
    if (!pieces) {
      pieces = this.wordPiece(word);
      if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, pieces);
    }
    for (const id of pieces) ids.push(id);
  }

  private wordPiece(word: string): number[] {
    if (word.length > this.maxChars) return [this.unkId];
    const pieces: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      while (start < end) {
        const piece = start > 0 ? this.prefix + word.slice(start, end) : word.slice(start, end);
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}

/** The 32 ASCII punctuation characters (Rust's char::is_ascii_punctuation), BERT's splitters. */
function isAsciiPunctuation(c: number): boolean {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}
