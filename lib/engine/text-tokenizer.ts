/**
 * Tokenization with @huggingface/tokenizers from the model's tokenizer.json. The tokenizer
 * file's own truncation and padding settings are ignored: the model's max_seq_length decides,
 * and batches are padding-free. Special tokens and type ids come from the file's post-processor
 * template; pairs are truncated longest-first, as the Rust tokenizer does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from './engine-error.js';

/** A padding-free batch ready for the native engine. */
export interface TokenBatch {
  ids: Int32Array;
  typeIds: Int32Array;
  /** offsets[i]..offsets[i+1] are the tokens of sequence i. */
  offsets: Int32Array;
}

export interface TokenizeOptions {
  /** Truncate over-long inputs (default); when false they are refused with INPUT_TOO_LONG. */
  truncate: boolean;
  maxLength: number;
  /** Token ids inserted right after the leading special tokens (ColBERT query/document markers). */
  insertAfterPrefix?: number[];
}

/** One tokenized text: content ids and their character spans in the original string. */
export interface ContentTokens {
  ids: number[];
  tokens: string[];
  spans: Array<[number, number]>;
}

interface TemplatePiece {
  special?: number;
  sequence?: 'A' | 'B';
  typeId: number;
}

interface RawTemplatePiece {
  SpecialToken?: { id: string; type_id?: number };
  Sequence?: { id: 'A' | 'B'; type_id?: number };
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly single: TemplatePiece[];
  private readonly pair: TemplatePiece[];
  readonly vocabSize: number;

  constructor(directory: string) {
    const file = path.join(directory, 'tokenizer.json');
    if (!existsSync(file)) throw new EngineError('BAD_CONFIG', `${directory} has no tokenizer.json`);
    const tokenizerJson = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const configFile = path.join(directory, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as object) : {};
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    [this.single, this.pair] = templatesOf(tokenizerJson, (token) => this.idOf(token));
    this.vocabSize = this.tokenizer.get_vocab(true).size;
  }

  idOf(token: string): number {
    const id = this.tokenizer.token_to_id(token);
    if (id === undefined) throw new EngineError('BAD_CONFIG', `the tokenizer has no token ${token}`);
    return id;
  }

  tokenOf(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  /** Token ids of one text, without special tokens. */
  contentIds(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Content tokens with character spans into `text` (for entity extraction). */
  contentTokens(text: string): ContentTokens {
    const encoding = this.tokenizer.encode(text, { add_special_tokens: false });
    return { ids: encoding.ids, tokens: encoding.tokens, spans: alignTokens(text, encoding.tokens) };
  }

  /** Special tokens around one sequence, with the room they leave for content. */
  private singleFrame(maxLength: number, inserted: number[]): { prefix: number[]; suffix: number[]; room: number } {
    const at = this.single.findIndex((p) => p.sequence !== undefined);
    const prefix = [...this.single.slice(0, at).map((p) => p.special!), ...inserted];
    const suffix = this.single.slice(at + 1).map((p) => p.special!);
    const room = maxLength - prefix.length - suffix.length;
    if (room < 1) throw new EngineError('BAD_CONFIG', 'max_seq_length leaves no room for content tokens');
    return { prefix, suffix, room };
  }

  /**
   * Builds a batch from texts or from pre-tokenized content ids (which get the same special
   * tokens a text would). `what` names the request field in errors.
   */
  batch(inputs: ReadonlyArray<string | ReadonlyArray<number>>, options: TokenizeOptions, what = 'input'): { batch: TokenBatch; tokenCounts: number[] } {
    return this.batchOfContent(inputs.map((input) => (typeof input === 'string' ? this.contentIds(input) : [...input])), options, what);
  }

  /** Like batch(), from content ids already computed. */
  batchOfContent(contents: number[][], options: TokenizeOptions, what = 'input'): { batch: TokenBatch; tokenCounts: number[] } {
    const { prefix, suffix, room } = this.singleFrame(options.maxLength, options.insertAfterPrefix ?? []);
    const sequences = contents.map((content, i) => {
      if (content.length > room) {
        if (!options.truncate) {
          throw new EngineError('INPUT_TOO_LONG', `${what}[${i}] has ${content.length + options.maxLength - room} tokens, more than the model's limit of ${options.maxLength}; enable truncation or shorten it`, { param: `${what}[${i}]` });
        }
        content = content.slice(0, room);
      }
      return { ids: [...prefix, ...content, ...suffix], typeIds: null };
    });
    return packSequences(sequences);
  }

  /** Query/document pairs for cross-encoders: the pair template, longest-first truncation. */
  pairBatch(pairs: ReadonlyArray<readonly [string, string]>, options: TokenizeOptions): { batch: TokenBatch; tokenCounts: number[] } {
    const specials = this.pair.filter((p) => p.special !== undefined).length;
    const room = options.maxLength - specials;
    const sequences = pairs.map(([first, second], i) => {
      let a = this.contentIds(first);
      let b = this.contentIds(second);
      if (a.length + b.length > room) {
        if (!options.truncate) {
          throw new EngineError('INPUT_TOO_LONG', `pair ${i} has ${a.length + b.length + specials} tokens, more than the model's limit of ${options.maxLength}`, { param: `items[${i}]` });
        }
        [a, b] = truncateLongestFirst(a, b, Math.max(0, room));
      }
      const ids: number[] = [];
      const typeIds: number[] = [];
      for (const piece of this.pair) {
        const part = piece.special !== undefined ? [piece.special] : piece.sequence === 'A' ? a : b;
        for (const id of part) {
          ids.push(id);
          typeIds.push(piece.typeId);
        }
      }
      return { ids, typeIds };
    });
    return packSequences(sequences);
  }
}

/** Removes tokens from the longer sequence, one at a time, until both fit (the Rust tokenizer's longest_first). */
export function truncateLongestFirst(a: number[], b: number[], room: number): [number[], number[]] {
  let na = a.length, nb = b.length;
  while (na + nb > room) {
    if (na > nb) na--;
    else nb--;
  }
  return [a.slice(0, na), b.slice(0, nb)];
}

function packSequences(sequences: Array<{ ids: number[]; typeIds: number[] | null }>): { batch: TokenBatch; tokenCounts: number[] } {
  const total = sequences.reduce((sum, s) => sum + s.ids.length, 0);
  const ids = new Int32Array(total);
  const typeIds = new Int32Array(total);
  const offsets = new Int32Array(sequences.length + 1);
  let at = 0;
  sequences.forEach((s, i) => {
    ids.set(s.ids, at);
    if (s.typeIds) typeIds.set(s.typeIds, at);
    at += s.ids.length;
    offsets[i + 1] = at;
  });
  return { batch: { ids, typeIds, offsets }, tokenCounts: sequences.map((s) => s.ids.length) };
}

function templatesOf(tokenizerJson: Record<string, unknown>, idOf: (token: string) => number): [TemplatePiece[], TemplatePiece[]] {
  const post = tokenizerJson.post_processor as Record<string, unknown> | null | undefined;
  const convert = (pieces: RawTemplatePiece[]): TemplatePiece[] => pieces.map((p) =>
    p.SpecialToken ? { special: idOf(p.SpecialToken.id), typeId: p.SpecialToken.type_id ?? 0 } : { sequence: p.Sequence?.id ?? 'A', typeId: p.Sequence?.type_id ?? 0 });
  if (post?.type === 'TemplateProcessing' && Array.isArray(post.single) && Array.isArray(post.pair)) {
    return [convert(post.single as RawTemplatePiece[]), convert(post.pair as RawTemplatePiece[])];
  }
  if (post?.type === 'BertProcessing') {
    const cls = idOf((post.cls as [string, number])[0]);
    const sep = idOf((post.sep as [string, number])[0]);
    return [
      [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }],
      [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: sep, typeId: 1 }],
    ];
  }
  return [[{ sequence: 'A', typeId: 0 }], [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }]];
}

