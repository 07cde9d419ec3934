/**
 * Tokenization with @huggingface/tokenizers from the model's tokenizer.json. The tokenizer
 * file's own truncation and padding settings are ignored: the model's max_seq_length decides,
 * and batches are padding-free. Special tokens come from the file's post-processor.
 */
import { readFileSync, existsSync } from 'node:fs';
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
}

interface SpecialTokens {
  prefix: number[];
  suffix: number[];
}

interface TemplatePiece {
  SpecialToken?: { id: string };
  Sequence?: { id: string };
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly special: SpecialTokens;
  readonly vocabSize: number;

  constructor(directory: string) {
    const file = path.join(directory, 'tokenizer.json');
    if (!existsSync(file)) throw new EngineError('BAD_CONFIG', `${directory} has no tokenizer.json`);
    const tokenizerJson = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const configFile = path.join(directory, 'tokenizer_config.json');
    const tokenizerConfig = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as object) : {};
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.special = specialTokensOf(tokenizerJson, this.tokenizer);
    this.vocabSize = this.tokenizer.get_vocab(true).size;
  }

  /** Token ids of one text, without special tokens. */
  contentIds(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * Builds a batch from texts or from pre-tokenized content ids (which get the same special
   * tokens a text would). `what` names the request field in errors.
   */
  batch(inputs: ReadonlyArray<string | ReadonlyArray<number>>, options: TokenizeOptions, what = 'input'): { batch: TokenBatch; tokenCounts: number[] } {
    const room = options.maxLength - this.special.prefix.length - this.special.suffix.length;
    if (room < 1) throw new EngineError('BAD_CONFIG', 'max_seq_length leaves no room for content tokens');
    const sequences: number[][] = inputs.map((input, i) => {
      const content = typeof input === 'string' ? this.contentIds(input) : [...input];
      if (content.length > room) {
        if (!options.truncate) {
          throw new EngineError('INPUT_TOO_LONG', `${what}[${i}] has ${content.length + options.maxLength - room} tokens, more than the model's limit of ${options.maxLength}; enable truncation or shorten it`, { param: `${what}[${i}]` });
        }
        content.length = room;
      }
      return [...this.special.prefix, ...content, ...this.special.suffix];
    });
    const total = sequences.reduce((sum, s) => sum + s.length, 0);
    const ids = new Int32Array(total);
    const offsets = new Int32Array(sequences.length + 1);
    let at = 0;
    sequences.forEach((s, i) => {
      ids.set(s, at);
      at += s.length;
      offsets[i + 1] = at;
    });
    return { batch: { ids, typeIds: new Int32Array(total), offsets }, tokenCounts: sequences.map((s) => s.length) };
  }
}

function specialTokensOf(tokenizerJson: Record<string, unknown>, tokenizer: Tokenizer): SpecialTokens {
  const post = tokenizerJson.post_processor as Record<string, unknown> | null | undefined;
  const idOf = (token: string): number => {
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new EngineError('BAD_CONFIG', `tokenizer.json names special token ${token} but has no id for it`);
    return id;
  };
  if (post?.type === 'TemplateProcessing' && Array.isArray(post.single)) {
    const pieces = post.single as TemplatePiece[];
    const at = pieces.findIndex((p) => p.Sequence !== undefined);
    const ids = (list: TemplatePiece[]) => list.filter((p) => p.SpecialToken).map((p) => idOf(p.SpecialToken!.id));
    return { prefix: ids(pieces.slice(0, at)), suffix: ids(pieces.slice(at + 1)) };
  }
  if (post?.type === 'BertProcessing' || post?.type === 'RobertaProcessing') {
    const cls = post.cls as [string, number];
    const sep = post.sep as [string, number];
    return { prefix: [cls[1]], suffix: [sep[1]] };
  }
  return { prefix: [], suffix: [] };
}
