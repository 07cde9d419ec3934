// Image URLs on Infinity's image routes (--allow-image-urls), against a local HTTP server that
// serves the shared test images and misbehaves on purpose. Vectors are checked against the
// float64 tiny-clip reference; every refusal is a 400 naming the input, and the server keeps
// serving. By default URLs are refused, and loopback stays refused until private addresses are
// allowed (the fetch happens on loopback here, which is exactly what SSRF protection blocks).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_IMAGE_URL_POLICY } from '../lib/images/image-url-fetch.js';
import { buildServeConfig } from '../lib/config.js';
import { cosine, readJson, referenceDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const models = path.join(referenceDir, 'models');
const imageRef = readJson<Array<{ path: string; normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.image.json'));
const imageFile = (p: string) => path.join(referenceDir, p.startsWith('images/') ? p : path.join('images', path.basename(p)));
const png = readFileSync(imageFile(imageRef[0].path));

/** The image host: /img/N serves reference image N; the rest misbehave as named. */
async function imageHost(t: { teardown: (fn: () => void) => void }) {
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    const image = /^\/img\/(\d+)$/.exec(url);
    if (image) return response.end(readFileSync(imageFile(imageRef[Number(image[1])].path)));
    if (url === '/redirect') return response.writeHead(302, { location: '/img/1' }).end();
    if (url.startsWith('/chain/')) {
      const n = Number(url.slice(7));
      return response.writeHead(302, { location: n > 0 ? `/chain/${n - 1}` : '/img/2' }).end();
    }
    if (url === '/to-file') return response.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (url === '/declared-big') return response.writeHead(200, { 'content-length': String(64 * 1024 * 1024) }).end();
    if (url === '/streamed-big') {
      response.writeHead(200);  // chunked, no length: cut while reading
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const more = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) return response.once('drain', more);
        }
        response.end();
      };
      return more();
    }
    if (url === '/slow') return setTimeout(() => response.end(png), 5000).unref();
    if (url === '/text') return response.end('not an image');
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const embed = (baseUrl: string, input: string[]) => postJson(baseUrl, '/embeddings', { model: 'tiny-clip', input, modality: 'image' });

t.test('URLs are refused unless allowed, and loopback unless private addresses are allowed', async (t) => {
  const host = await imageHost(t);
  const off = await serveEngine(t, { modelsDir: models });
  await off.engine.load('tiny-clip');
  const refused = await embed(off.baseUrl, [`${host}/img/0`]);
  t.equal(refused.status, 400);
  t.match(refused.body.error.message, /--allow-image-urls/);

  const publicOnly = await serveEngine(t, { modelsDir: models }, { imageUrls: { ...DEFAULT_IMAGE_URL_POLICY } });
  await publicOnly.engine.load('tiny-clip');
  const loopback = await embed(publicOnly.baseUrl, [`${host}/img/0`]);
  t.equal(loopback.status, 400);
  t.match(loopback.body.error.message, /input\[0\]: could not fetch .*127\.0\.0\.1.*private/, loopback.body.error.message);
  const viaName = await embed(publicOnly.baseUrl, [`${host.replace('127.0.0.1', 'localhost')}/img/0`]);
  t.equal(viaName.status, 400, 'a name resolving to loopback is refused after resolution');
});

t.test('allowed URLs: vectors match the reference; redirects, sizes, time and schemes are bounded', async (t) => {
  const host = await imageHost(t);
  const policy = { ...DEFAULT_IMAGE_URL_POLICY, allowPrivate: true, maxBytes: 1024 * 1024, timeoutMs: 1000, maxRedirects: 3 };
  const { baseUrl, engine } = await serveEngine(t, { modelsDir: models }, { imageUrls: policy });
  await engine.load('tiny-clip');

  const ok = await embed(baseUrl, [`${host}/img/0`, `${host}/redirect`, `${host}/chain/2`, `data:image/png;base64,${png.toString('base64')}`]);
  t.equal(ok.status, 200);
  const want = [0, 1, 2, 0].map((i) => imageRef[i].normalized);
  ok.body.data.forEach((d: { embedding: number[] }, i: number) => t.ok(cosine(d.embedding, want[i]) >= 0.99999, `input ${i} (URL, redirect, 3 redirects, data URI)`));
  const legacy = await postJson(baseUrl, '/embeddings_image', { model: 'tiny-clip', input: [`${host}/img/3`] });
  t.equal(legacy.status, 200);
  t.ok(cosine(legacy.body.data[0].embedding, imageRef[3].normalized) >= 0.99999, '/embeddings_image takes URLs too');

  const cases: Array<[string, RegExp]> = [
    [`${host}/chain/3`, /more than 3 redirects/],
    [`${host}/to-file`, /file: URLs are not fetched/],
    [`${host}/declared-big`, /67108864 bytes, more than the 1048576 allowed/],
    [`${host}/streamed-big`, /more than the 1048576 bytes allowed/],
    [`${host}/slow`, /took too long/],
    [`${host}/missing`, /HTTP 404/],
    [`${host}/text`, /input\[0\]/],
    ['http://[::1', /not a valid URL|could not fetch/],
  ];
  for (const [url, message] of cases) {
    const started = performance.now();
    const response = await embed(baseUrl, [url]);
    t.equal(response.status, 400, `${url}: 400`);
    t.match(response.body.error?.message ?? '', message, `${url}: ${response.body.error?.message}`);
    t.ok(performance.now() - started < 4000, `${url}: answered within the deadline`);
  }
  const after = await embed(baseUrl, [`${host}/img/4`]);
  t.equal(after.status, 200, 'still serving');
  t.ok(cosine(after.body.data[0].embedding, imageRef[4].normalized) >= 0.99999);
});

t.test('the CLI flags and environment build the policy', async (t) => {
  const off = buildServeConfig([], {});
  t.equal(off.imageUrls.allowed, false);
  const on = buildServeConfig(['--allow-image-urls', '--image-url-max-bytes', '1000', '--image-url-timeout-ms', '500', '--image-url-max-redirects', '0'], {});
  t.same(on.imageUrls, { allowed: true, allowPrivate: false, maxBytes: 1000, timeoutMs: 500, maxRedirects: 0 });
  t.equal(buildServeConfig([], { SIE_ALLOW_IMAGE_URLS: '1', SIE_ALLOW_PRIVATE_IMAGE_URLS: 'true' }).imageUrls.allowPrivate, true);
  t.throws(() => buildServeConfig(['--image-url-max-bytes', '0'], {}), /image-url-max-bytes/);
});
