// Fuzzing the image path (fast-check), bounded by SIE_FUZZ_SECONDS (default 10): every shared
// test image (PNG, JPEG, WebP, GIF, 16-bit, palette, RGBA), with random bytes flipped, runs of
// bytes overwritten, cut short or spliced, goes through decode, the native resize and
// normalisation: each either gives finite pixel values of the right shape or fails with
// INVALID_INPUT, never another error, a crash or a hang. Then the server, fed such images on
// SIE's encode route, answers 200 or 400 and keeps serving.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { clipPixelValues, readClipPreprocessing } from '../lib/images/clip-preprocessor.js';
import { decodeImage } from '../lib/images/decode-image.js';
import { readJson, referenceDir } from './helpers/fixtures.js';
import { serveEngine } from './helpers/server.js';

const seconds = Number(process.env.SIE_FUZZ_SECONDS ?? 10);
const files = readJson<string[]>(path.join(referenceDir, 'images', 'images.json')).map((f) => readFileSync(path.join(referenceDir, 'images', f)));
const p = readClipPreprocessing(path.join(referenceDir, 'models', 'tiny-clip'));

const mutated = fc.record({
  file: fc.nat({ max: files.length - 1 }),
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
  overwrite: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }))),
  cut: fc.option(fc.nat()),
  splice: fc.option(fc.tuple(fc.nat({ max: files.length - 1 }), fc.nat())),
}).map(({ file, flips, overwrite, cut, splice }) => {
  let bytes = Buffer.from(files[file]);
  for (const [at, xor] of flips) bytes[at % bytes.length] ^= xor;
  if (overwrite) bytes.set(overwrite[1].subarray(0, Math.max(0, bytes.length - (overwrite[0] % bytes.length))), overwrite[0] % bytes.length);
  if (splice) bytes = Buffer.concat([bytes.subarray(0, splice[1] % bytes.length), files[splice[0]].subarray(splice[1] % files[splice[0]].length)]);
  if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
  return bytes;
});

t.test('mutated images decode, resize and normalise, or fail with INVALID_INPUT', async (t) => {
  let decoded = 0, refused = 0;
  await fc.assert(fc.asyncProperty(mutated, async (bytes) => {
    try {
      const pixels = await clipPixelValues(await decodeImage(bytes), p);
      if (pixels.length !== 3 * 64 * 64 || !pixels.every(Number.isFinite)) return false;
      decoded++;
      return true;
    } catch (error) {
      refused++;
      return (error as { code?: string }).code === 'INVALID_INPUT';
    }
  }), { interruptAfterTimeLimit: seconds * 1000, numRuns: 1_000_000 });
  t.ok(decoded + refused > 50, `${decoded} decoded and ${refused} refused with INVALID_INPUT, nothing else`);
});

t.test('the server answers mutated images with 200 or 400 and keeps serving', async (t) => {
  const { baseUrl, engine } = await serveEngine(t, { modelsDir: path.join(referenceDir, 'models') });
  await engine.load('tiny-clip');
  const statuses = new Map<number, number>();
  await fc.assert(fc.asyncProperty(mutated, async (bytes) => {
    const response = await fetch(`${baseUrl}/v1/encode/tiny-clip`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ items: [{ images: [{ data: bytes.toString('base64') }] }] }) });
    await response.arrayBuffer();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    return response.status === 200 || response.status === 400;
  }), { interruptAfterTimeLimit: seconds * 1000, numRuns: 1_000_000 });
  t.ok([...statuses.keys()].every((s) => s === 200 || s === 400), `statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  const still = await fetch(`${baseUrl}/v1/encode/tiny-clip`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ items: [{ images: [{ data: files[0].toString('base64') }] }] }) });
  t.equal(still.status, 200, 'still serving');
});
