/** JSON-schema pieces every route family shares, so a limit is written once. */

/** A model id as routes accept it (hub ids are at most 96 characters; names up to 512 leave room). */
export const modelIdSchema = { type: 'string', minLength: 1, maxLength: 512 } as const;

/** `:model` path parameters. */
export const modelParamsSchema = { type: 'object', properties: { model: modelIdSchema }, required: ['model'] } as const;

/** A list of request inputs, capped at the per-request limit (over it: 413 TOO_MANY_INPUTS). */
export function inputListSchema<T extends object>(items: T, maxInputs: number) {
  return { type: 'array', items, maxItems: maxInputs } as const;
}