/** BERT's pre-tokenizer splits on whitespace, punctuation (ASCII symbols and Unicode P*) and around each CJK ideograph. */
const isSpace = (c: string) => /\s/u.test(c);
const isPunctuation = (c: string) => /[!-/:-@[-`{-~]/.test(c) || /\p{P}/u.test(c);
const isCjk = (c: string) => /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/u.test(c);

/**
 * Character spans of WordPiece tokens in the original text, in code points (as Python and the
 * Rust tokenizer count them, so `[...text].slice(start, end)` is the token's text). The tokenizer
 * lowercases and strips accents, so the text is normalised the same way character by character,
 * keeping for every normalised character the index of the original one it came from; each token
 * (without "##") is then found in order. An unknown token covers the rest of its pre-token word.
 */
export function alignTokens(text: string, tokens: string[]): Array<[number, number]> {
  const normalized: string[] = [];
  const origin: number[] = [];
  const original = [...text];
  original.forEach((char, index) => {
    const folded = char.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (const c of folded) {
      normalized.push(c);
      origin.push(index);
    }
  });
  const at = (i: number) => (i < origin.length ? origin[i] : original.length);
  const spans: Array<[number, number]> = [];
  let cursor = 0;
  for (const token of tokens) {
    const piece = token.startsWith('##') ? token.slice(2) : token;
    while (cursor < normalized.length && isSpace(normalized[cursor])) cursor++;
    // Special tokens written literally in the text ("[UNK]", "[SEP]") match themselves.
    const literal = /^\[[A-Z]+\]$/.test(piece) ? [...piece.toLowerCase()] : null;
    if (literal && literal.every((c, j) => normalized[cursor + j] === c)) {
      spans.push([origin[cursor], origin[cursor + literal.length - 1] + 1]);
      cursor += literal.length;
      continue;
    }
    if (piece !== '[UNK]' && piece.length > 0) {
      const chars = [...piece];
      let found = -1;
      for (let i = cursor; i + chars.length <= normalized.length && found < 0; i++) {
        if (chars.every((c, j) => normalized[i + j] === c)) found = i;
      }
      if (found >= 0) {
        const last = found + chars.length - 1;
        spans.push([origin[found], origin[last] + 1]);
        cursor = last + 1;
        continue;
      }
    }
    let stop = cursor + 1;
    const single = cursor < normalized.length && (isPunctuation(normalized[cursor]) || isCjk(normalized[cursor]));
    if (!single) {
      while (stop < normalized.length && !isSpace(normalized[stop]) && !isPunctuation(normalized[stop]) && !isCjk(normalized[stop])) stop++;
    }
    spans.push([at(cursor), at(stop)]);
    cursor = stop;
  }
  return spans;
}

/** A span in code points -> the substring of text. */
export function sliceCodePoints(text: string, start: number, end: number): string {
  return [...text].slice(start, end).join('');
}
