// CLIP image preprocessing against Pillow and the shared reference:
//  - the native bicubic resize is byte-identical to Pillow's Image.BICUBIC on seeded images
//    (shrinking a lot and a little, enlarging, one axis, 1-pixel sides), Pillow run here, and so
//    is its plain twin; the optimised resize equals the twin on random sizes, and a crop window
//    computed alone equals the same window cut from the whole;
//  - decode + resize + center crop reproduces ../shared/reference's tiny-clip.pixels.json (PIL's
//    bytes): exact for PNG and GIF, within one level for JPEG and WebP, whose decoders are not
//    PIL's (the reference README expects +-1 there), and every grayscale, palette, RGBA, 16-bit,
//    animated and EXIF-rotated quirk as PIL reads it;
//  - pixel values are (rgb / 255 - mean) / std in CHW order in numpy's float32 steps, padding
//    included, by hand;
//  - bad images are INVALID_INPUT naming the problem.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import sharp from 'sharp';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { clipPixelValues, readClipPreprocessing, resizedSize, type ClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { decodeImage } from '../lib/images/decode-image.js';
import { referenceDir, repoRoot } from './helpers/fixtures.js';

interface ResizeCase { width: number; height: number; out_width: number; out_height: number; rgb: string; expected: string }

t.test('the native bicubic resize is Pillow\'s, byte for byte', async (t) => {
  const cases = JSON.parse(execFileSync('/usr/bin/python3', [path.join(repoRoot, 'test', 'images', 'pil_resize_cases.py')], { encoding: 'utf8', maxBuffer: 64 << 20 })) as ResizeCase[];
  const { resizeBicubicRgb } = nativeAddon().images;
  for (const c of cases) {
    const got = await resizeBicubicRgb(Buffer.from(c.rgb, 'base64'), c.width, c.height, c.out_width, c.out_height);
    const want = Buffer.from(c.expected, 'base64');
    let differing = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differing++;
    t.ok(got.length === want.length && differing === 0, `${c.width}x${c.height} -> ${c.out_width}x${c.out_height}: ${differing} of ${want.length} bytes differ`);
    const twin = await resizeBicubicRgb(Buffer.from(c.rgb, 'base64'), c.width, c.height, c.out_width, c.out_height, 'reference');
    t.ok(Buffer.compare(Buffer.from(twin), want) === 0, `${c.width}x${c.height} -> ${c.out_width}x${c.out_height}: the plain twin too`);
  }
  await t.rejects(resizeBicubicRgb(new Uint8Array(12), 2, 2, 0, 2), { code: 'INVALID_INPUT' });
  t.throws(() => resizeBicubicRgb(new Uint8Array(11), 2, 2, 1, 1), { code: 'INVALID_ARGUMENT' });
});

