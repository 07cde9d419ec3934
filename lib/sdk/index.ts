export { SIEClient, type WireModelInfo } from './sie-client.js';
export { SIEError, SIEConnectionError, RequestError, ServerError, ModelLoadingError, ModelLoadFailedError, type SIEConnectionErrorKind } from './errors.js';
export type * from './types.js';
export type { NumericArray } from './msgpack-numpy.js';
export type { Item, OutputType, OutputDtype } from '../server/wire/sie-api-types.js';
