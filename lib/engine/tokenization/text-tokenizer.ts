/**
 * Tokenization with @huggingface/tokenizers from the model's tokenizer.json (ASCII text of BERT
 * tokenizers takes the exact fast path in ascii-wordpiece.ts). The tokenizer
 * file's own truncation and padding settings are ignored: the model's max_seq_length decides,
 * and batches are padding-free. Special tokens and type ids come from the file's post-processor
 * template; pairs are truncated longest-first, as the Rust tokenizer does.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../../errors/engine-error.js';
import { AsciiWordPiece } from './ascii-wordpiece.js';
import { alignTokens } from './token-spans.js';

import type { TokenizedText, Vocabulary } from '../../families/model-family.js';
import type { TokenBatch } from '../scheduling/token-batch.js';

export type { TokenBatch } from '../scheduling/token-batch.js';

export interface TokenizeOptions {
  /** Truncate over-long inputs (default); when false they are refused with INPUT_TOO_LONG. */
  truncate: boolean;
  maxLength: number;
  /** Token ids inserted right after the leading special tokens (ColBERT query/document markers). */
  insertAfterPrefix?: number[];
}

/** One tokenized text: content ids and their character spans in the original string. */
export type ContentTokens = TokenizedText;

interface TemplatePiece {
  special?: number;
  sequence?: 'A' | 'B';
  typeId: number;
}

interface RawTemplatePiece {
  SpecialToken?: { id: string; type_id?: number };
  Sequence?: { id: 'A' | 'B'; type_id?: number };
}

export class TextTokenizer implements Vocabulary {
  private readonly tokenizer: Tokenizer;
  /** BERT tokenizers' ASCII fast path (ascii-wordpiece.ts); absent for other pipelines. */
  private readonly asciiWordPiece: AsciiWordPiece | undefined;
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
    this.asciiWordPiece = AsciiWordPiece.from(tokenizerJson, tokenizerConfig);
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
    return this.asciiWordPiece?.contentIds(text) ?? this.tokenizer.encode(text, { add_special_tokens: false }).ids;
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
    return this.pairBatchOfContent(pairs.map(([a, b]) => [this.contentIds(a), this.contentIds(b)] as const), options);
  }

  /** Like pairBatch(), from content ids already computed. */
  pairBatchOfContent(pairs: ReadonlyArray<readonly [number[], number[]]>, options: TokenizeOptions): { batch: TokenBatch; tokenCounts: number[] } {
    const specials = this.pair.filter((p) => p.special !== undefined).length;
    const room = options.maxLength - specials;
    const sequences = pairs.map(([first, second], i) => {
      let a = first;
      let b = second;
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
  if (post?.type === 'RobertaProcessing') {
    // RoBERTa's frame (CLIP's tokenizers use it too): <s> A </s>, and <s> A </s> </s> B </s>, one type.
    const cls = idOf((post.cls as [string, number])[0]);
    const sep = idOf((post.sep as [string, number])[0]);
    return [
      [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }],
      [{ special: cls, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: sep, typeId: 0 }, { special: sep, typeId: 0 }, { sequence: 'B', typeId: 0 }, { special: sep, typeId: 0 }],
    ];
  }
  return [[{ sequence: 'A', typeId: 0 }], [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }]];
}
