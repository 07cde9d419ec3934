// SIE's official SDKs, unmodified, sending images to a `sie-server serve` process with the
// tiny-clip model. Python: image bytes (the SDK passes them through) give the reference's
// normalised image embeddings; a PIL image (which the SDK re-encodes as JPEG, quality 95) lands
// near them; a text item gives the reference's text embedding (needs Debian's python3-pil beside
// the SDK's packages). TypeScript: Uint8Array images and a text, the same references.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import t from 'tap';
import { python, pythonSdkEnv, skipWithoutPythonSdk } from './helpers/python-sdk.js';
import { serveProcess } from './helpers/server-process.js';
import { cosine, readJson, referenceDir, repoRoot, sharedDir, tempDir } from './helpers/fixtures.js';


t.test('the official Python SDK sends images to a CLIP model', { skip: skipWithoutPythonSdk(['PIL']) }, async (t) => {
  const url = await serveProcess(t, path.join(referenceDir, 'models'), ['-m', 'tiny-clip']);
  const imageRef = readJson<Array<{ path: string; normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.image.json'));
  const textRef = readJson<Array<{ normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.text.json'));
  const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const files = imageRef.map((r) => path.join(referenceDir, r.path.startsWith('images/') ? r.path : path.join('images', path.basename(r.path))));
  const output = execFileSync(python, [path.join(repoRoot, 'test', 'sie-sdk', 'python_clip_session.py'), url, JSON.stringify(files), texts[0]],
    { encoding: 'utf8', env: pythonSdkEnv, timeout: 120000 });
  const got = JSON.parse(output) as { bytes: Array<{ id: string; dense: number[] }>; pil: number[]; text: number[] };
  t.same(got.bytes.map((r) => r.id), files.map((_, i) => `b${i}`), 'ids come back in order');
  const worst = Math.min(...got.bytes.map((r, i) => cosine(r.dense, imageRef[i].normalized)));
  t.ok(worst >= 0.99999, `16 images as bytes: min cosine ${worst.toFixed(7)}`);
  t.ok(cosine(got.pil, imageRef[0].normalized) >= 0.99, `a PIL image, re-encoded as JPEG by the SDK: cosine ${cosine(got.pil, imageRef[0].normalized).toFixed(5)}`);
  t.ok(cosine(got.text, textRef[0].normalized) >= 0.99999, 'a text item');
});

const tsSdkEntry = path.join(sharedDir, 'sie-sdk', 'ts', 'src', 'index.ts');

t.test('the official TypeScript SDK sends images to a CLIP model', { skip: existsSync(tsSdkEntry) ? false : 'no ../shared/sie-sdk/ts' }, async (t) => {
  const bundle = path.join(tempDir(t), 'sie-sdk.mjs');
  await esbuild.build({ entryPoints: [tsSdkEntry], bundle: true, platform: 'node', format: 'esm', outfile: bundle, nodePaths: [path.join(repoRoot, 'node_modules')], logLevel: 'silent' });
  const url = await serveProcess(t, path.join(referenceDir, 'models'), ['-m', 'tiny-clip']);
  const imageRef = readJson<Array<{ path: string; normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.image.json'));
  const textRef = readJson<Array<{ normalized: number[] }>>(path.join(referenceDir, 'outputs', 'tiny-clip.text.json'));
  const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
  const files = imageRef.map((r) => path.join(referenceDir, r.path.startsWith('images/') ? r.path : path.join('images', path.basename(r.path))));
  const got = JSON.parse(execFileSync(process.execPath, [path.join(repoRoot, 'test', 'sie-sdk', 'ts-clip-session.mjs'), bundle, url, JSON.stringify(files), texts[1]],
    { encoding: 'utf8', timeout: 120000 })) as { images: Array<{ id: string; dense: number[] }>; text: number[] };
  t.same(got.images.map((r) => r.id), files.map((_, i) => `t${i}`), 'ids come back in order');
  const worst = Math.min(...got.images.map((r, i) => cosine(r.dense, imageRef[i].normalized)));
  t.ok(worst >= 0.99999, `16 images as Uint8Array: min cosine ${worst.toFixed(7)}`);
  t.ok(cosine(got.text, textRef[1].normalized) >= 0.99999, 'a text item');
});
