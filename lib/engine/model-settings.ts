/**
 * What a deployment says about one model (a bundle's entry): where its files come from, whether
 * it is preloaded or pinned, and its profiles. The "default" profile decides how the model is
 * loaded (weight dtype, token budget per batch, pooling and normalisation of dense models) and
 * its runtime defaults; another profile, chosen per request (SIE's `options.profile`), changes
 * only runtime options: query / document templates, instruction, output types, is_query.
 */
import { EngineError } from '../errors/engine-error.js';
import type { WeightDtype } from '../bindings/native-addon.js';
import type { OutputType } from '../families/index.js';
import type { PoolingMode } from '../families/checkpoint.js';

export interface RuntimeOptions {
  /** "{text}" and "{instruction}" are filled in, as SIE's templates. */
  queryTemplate?: string;
  docTemplate?: string;
  instruction?: string;
  outputTypes?: OutputType[];
  isQuery?: boolean;
}

export interface ModelProfile extends RuntimeOptions {
  dtype?: WeightDtype | 'auto';
  maxBatchTokens?: number;
  pooling?: PoolingMode;
  normalize?: boolean;
}

export interface ModelSettings {
  /** The id clients use. */
  id: string;
  /** A hub id or a model directory (default: the id). */
  source?: string;
  preload?: boolean;
  pin?: boolean;
  profiles?: Record<string, ModelProfile>;
}

export const DEFAULT_PROFILE = 'default';

/** The default profile's settings (load time and runtime defaults). */
export function defaultProfile(settings: ModelSettings | undefined): ModelProfile {
  return settings?.profiles?.[DEFAULT_PROFILE] ?? {};
}

/** Runtime options of a named profile over the default one's; INVALID_INPUT for an unknown name. */
export function runtimeOptions(settings: ModelSettings | undefined, profile: string | undefined, modelId: string): RuntimeOptions {
  const base = defaultProfile(settings);
  if (profile === undefined || profile === DEFAULT_PROFILE) return base;
  const chosen = settings?.profiles?.[profile];
  if (!chosen) {
    const known = Object.keys(settings?.profiles ?? {});
    throw new EngineError('INVALID_INPUT', `model ${modelId} has no profile '${profile}' (profiles: ${known.length ? known.join(', ') : 'none'})`, { param: 'params.options.profile' });
  }
  const { queryTemplate, docTemplate, instruction, outputTypes, isQuery } = chosen;
  const defined = Object.entries({ queryTemplate, docTemplate, instruction, outputTypes, isQuery }).filter(([, v]) => v !== undefined);
  return { ...base, ...Object.fromEntries(defined) };
}
