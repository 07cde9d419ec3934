/**
 * The JSON schema of a bundle file (YAML or JSON), in SIE's spirit: server settings by their
 * `serve` flag names, and a list of models with optional profiles. Keys are SIE's snake_case.
 */
const profile = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dtype: { enum: ['fp32', 'fp16', 'bf16', 'bf16x3', 'bf16x3q', 'auto'] },
    max_batch_tokens: { type: 'integer', minimum: 16 },
    pooling: { enum: ['mean', 'cls', 'last'] },
    normalize: { type: 'boolean' },
    query_template: { type: 'string', pattern: '\\{text\\}' },
    doc_template: { type: 'string', pattern: '\\{text\\}' },
    instruction: { type: 'string' },
    output_types: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['dense', 'sparse', 'multivector'] } },
    is_query: { type: 'boolean' },
  },
} as const;

const scalar = { type: ['string', 'number', 'boolean'] };

export const BUNDLE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['models'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    server: {
      type: 'object',
      additionalProperties: false,
      // The `serve` flags a bundle may set (models come from the list below).
      properties: Object.fromEntries([
        'host', 'port', 'models-dir', 'threads', 'max-batch-tokens', 'max-inputs-per-request', 'body-limit-bytes', 'sie-body-limit-bytes', 'log-level',
        'memory-budget', 'api-key', 'private-metrics', 'batch-wait-ms', 'inline-max-tokens', 'max-queued-tokens', 'overload-status', 'load-wait-ms',
        'cold-load-wait-ms', 'headers-timeout-ms', 'request-timeout-ms', 'keep-alive-timeout-ms', 'max-connections', 'device', 'dtype',
      ].map((key) => [key, key === 'models-dir' ? { oneOf: [scalar, { type: 'array', items: scalar }] } : scalar])),
    },
    models: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 512 },
          source: { type: 'string', minLength: 1 },
          preload: { type: 'boolean' },
          pin: { type: 'boolean' },
          profiles: { type: 'object', additionalProperties: profile, propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' } },
        },
      },
    },
  },
} as const;
