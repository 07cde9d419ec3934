/**
 * Image bytes to RGB pixels the way the Python stack sees them: PIL's Image.open(...).convert("RGB")
 * as Hugging Face's image processors call it. sharp (libvips) decodes JPEG, PNG, WebP and GIF;
 * the first frame of an animation; no EXIF rotation (a plain PIL open does not rotate); alpha
 * dropped, not composited; grayscale and palette expanded to RGB; 16-bit samples keep their high
 * byte (PIL's v >> 8, not a rounded rescale). The pixel count is checked from the header before
 * anything is decoded, so a decompression bomb costs nothing.
 */
import sharp from 'sharp';
import { EngineError } from '../errors/engine-error.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width x height x 3 bytes, rows top to bottom. */
  rgb: Uint8Array;
  format: string;
}

export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;
/** The longest side the native preprocessing takes (native/image: 2^15), checked before decoding. */
export const MAX_IMAGE_SIDE = 32768;
const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif']);

export async function decodeImage(data: Uint8Array, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): Promise<RgbImage> {
  if (data.length === 0) throw new EngineError('INVALID_INPUT', 'image is empty (0 bytes)');
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(data, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new EngineError('INVALID_INPUT', `image could not be read: ${(error as Error).message}`);
  }
  const { format, width, height } = metadata;
  if (!format || !FORMATS.has(format)) throw new EngineError('INVALID_INPUT', `image format '${format ?? 'unknown'}' is not supported (supported: JPEG, PNG, WebP, GIF)`);
  if (!width || !height) throw new EngineError('INVALID_INPUT', 'image has no pixels');
  if (width * height > maxPixels) throw new EngineError('INVALID_INPUT', `image is ${width}x${height}, more than the ${maxPixels} pixels allowed`);
  // A long strip can stay under the pixel limit (the fuzzer's 32832 x 40 GIF did) and still be
  // past what the resize takes.
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw new EngineError('INVALID_INPUT', `image is ${width}x${height}: sides over ${MAX_IMAGE_SIDE} pixels are not supported`);
  const sixteenBit = metadata.depth === 'ushort';
  try {
    // page 0 only (GIF/WebP animations); no .rotate(): EXIF orientation is not applied.
    const pipeline = sharp(data, { pages: 1, limitInputPixels: maxPixels }).toColourspace(sixteenBit ? 'rgb16' : 'srgb').removeAlpha();
    const { data: raw, info } = sixteenBit
      ? await pipeline.raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true })
      : await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    let rgb: Uint8Array;
    if (sixteenBit) {
      const samples = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
      rgb = new Uint8Array(samples.length);
      for (let i = 0; i < samples.length; i++) rgb[i] = samples[i] >> 8;
    } else {
      rgb = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    }
    return { width: info.width, height: info.height, rgb, format };
  } catch (error) {
    throw new EngineError('INVALID_INPUT', `image could not be decoded: ${(error as Error).message}`);
  }
}
