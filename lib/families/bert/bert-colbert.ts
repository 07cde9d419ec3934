/**
 * ColBERT in PyLate's layout (a BERT, XLM-R or ModernBERT encoder + pylate Dense projection, e.g.
 * GTE-ModernColBERT): one unit vector per token.
 * Queries and documents get PyLate's marker token after [CLS]; document vectors drop the
 * skiplist's tokens (punctuation), as PyLate does, queries keep all.
 */
import path from 'node:path';
import { EngineError } from '../../errors/engine-error.js';
import { findModule, readJsonIfPresent, safeJoin } from '../checkpoint.js';
import type { EncodeContext, ModelAdapter, ModelFamily, MultiVectorEncoding, SequenceOutput, Vocabulary } from '../model-family.js';
import { readEncoderBase } from '../encoder-base.js';

const nonEmpty = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export const bertColbert: ModelFamily = {
  name: 'bert-colbert',
  detect(checkpoint): ModelAdapter | undefined {
    const dense = findModule(checkpoint, 'Dense');
    if (!dense || !(dense.type ?? '').startsWith('pylate.')) return undefined;
    const base = readEncoderBase(checkpoint);
    if (!base) return undefined;
    const denseDir = safeJoin(checkpoint.directory, dense.path ?? '');
    const width = (readJsonIfPresent(path.join(denseDir, 'config.json')) ?? {}).out_features;
    if (typeof width !== 'number' || !Number.isInteger(width) || width < 1) {
      throw new EngineError('BAD_CONFIG', `${dense.path}/config.json: out_features must be a positive integer`);
    }
    const st = checkpoint.sentenceTransformers;
    const queryPrefix = nonEmpty(st.query_prefix);
    const documentPrefix = nonEmpty(st.document_prefix);
    const skiplistWords = Array.isArray(st.skiplist_words) ? st.skiplist_words.filter((w): w is string => typeof w === 'string') : [];
    const projectionPath = path.join(denseDir, 'model.safetensors');
    let skiplistIds: Set<number> | undefined;  // per model, computed on first use

    const vectorsOf = (o: SequenceOutput, index: number, context: EncodeContext): MultiVectorEncoding => {
      if (context.isQuery || skiplistWords.length === 0) return { values: o.values, numTokens: o.rows, tokenDims: width };
      skiplistIds ??= new Set(skiplistWords.flatMap((word) => context.vocabulary.contentIds(word).slice(0, 1)));
      const ids = context.ids.subarray(context.offsets[index], context.offsets[index + 1]);
      const kept: number[] = [];
      ids.forEach((id, t) => {
        if (!skiplistIds!.has(id)) kept.push(t);
      });
      const values = new Float32Array(kept.length * width);
      kept.forEach((t, r) => values.set(o.values.subarray(t * width, (t + 1) * width), r * width));
      return { values, numTokens: kept.length, tokenDims: width };
    };

    return base.adapter('colbert', {
      head: { kind: 'token-projection', projectionPath, outputSize: width },
      perTokenOutput: true,
      extraWeightFiles: [projectionPath],
      encoder: {
        outputs: ['multivector'],
        dims: { multivector: width },
        markers: (isQuery: boolean, vocabulary: Vocabulary) => {
          const marker = isQuery ? queryPrefix : documentPrefix;
          return marker ? [vocabulary.idOf(marker)] : [];
        },
        decode: (outputs, context) => outputs.map((o, i) => ({ multivector: vectorsOf(o, i, context) })),
      },
    });
  },
};
