// CLIP end to end against ../shared/reference's float64 tiny-clip outputs:
//  - the family is detected from config.json; text through the engine's tokenizer (77-token
//    truncation, end marker last) matches the normalised text embeddings;
//  - images through SIE's /v1/encode in JSON (base64) and msgpack (bytes), Infinity's /embeddings
//    with modality "image" (data URIs) and /embeddings_image match the normalised image
//    embeddings; an item's several images give the mean of their normalised embeddings, an item
//    with text and images is embedded from its images, as SIE's CLIP adapter does;
//  - bad images are 400s naming the field, and the server keeps serving.
import { encode } from '@msgpack/msgpack';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { decodeSieMsgpack } from '../lib/sdk/msgpack-numpy.js';
import { cosine, readJson, referenceDir } from './helpers/fixtures.js';
import { serveEngine } from './helpers/server.js';

const models = path.join(referenceDir, 'models');
const ref = <T>(name: string) => readJson<T>(path.join(referenceDir, 'outputs', name));
const imageRef = ref<Array<{ path: string; normalized: number[] }>>('tiny-clip.image.json');
const imageFile = (p: string) => path.join(referenceDir, p.startsWith('images/') ? p : path.join('images', path.basename(p)));
const bytesOf = (i: number) => readFileSync(imageFile(imageRef[i].path));
const mimeOf = (file: string) => ({ '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' })[path.extname(file)] ?? 'image/png';

