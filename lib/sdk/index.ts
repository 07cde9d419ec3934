export { SIEClient, SIEError, type SIEClientOptions, type EncodeOptions, type ExtractOptions, type EncodedItem, type ExtractedItem, type ItemInput } from './sie-client.js';
export type * from '../server/wire/sie-api-types.js';
