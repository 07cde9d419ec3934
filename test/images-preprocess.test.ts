// CLIP image preprocessing against Pillow and the shared reference:
//  - the native bicubic resize is byte-identical to Pillow's Image.BICUBIC on seeded images
//    (shrinking a lot and a little, enlarging, one axis, 1-pixel sides), Pillow run here;
//  - decode + resize + center crop reproduces ../shared/reference's tiny-clip.pixels.json (PIL's
//    bytes): exact for PNG and GIF, within one level for JPEG and WebP, whose decoders are not
//    PIL's (the reference README expects +-1 there), and every grayscale, palette, RGBA, 16-bit,
//    animated and EXIF-rotated quirk as PIL reads it;
//  - pixel values are (rgb / 255 - mean) / std in CHW order, by hand;
//  - bad images are INVALID_INPUT naming the problem.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { readClipPreprocessing, resizeAndCrop, pixelValues, resizedSize } from '../lib/images/clip-preprocessor.js';
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
  }
  await t.rejects(resizeBicubicRgb(new Uint8Array(12), 2, 2, 0, 2), { code: 'INVALID_INPUT' });
  t.throws(() => resizeBicubicRgb(new Uint8Array(11), 2, 2, 1, 1), { code: 'INVALID_ARGUMENT' });
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
    const cropped = await resizeAndCrop(image, p);
    const want = r.rgb.flat(2);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(cropped.rgb[i] - want[i]));
    const lossy = image.format === 'jpeg' || image.format === 'webp';
    t.ok(cropped.rgb.length === want.length && worst <= (lossy ? 1 : 0), `${path.basename(file)} (${image.format}): max |diff| ${worst} level(s)${lossy ? ' (another decoder: <= 1 allowed)' : ''}`);
  }
});

t.test('pixel values: rescale, normalise, CHW', async (t) => {
  const p = readClipPreprocessing(path.join(referenceDir, 'models', 'tiny-clip'));
  const image = { width: 2, height: 1, rgb: Uint8Array.of(0, 128, 255, 10, 20, 30), format: 'png' };
  const values = pixelValues(image, p);
  // channel 0 of pixel 1: (10 / 255 - 0.48145466) / 0.26862954; channel 2 of pixel 0: (1 - 0.40821073) / 0.27577711
  t.ok(Math.abs(values[1] - (10 / 255 - 0.48145466) / 0.26862954) < 1e-6, 'R of the second pixel');
  t.ok(Math.abs(values[4] - (1 - 0.40821073) / 0.27577711) < 1e-6, 'B of the first pixel, in the third plane');
});

t.test('bad images are INVALID_INPUT, naming the problem', async (t) => {
  const png = readFileSync(path.join(referenceDir, 'images', 'img00_gradient_17x33.png'));
  await t.rejects(decodeImage(new Uint8Array(0)), { code: 'INVALID_INPUT', message: /empty/ });
  await t.rejects(decodeImage(Buffer.from('not an image at all')), { code: 'INVALID_INPUT', message: /could not be read/ });
  await t.rejects(decodeImage(png.subarray(0, png.length - 40)), { code: 'INVALID_INPUT' });
  await t.rejects(decodeImage(png, 100), { code: 'INVALID_INPUT', message: /17x33, more than the 100 pixels allowed/ });
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
  await t.rejects(decodeImage(svg), { code: 'INVALID_INPUT', message: /format 'svg' is not supported/ });
});