async function post(baseUrl: string, route: string, body: unknown, format: 'json' | 'msgpack' = 'json'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${route}`, format === 'json'
    ? { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }
    : { method: 'POST', headers: { 'content-type': 'application/msgpack' }, body: Buffer.from(encode(body)) });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: type.includes('msgpack') ? decodeSieMsgpack(bytes) : JSON.parse(new TextDecoder().decode(bytes)) };
}

t.test('CLIP text and images through the engine and the SIE and Infinity routes', async (t) => {
  const { baseUrl, engine } = await serveEngine(t, { modelsDir: models });
  const model = await engine.load('tiny-clip');
  t.equal(model.family, 'clip');

  const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const textRef = ref<Array<{ normalized: number[] }>>('tiny-clip.text.json');
  const { embeddings } = await engine.embed('tiny-clip', texts);
  const worstText = Math.min(...embeddings.map((v, i) => cosine(v, textRef[i].normalized)));
  t.ok(worstText >= 0.99999, `5 texts (one past 77 tokens): min cosine ${worstText.toFixed(7)}`);

  for (const format of ['json', 'msgpack'] as const) {
    const items = imageRef.map((r, i) => ({ id: `i${i}`, images: [{ data: format === 'json' ? bytesOf(i).toString('base64') : bytesOf(i), format: path.extname(r.path).slice(1) }] }));
    const response = await post(baseUrl, '/v1/encode/tiny-clip', { items }, format);
    t.equal(response.status, 200, `${format}: status`);
    const worst = Math.min(...imageRef.map((r, i) => cosine(response.body.items[i].dense.values, r.normalized)));
    t.ok(worst >= 0.99999, `SIE encode (${format}), 16 images: min cosine ${worst.toFixed(7)}`);
  }

  // Two images in one item: the mean of their normalised embeddings; text + image: the image.
  const pair = await post(baseUrl, '/v1/encode/tiny-clip', { items: [
    { images: [{ data: bytesOf(0).toString('base64') }, { data: bytesOf(1).toString('base64') }] },
    { text: texts[0], images: [{ data: bytesOf(2).toString('base64') }] },
    { text: texts[1] },
  ] });
  t.equal(pair.status, 200);
  const mean = imageRef[0].normalized.map((v, j) => (v + imageRef[1].normalized[j]) / 2);
  t.ok(cosine(pair.body.items[0].dense.values, mean) >= 0.99999, 'two images: their mean');
  t.ok(Math.abs(Math.hypot(...pair.body.items[0].dense.values) - Math.hypot(...mean)) < 1e-5, 'the mean is not renormalised (SIE averages normalised features)');
  t.ok(cosine(pair.body.items[1].dense.values, imageRef[2].normalized) >= 0.99999, 'text + image: the image wins');
  t.ok(cosine(pair.body.items[2].dense.values, textRef[1].normalized) >= 0.99999, 'a text item beside image items');

  const uris = imageRef.slice(0, 4).map((r, i) => `data:${mimeOf(r.path)};base64,${bytesOf(i).toString('base64')}`);
  for (const [route, body] of [['/embeddings', { model: 'tiny-clip', modality: 'image', input: uris }], ['/embeddings_image', { model: 'tiny-clip', input: uris }]] as const) {
    const response = await post(baseUrl, route, body);
    t.equal(response.status, 200, `${route}: status`);
    const worst = Math.min(...response.body.data.map((d: { embedding: number[] }, i: number) => cosine(d.embedding, imageRef[i].normalized)));
    t.ok(worst >= 0.99999, `Infinity ${route}: min cosine ${worst.toFixed(7)}`);
  }
  const infinityText = await post(baseUrl, '/embeddings', { model: 'tiny-clip', input: texts.slice(0, 2) });
  t.ok(cosine(infinityText.body.data[1].embedding, textRef[1].normalized) >= 0.99999, 'Infinity /embeddings text through CLIP');
});

t.test('bad images are 400s naming the problem', async (t) => {
  const { baseUrl, engine } = await serveEngine(t, { modelsDir: models });
  await engine.load('tiny-clip');
  const png = bytesOf(0);
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['an image to a text-only model', '/v1/encode/tiny-dense-mean', { items: [{ images: [{ data: png.toString('base64') }] }] }, /accepts text only/],
    ['a corrupt image', '/v1/encode/tiny-clip', { items: [{ images: [{ data: Buffer.from('definitely not a PNG').toString('base64') }] }] }, /could not be read/],
    ['a truncated PNG', '/v1/encode/tiny-clip', { items: [{ images: [{ data: png.subarray(0, 60).toString('base64') }] }] }, /image/],
    ['base64 that is not', '/v1/encode/tiny-clip', { items: [{ images: [{ data: '@@@not base64@@@' }] }] }, /items\[0\]\.images\[0\]\.data is not base64/],
    ['an empty image', '/v1/encode/tiny-clip', { items: [{ images: [{ data: '' }] }] }, /is (empty|not base64)/],
    ['an item with neither text nor images', '/v1/encode/tiny-clip', { items: [{ images: [{ data: png.toString('base64') }] }, { id: 'x' }] }, /items\[1\] has neither text nor images/],
    ['sparse outputs of images', '/v1/encode/tiny-clip', { items: [{ images: [{ data: png.toString('base64') }] }], params: { output_types: ['sparse'] } }, /dense outputs only/],
    ['too many images', '/v1/encode/tiny-clip', { items: [{ images: Array.from({ length: 65 }, () => ({ data: png.toString('base64') })) }] }, /at most 64 images/],
    ['a data URI that is not an image', '/embeddings', { model: 'tiny-clip', modality: 'image', input: ['data:text/plain;base64,aGVsbG8='] }, /MIME type 'text\/plain', not an image/],
    ['an image URL', '/embeddings', { model: 'tiny-clip', modality: 'image', input: ['http://127.0.0.1/cat.png'] }, /image URLs are not fetched/],
    ['an unknown modality', '/embeddings', { model: 'tiny-clip', modality: 'audio', input: ['x'] }, /modality must be 'text' or 'image'/],
    ['an SVG', '/embeddings', { model: 'tiny-clip', modality: 'image', input: [`data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>').toString('base64')}`] }, /format 'svg' is not supported/],
  ];
  // A decompression bomb: a few hundred KB of PNG that would decode to 41 million pixels.
  const bomb = await sharp({ create: { width: 6400, height: 6400, channels: 3, background: '#808080' } }).png({ compressionLevel: 9 }).toBuffer();
  // Found by the fuzzer: a 20544 x 40 GIF, whose resize to a 64-pixel shortest edge would have a
  // 32870-pixel long edge; it was a 500 (the native resize's coded error was not mapped).
  const extreme = readFileSync(new URL('../../test/images/fuzz-extreme-aspect.gif', import.meta.url));
  cases.push(['an extreme aspect ratio (fuzz-found GIF)', '/v1/encode/tiny-clip', { items: [{ images: [{ data: extreme.toString('base64') }] }] }, /items\[0\]\.images\[0\]: image sides must be between 1 and 32768 pixels/]);
  cases.push(['a decompression bomb', '/v1/encode/tiny-clip', { items: [{ images: [{ data: bomb.toString('base64') }] }] }, /6400x6400, more than the 40000000 pixels allowed/]);
  for (const [what, route, body, message] of cases) {
    const response = await post(baseUrl, route, body);
    const text = JSON.stringify(response.body);
    t.ok(response.status === 400 && message.test(text), `${what}: ${response.status} ${text.slice(0, 160)}`);
  }
  const still = await post(baseUrl, '/v1/encode/tiny-clip', { items: [{ images: [{ data: png.toString('base64') }] }] });
  t.equal(still.status, 200, 'the server keeps serving images');
});

