/**
 * CLIPImageProcessor, as transformers runs it with PIL: resize so the shortest edge is
 * `size.shortest_edge` (the long edge int(size * long / short), truncated), Pillow's BICUBIC
 * (native, bit-exact), center crop to `crop_size` (zero-padded when the image is smaller, as
 * transformers' center_crop pads), then rescale and normalise into CHW float32 pixel values.
 * Reads both preprocessor_config.json forms (`size: 224` and `size: {shortest_edge: 224}`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { nativeAddon } from '../bindings/native-addon.js';
import { EngineError } from '../errors/engine-error.js';
import type { RgbImage } from './decode-image.js';

export interface ClipPreprocessing {
  shortestEdge: number;
  crop: { width: number; height: number } | undefined;
  rescale: number | undefined;
  mean: [number, number, number] | undefined;
  std: [number, number, number] | undefined;
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 4096) {
    throw new EngineError('BAD_CONFIG', `preprocessor_config.json: ${what} must be an integer between 1 and 4096`);
  }
  return value;
}

function triple(value: unknown, what: string): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new EngineError('BAD_CONFIG', `preprocessor_config.json: ${what} must be three numbers`);
  }
  return value as [number, number, number];
}

export function readClipPreprocessing(modelDir: string): ClipPreprocessing {
  const c = JSON.parse(readFileSync(path.join(modelDir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  const resample = c.resample ?? 3;
  if (resample !== 3) throw new EngineError('BAD_CONFIG', `preprocessor_config.json: resample ${String(resample)} is not supported (3, BICUBIC)`);
  const size = c.size as number | { shortest_edge?: unknown } | undefined;
  const shortestEdge = positive(typeof size === 'object' && size !== null ? size.shortest_edge : size, 'size.shortest_edge');
  const cropSize = c.crop_size as number | { width?: unknown; height?: unknown } | undefined;
  const crop = c.do_center_crop === false ? undefined
    : typeof cropSize === 'object' && cropSize !== null
      ? { width: positive(cropSize.width, 'crop_size.width'), height: positive(cropSize.height, 'crop_size.height') }
      : { width: positive(cropSize ?? shortestEdge, 'crop_size'), height: positive(cropSize ?? shortestEdge, 'crop_size') };
  return {
    shortestEdge,
    crop,
    rescale: c.do_rescale === false ? undefined : typeof c.rescale_factor === 'number' ? c.rescale_factor : 1 / 255,
    mean: c.do_normalize === false ? undefined : triple(c.image_mean, 'image_mean'),
    std: c.do_normalize === false ? undefined : triple(c.image_std, 'image_std'),
  };
}

/** transformers' get_resize_output_image_size(default_to_square=False): [width, height]. */
export function resizedSize(width: number, height: number, shortestEdge: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((shortestEdge * long) / short);
  return width <= height ? [shortestEdge, newLong] : [newLong, shortestEdge];
}

/**
 * The pixel values of one image, CHW float32: resized, center-cropped, rescaled and normalised by
 * native code on a worker thread (native/image/clip_pixel_values.h), off the event loop. Only the
 * crop's window of the resize is computed.
 */
export function clipPixelValues(image: RgbImage, p: ClipPreprocessing): Promise<Float32Array> {
  const [width, height] = resizedSize(image.width, image.height, p.shortestEdge);
  const { width: cw, height: ch } = p.crop ?? { width, height };
  // transformers' center_crop: top = (h - ch) // 2 (floor, also when negative: then it pads,
  // placing the image at ceil((ch - h) / 2)).
  return nativeAddon().images.clipPixelValues(image.rgb, image.width, image.height, {
    resizeWidth: width,
    resizeHeight: height,
    left: Math.floor((width - cw) / 2),
    top: Math.floor((height - ch) / 2),
    cropWidth: cw,
    cropHeight: ch,
    rescale: p.rescale ?? null,
    mean: p.mean ?? null,
    std: p.std ?? null,
  });
}
