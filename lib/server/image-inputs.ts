/**
 * Image bytes out of request bodies, checked before any decoding: SIE's `images: [{data, format}]`
 * (msgpack bin, or base64 text in JSON as an extension) and Infinity's `data:image/...;base64,`
 * URIs. Each problem is a 400 naming the field. http(s) image URLs are fetched only with
 * --allow-image-urls (lib/images/image-url-fetch.ts).
 */
import { EngineError } from '../errors/engine-error.js';
import type { ImageInput } from './wire/sie-api-types.js';

/** At most this many images per request, and bytes per image (a decoded-pixel limit applies too). */
export const MAX_IMAGES_PER_REQUEST = 64;
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromBase64(text: string, param: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new EngineError('INVALID_INPUT', `${param} is not base64`, { param });
  }
  return checkImageSize(Buffer.from(compact, 'base64'), param);
}

export function checkImageSize(bytes: Uint8Array, param: string): Uint8Array {
  if (bytes.length === 0) throw new EngineError('INVALID_INPUT', `${param} is empty`, { param });
  if (bytes.length > MAX_IMAGE_BYTES) throw new EngineError('INVALID_INPUT', `${param} is larger than ${MAX_IMAGE_BYTES} bytes`, { param });
  return bytes;
}

/**
 * SIE items' images: `{data, format}` objects (the Python SDK) or the bytes themselves (the
 * TypeScript SDK sends `images: [Uint8Array]`); data as bytes (msgpack) or base64 text (JSON).
 */
export function sieImageBytes(images: ReadonlyArray<ImageInput | Uint8Array | string>, param: string): Uint8Array[] {
  return images.map((image, j) => {
    if (image instanceof Uint8Array) return checkImageSize(image, `${param}[${j}]`);
    if (typeof image === 'string') return fromBase64(image, `${param}[${j}]`);
    const field = `${param}[${j}].data`;
    if (image === null || typeof image !== 'object') throw new EngineError('INVALID_INPUT', `${param}[${j}] must be image bytes or an object with data`, { param: `${param}[${j}]` });
    if (image.data instanceof Uint8Array) return checkImageSize(image.data, field);
    if (typeof image.data === 'string') return fromBase64(image.data, field);
    throw new EngineError('INVALID_INPUT', `${field} must be bytes or a base64 string`, { param: field });
  });
}

/** An Infinity image input: a `data:image/<type>;base64,...` URI. */
export function dataUriBytes(uri: unknown, param: string): Uint8Array {
  if (typeof uri !== 'string') throw new EngineError('INVALID_INPUT', `${param} must be a data URI string`, { param });
  if (/^https?:\/\//i.test(uri)) {
    throw new EngineError('INVALID_INPUT', `${param}: image URLs are not fetched unless the server runs with --allow-image-urls; send the image as a data:image/...;base64, URI`, { param });
  }
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(uri);
  if (!match) throw new EngineError('INVALID_INPUT', `${param} is not a data URI`, { param });
  const [, mime, parameters, payload] = match;
  if (!/^image\//i.test(mime)) throw new EngineError('INVALID_INPUT', `${param} has MIME type '${mime || 'text/plain'}', not an image`, { param });
  if (!/;base64$/i.test(parameters)) throw new EngineError('INVALID_INPUT', `${param} must be base64-encoded (data:${mime};base64,...)`, { param });
  return fromBase64(payload, param);
}
