/**
 * Reads a bundle (`--bundle FILE` or SIE_BUNDLE): YAML or JSON, validated against
 * bundle-schema.ts with every error naming the key at fault, then turned into server flags and
 * the engine's per-model settings.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { ModelProfile, ModelSettings } from '../engine/model-settings.js';
import { BUNDLE_SCHEMA } from './bundle-schema.js';

export class BundleError extends Error {}

export interface Bundle {
  /** `serve` flags by long name, as a --config file gives them. */
  server: Record<string, unknown>;
  models: ModelSettings[];
}

const validate = new Ajv({ allErrors: false, strict: false }).compile(BUNDLE_SCHEMA);

function describe(error: ErrorObject): string {
  const at = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty;
    return `unknown key '${at ? `${at}.` : ''}${key}'`;
  }
  if (error.keyword === 'required') return `${at || 'the bundle'} needs '${(error.params as { missingProperty: string }).missingProperty}'`;
  if (error.keyword === 'enum') return `${at} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (error.keyword === 'pattern' && /template$/.test(at)) return `${at} must contain {text}`;
  return `${at || 'the bundle'} ${error.message}`;
}

type RawProfile = {
  dtype?: ModelProfile['dtype']; max_batch_tokens?: number; pooling?: ModelProfile['pooling']; normalize?: boolean;
  query_template?: string; doc_template?: string; instruction?: string; output_types?: ModelProfile['outputTypes']; is_query?: boolean;
};

function profileOf(raw: RawProfile): ModelProfile {
  const profile: ModelProfile = {
    dtype: raw.dtype, maxBatchTokens: raw.max_batch_tokens, pooling: raw.pooling, normalize: raw.normalize,
    queryTemplate: raw.query_template, docTemplate: raw.doc_template, instruction: raw.instruction, outputTypes: raw.output_types, isQuery: raw.is_query,
  };
  return Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined)) as ModelProfile;
}

export function parseBundle(text: string, file: string): Bundle {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new BundleError(`bundle ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  if (!validate(raw)) throw new BundleError(`bundle ${file}: ${describe(validate.errors![0])}`);
  const bundle = raw as { server?: Record<string, unknown>; models: Array<{ id: string; source?: string; preload?: boolean; pin?: boolean; profiles?: Record<string, RawProfile> }> };
  const ids = new Set<string>();
  for (const model of bundle.models) {
    if (ids.has(model.id)) throw new BundleError(`bundle ${file}: model '${model.id}' is listed twice`);
    ids.add(model.id);
  }
  return {
    server: bundle.server ?? {},
    models: bundle.models.map((m) => ({
      id: m.id,
      source: m.source,
      preload: m.preload ?? true,
      pin: m.pin ?? false,
      profiles: Object.fromEntries(Object.entries(m.profiles ?? {}).map(([name, p]) => [name, profileOf(p)])),
    })),
  };
}

export function readBundle(file: string): Bundle {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new BundleError(`cannot read bundle ${file}: ${(error as Error).message}`);
  }
  return parseBundle(text, file);
}
