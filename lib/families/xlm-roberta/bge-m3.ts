/**
 * BAAI/bge-m3: an XLM-RoBERTa encoder with two extra heads next to it (colbert_linear.pt,
 * sparse_linear.pt), giving dense, sparse and multivector outputs from one forward, as SIE's
 * bge_m3 adapters compute them. The native head computes only what a request asks for:
 *  - dense: the <s> state, L2-normalised;
 *  - sparse: relu(sparse_linear(h)) per token; here the max per token id, skipping <s>, </s>,
 *    <pad> and <unk> and weights <= 0, in order of first occurrence; indices are vocabulary ids;
 *  - multivector: colbert_linear(h) for every token after <s> (the final </s> included),
 *    L2-normalised per token.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readJsonIfPresent } from '../checkpoint.js';
import type { EncodeContext, EncodedItem, ModelAdapter, ModelFamily, SequenceOutput, SparseEncoding, Vocabulary } from '../model-family.js';
import { readBertBase } from '../bert/bert-encoder.js';

/** The special tokens SIE's adapter drops from sparse outputs: cls, eos, pad and unk. */
const SPARSE_SKIPPED_TOKENS = ['cls_token', 'eos_token', 'pad_token', 'unk_token'] as const;

function specialTokenNames(directory: string): string[] {
  const config = { ...readJsonIfPresent(path.join(directory, 'special_tokens_map.json')), ...readJsonIfPresent(path.join(directory, 'tokenizer_config.json')) };
  return SPARSE_SKIPPED_TOKENS.flatMap((key) => {
    const value = config[key] as unknown;
    const name = typeof value === 'string' ? value : (value as { content?: unknown } | undefined)?.content;
    return typeof name === 'string' ? [name] : [];
  });
}

function sparseOf(weights: SequenceOutput, ids: Int32Array, skipped: Set<number>, dims: number): SparseEncoding {
  const best = new Map<number, number>();  // insertion order = first occurrence, as SIE's dict
  weights.values.forEach((weight, t) => {
    const id = ids[t];
    if (skipped.has(id) || !(weight > 0)) return;
    const previous = best.get(id);
    if (previous === undefined || weight > previous) best.set(id, weight);
  });
  return { indices: Int32Array.from(best.keys()), values: Float32Array.from(best.values()), dims };
}

export const bgeM3: ModelFamily = {
  name: 'bge-m3',
  detect(checkpoint): ModelAdapter | undefined {
    const colbertPath = path.join(checkpoint.directory, 'colbert_linear.pt');
    const sparsePath = path.join(checkpoint.directory, 'sparse_linear.pt');
    if (checkpoint.config.model_type !== 'xlm-roberta' || !existsSync(colbertPath) || !existsSync(sparsePath)) return undefined;
    const base = readBertBase(checkpoint);
    const hidden = base.shape.hiddenSize;
    const specialNames = specialTokenNames(checkpoint.directory);
    let skipped: Set<number> | undefined;  // resolved against the tokenizer on first use
    const skippedIds = (vocabulary: Vocabulary) => (skipped ??= new Set(specialNames.map((name) => vocabulary.idOf(name))));
    const decodeOne = (o: SequenceOutput, i: number, context: EncodeContext): EncodedItem => {
      const item: EncodedItem = {};
      const parts = o.parts ?? {};
      if (context.outputTypes.includes('dense') && parts.dense) item.dense = parts.dense.values;
      if (context.outputTypes.includes('sparse') && parts.sparse) {
        const ids = context.ids.subarray(context.offsets[i], context.offsets[i + 1]);
        item.sparse = sparseOf(parts.sparse, ids, skippedIds(context.vocabulary), base.shape.vocabSize);
      }
      if (context.outputTypes.includes('multivector') && parts.multivector) {
        item.multivector = { values: parts.multivector.values, numTokens: parts.multivector.rows, tokenDims: hidden };
      }
      return item;
    };
    return {
      ...base.adapter('bge-m3', {
        head: { kind: 'bge-m3', projectionPath: colbertPath, sparsePath, normalize: true },
        extraWeightFiles: [colbertPath, sparsePath],
        encoder: {
          outputs: ['dense', 'sparse', 'multivector'],
          dims: { dense: hidden, sparse: base.shape.vocabSize, multivector: hidden },
          decode: (outputs, context) => outputs.map((o, i) => decodeOne(o, i, context)),
        },
      }),
      family: 'bge-m3',
    };
  },
};