/** A seeded random generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('the optimised resize equals its plain twin, and a window equals the same crop of the whole', async (t) => {
  const { resizeBicubicRgb, clipPixelValues: nativePixels } = nativeAddon().images;
  const random = seeded(20261127);
  const side = (limit: number) => 1 + Math.floor(random() * limit);
  for (let i = 0; i < 40; i++) {
    const width = side(i < 20 ? 40 : 700), height = side(i < 20 ? 40 : 700);
    const outWidth = side(i % 3 === 0 ? width : 300), outHeight = i % 5 === 0 ? height : side(300);
    const rgb = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256));
    const [fast, plain] = await Promise.all([resizeBicubicRgb(rgb, width, height, outWidth, outHeight), resizeBicubicRgb(rgb, width, height, outWidth, outHeight, 'reference')]);
    t.ok(Buffer.compare(Buffer.from(fast), Buffer.from(plain)) === 0, `${width}x${height} -> ${outWidth}x${outHeight}`);
    // A window (sometimes reaching past the image: padding) through the pixel path, values untouched.
    const cropWidth = side(outWidth + 4), cropHeight = side(outHeight + 4);
    const left = Math.floor(random() * (outWidth + 4)) - 2 - Math.floor(cropWidth / 2), top = Math.floor(random() * (outHeight + 4)) - 2 - Math.floor(cropHeight / 2);
    const values = await nativePixels(rgb, width, height, { resizeWidth: outWidth, resizeHeight: outHeight, left, top, cropWidth, cropHeight, rescale: null, mean: null, std: null });
    let differing = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < cropHeight; y++) {
        for (let x = 0; x < cropWidth; x++) {
          const sx = x + left, sy = y + top;
          const want = sx >= 0 && sx < outWidth && sy >= 0 && sy < outHeight ? plain[(sy * outWidth + sx) * 3 + c] : 0;
          if (values[(c * cropHeight + y) * cropWidth + x] !== want) differing++;
        }
      }
    }
    t.equal(differing, 0, `window ${cropWidth}x${cropHeight} at (${left}, ${top}) of ${outWidth}x${outHeight}`);
  }
});

t.test('the pixel step refuses a bad spec with a typed error, naming the field', async (t) => {
  const { clipPixelValues: nativePixels } = nativeAddon().images;
  const rgb = new Uint8Array(4 * 4 * 3);
  const spec = { resizeWidth: 4, resizeHeight: 4, left: 0, top: 0, cropWidth: 4, cropHeight: 4, rescale: 1 / 255, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.5, 0.5, 0.5] as [number, number, number] };
  t.equal((await nativePixels(rgb, 4, 4, spec)).length, 48);
  t.throws(() => nativePixels(new Uint8Array(5), 4, 4, spec), { code: 'INVALID_ARGUMENT', message: /width x height x 3/ });
  t.throws(() => nativePixels(rgb, 4, 4, { ...spec, left: 0.5 }), { code: 'INVALID_ARGUMENT', message: /spec.left must be an integer/ });
  t.throws(() => nativePixels(rgb, 4, 4, { ...spec, mean: [1, 2] as unknown as [number, number, number] }), { code: 'INVALID_ARGUMENT', message: /spec.mean/ });
  t.throws(() => nativePixels(rgb, 4, 4, { ...spec, std: null }), { code: 'INVALID_ARGUMENT', message: /spec.std/ });
  await t.rejects(nativePixels(rgb, 4, 4, { ...spec, resizeWidth: 0 }), { code: 'INVALID_INPUT', message: /between 1 and 32768/ });
  await t.rejects(nativePixels(rgb, 4, 4, { ...spec, resizeHeight: 100000 }), { code: 'INVALID_INPUT' });
  await t.rejects(nativePixels(rgb, 4, 4, { ...spec, cropWidth: 0 }), { code: 'INVALID_INPUT' });
});

interface PixelsReference { path: string; source_size: [number, number]; resized_size: [number, number]; rgb: number[][][] }

t.test('decode, resize and crop reproduce PIL\'s pixels for every shared test image', async (t) => {
  const model = path.join(referenceDir, 'models', 'tiny-clip');
  const p = readClipPreprocessing(model);
  t.same({ edge: p.shortestEdge, crop: p.crop }, { edge: 64, crop: { width: 64, height: 64 } }, 'the dict form of preprocessor_config.json');
  const reference = JSON.parse(readFileSync(path.join(referenceDir, 'outputs', 'tiny-clip.pixels.json'), 'utf8')) as PixelsReference[];
  t.equal(reference.length, 16);
  for (const r of reference) {
    const file = path.join(referenceDir, r.path.startsWith('images/') ? r.path : path.join('images', path.basename(r.path)));
    const image = await decodeImage(readFileSync(file));
    t.same([image.width, image.height], r.source_size, `${path.basename(file)}: decoded at the source size, not rotated`);
    t.same(resizedSize(image.width, image.height, p.shortestEdge), r.resized_size, `${path.basename(file)}: resized size as transformers computes it`);
    // Without rescale and normalisation the pixel values are the cropped bytes, in CHW order.
    const bytes = await clipPixelValues(image, { ...p, rescale: undefined, mean: undefined, std: undefined });
    const want = r.rgb.flat(2);  // HWC
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(bytes[(i % 3) * 64 * 64 + Math.floor(i / 3)] - want[i]));
    const lossy = image.format === 'jpeg' || image.format === 'webp';
    t.ok(bytes.length === want.length && worst <= (lossy ? 1 : 0), `${path.basename(file)} (${image.format}): max |diff| ${worst} level(s)${lossy ? ' (another decoder: <= 1 allowed)' : ''}`);
  }
});

t.test('pixel values: rescale, normalise, CHW, with zero padding where the crop is wider', async (t) => {
  const config = readClipPreprocessing(path.join(referenceDir, 'models', 'tiny-clip'));
  // A 2 x 1 image needs no resize at shortest edge 1; a 4-wide crop pads a zero column each side.
  const p: ClipPreprocessing = { ...config, shortestEdge: 1, crop: { width: 4, height: 1 } };
  const values = await clipPixelValues({ width: 2, height: 1, rgb: Uint8Array.of(0, 128, 255, 10, 20, 30), format: 'png' }, p);
  // numpy's steps: uint8 * (1/255) in float64, to float32, then (x - mean) / std in float32.
  const f = Math.fround;
  const expect = (byte: number, c: number) => f(f(f(byte * (1 / 255)) - f(config.mean![c])) / f(config.std![c]));
  t.equal(values.length, 12);
  t.same(Array.from(values), [
    expect(0, 0), expect(0, 0), expect(10, 0), expect(0, 0),
    expect(0, 1), expect(128, 1), expect(20, 1), expect(0, 1),
    expect(0, 2), expect(255, 2), expect(30, 2), expect(0, 2),
  ], 'R plane, G plane, B plane; padding is byte 0');
  t.ok(Math.abs(values[2] - (10 / 255 - 0.48145466) / 0.26862954) < 1e-6, 'R of the second pixel, against the float64 formula');
});

t.test('bad images are INVALID_INPUT, naming the problem', async (t) => {
  const png = readFileSync(path.join(referenceDir, 'images', 'img00_gradient_17x33.png'));
  await t.rejects(decodeImage(new Uint8Array(0)), { code: 'INVALID_INPUT', message: /empty/ });
  await t.rejects(decodeImage(Buffer.from('not an image at all')), { code: 'INVALID_INPUT', message: /could not be read/ });
  await t.rejects(decodeImage(png.subarray(0, png.length - 40)), { code: 'INVALID_INPUT' });
  await t.rejects(decodeImage(png, 100), { code: 'INVALID_INPUT', message: /17x33, more than the 100 pixels allowed/ });
  // A strip under the pixel limit with a side over 2^15: found by the fuzzer as a mutated GIF,
  // which reached the native step and failed there with INVALID_ARGUMENT.
  const strip = await sharp({ create: { width: 32769, height: 2, channels: 3, background: { r: 9, g: 9, b: 9 } } }).gif().toBuffer();
  await t.rejects(decodeImage(strip), { code: 'INVALID_INPUT', message: /32769x2: sides over 32768 pixels are not supported/ });
  const tallest = await sharp({ create: { width: 1, height: 32768, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
  t.equal((await decodeImage(tallest)).height, 32768, 'a side of exactly 2^15 decodes');
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
  await t.rejects(decodeImage(svg), { code: 'INVALID_INPUT', message: /format 'svg' is not supported/ });
});
