/**
 * sentence-transformers prompts (config_sentence_transformers.json `prompts` and
 * `default_prompt_name`), chosen the way SIE's sentence-transformers adapter chooses them, for
 * every family:
 *  - a query (SIE's is_query) gets the "query" prompt and anything else the "document" prompt,
 *    when the model has one;
 *  - with neither, an `instruction` is prepended as "{instruction} {text}" and the default prompt
 *    (if any) goes in front, as sentence-transformers applies default_prompt_name;
 *  - OpenAI- and Infinity-style calls get the default prompt only, as `model.encode(texts)` does.
 * The prompt is plain text joined to the input before tokenization, as sentence-transformers does.
 */
import { EngineError } from '../errors/engine-error.js';
import { findModule, readJsonIfPresent, safeJoin, type Checkpoint } from './checkpoint.js';
import path from 'node:path';

export interface Prompts {
  query?: string;
  document?: string;
  /** The prompt default_prompt_name names. */
  default?: string;
}

export interface PromptChoice {
  isQuery?: boolean;
  instruction?: string | null;
}

export function readPrompts(checkpoint: Checkpoint): Prompts {
  const st = checkpoint.sentenceTransformers;
  const raw = st.prompts;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
    throw new EngineError('BAD_CONFIG', 'config_sentence_transformers.json: prompts must map names to strings');
  }
  const prompts = raw as Record<string, string>;
  const defaultName = st.default_prompt_name;
  if (defaultName !== undefined && defaultName !== null && (typeof defaultName !== 'string' || !(defaultName in prompts))) {
    throw new EngineError('BAD_CONFIG', `config_sentence_transformers.json: default_prompt_name '${String(defaultName)}' is not one of its prompts`);
  }
  // Pooling that leaves the prompt's tokens out (include_prompt: false) would need the prompt's
  // token count in the native pooling; refusing is better than a silently different vector.
  const pooling = findModule(checkpoint, 'Pooling');
  const poolingConfig = pooling ? readJsonIfPresent(path.join(safeJoin(checkpoint.directory, pooling.path ?? ''), 'config.json')) : undefined;
  if (poolingConfig?.include_prompt === false && Object.values(prompts).some((p) => p.length > 0)) {
    throw new EngineError('BAD_CONFIG', '1_Pooling/config.json: include_prompt false (pooling without the prompt tokens) is not supported');
  }
  return {
    query: prompts.query,
    document: prompts.document,
    default: typeof defaultName === 'string' ? prompts[defaultName] : undefined,
  };
}

/** The text the model encodes for `text`. */
export function applyPrompt(prompts: Prompts, text: string, choice: PromptChoice = {}): string {
  const chosen = choice.isQuery === true ? prompts.query : choice.isQuery === false ? prompts.document : undefined;
  if (chosen !== undefined) return chosen + text;
  const instructed = choice.instruction ? `${choice.instruction} ${text}` : text;
  return (prompts.default ?? '') + instructed;
}