t.test('a bundle profile with normalize: false serves CLIP\'s raw projections, text and image', async (t) => {
  const { baseUrl, engine } = await serveEngine(t, { modelsDir: models, models: [{ id: 'raw-clip', source: 'tiny-clip', profiles: { default: { normalize: false } } }] });
  await engine.load('raw-clip');
  const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const textRef = ref<Array<{ embedding: number[] }>>('tiny-clip.text.json');
  const rawImages = ref<Array<{ embedding: number[] }>>('tiny-clip.image.json');
  const { embeddings } = await engine.embed('raw-clip', texts);
  embeddings.forEach((v, i) => {
    t.ok(cosine(v, textRef[i].embedding) >= 0.99999, `text ${i}: direction`);
    t.ok(Math.abs(Math.hypot(...v) / Math.hypot(...textRef[i].embedding) - 1) < 1e-5, `text ${i}: the projection's own length ${Math.hypot(...v).toFixed(4)}`);
  });
  const items = imageRef.slice(0, 4).map((r, i) => ({ images: [{ data: bytesOf(i).toString('base64'), format: path.extname(r.path).slice(1) }] }));
  const response = await post(baseUrl, '/v1/encode/raw-clip', { items });
  t.equal(response.status, 200);
  response.body.items.forEach((item: { dense: { values: number[] } }, i: number) => {
    t.ok(cosine(item.dense.values, rawImages[i].embedding) >= 0.99999, `image ${i}: direction`);
    t.ok(Math.abs(Math.hypot(...item.dense.values) / Math.hypot(...rawImages[i].embedding) - 1) < 1e-5, `image ${i}: unnormalised length`);
  });
  t.ok(Math.abs(Math.hypot(...rawImages[0].embedding) - 1) > 1e-3, 'the reference projection is not a unit vector, so the check can fail');
  t.rejects(() => new Promise((resolve, reject) => {
    // pooling stays refused for CLIP: its pooling is the architecture's
    serveEngine(t, { modelsDir: models, models: [{ id: 'bad', source: 'tiny-clip', profiles: { default: { pooling: 'mean' } } }] }).then(({ engine: e }) => e.load('bad')).then(resolve, reject);
  }), { code: 'BAD_CONFIG' });
});

t.test('images are scheduled by their vision-token cost and take turns with the model\'s text', async (t) => {
  const batches: Array<{ tokens: number; sequences: number; requests: number }> = [];
  const { Engine } = await import('../lib/engine/engine.js');
  const probe = new Engine({ threads: 2, progress: null, modelsDir: models });
  const perImage = await probe.withModel('tiny-clip', {}, async (m) => m.adapter.images!.tokensPerImage);
  probe.close();
  // tiny-clip: 64-pixel images in 16-pixel patches, 16 patches + the class token.
  t.equal(perImage, 17, 'patches + class token');
  const engine = new Engine({ threads: 2, progress: null, modelsDir: models, maxBatchTokens: 3 * perImage + 1, batchWaitMs: 0, observer: { onBatch: (s) => batches.push(s) } });
  t.teardown(() => engine.close());
  await engine.load('tiny-clip');
  const order: string[] = [];
  const images = engine.withModel('tiny-clip', {}, (model) => model.encodeImages(Array.from({ length: 16 }, (_, i) => [bytesOf(i)]))).then((r) => {
    order.push('images');
    return r;
  });
  // The text request arrives once the image batches are queued and the first has run.
  for (let i = 0; i < 2000 && batches.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
  const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const text = engine.embed('tiny-clip', texts.slice(0, 2)).then((r) => {
    order.push('text');
    return r;
  });
  const [imageResult, textResult] = await Promise.all([images, text]);
  await new Promise((resolve) => setImmediate(resolve));  // the observer hears of a batch just after its answers
  imageResult.items.forEach((item, i) => t.ok(cosine(item.dense!, imageRef[i].normalized) >= 0.99999, `image ${i} after batching`));
  const textRef = ref<Array<{ normalized: number[] }>>('tiny-clip.text.json');
  textResult.embeddings.forEach((v, i) => t.ok(cosine(v, textRef[i].normalized) >= 0.99999, `text ${i}`));
  const imageBatches = batches.filter((b) => b.tokens % perImage === 0 && b.tokens === b.sequences * perImage);
  t.same(imageBatches.map((b) => b.sequences), [3, 3, 3, 3, 3, 1], 'at most 3 images (the budget) per native call');
  t.same(order, ['text', 'images'], 'the text request did not wait for all 16 images');
  const textAt = batches.findIndex((b) => b.tokens !== b.sequences * perImage);
  t.ok(textAt > 0 && textAt < batches.length - 1, `the text batch ran between image batches (position ${textAt} of ${batches.length})`);
});
