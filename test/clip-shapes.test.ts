// CLIP at the sizes real checkpoints use, beyond the tiny-clip fixture: seeded checkpoints made
// here by ../shared/tools/clip_checkpoint.py (ViT-B/32's 224 px in 32-pixel patches, ViT-L/14's
// 336 px in 14-pixel patches, 224 px in 16-pixel patches; quick_gelu and gelu; both
// preprocessor_config forms; vision and text widths that differ), against the float64 reference
// (../shared/tools/clip_reference.py: PIL preprocessing, numpy towers) on real test images and
// texts, through the engine and SIE's route.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cosine, readJson, referenceDir, tempDir, toolsDir } from './helpers/fixtures.js';
import { postJson, serveEngine } from './helpers/server.js';

const python = '/usr/bin/python3';
const images = readJson<string[]>(path.join(referenceDir, 'images', 'images.json'));
// Large and small, every format: a 640x480 JPEG, a 200x300 WebP, a 513x257 PNG, an RGBA PNG, an
// animated GIF, a 16-bit PNG and a JPEG with an EXIF rotation (which PIL does not apply).
const chosen = [1, 5, 9, 11, 14, 13, 15].map((i) => images[i]);
const texts = readJson<string[]>(path.join(referenceDir, 'clip-texts.json'));
const textTokens = readJson<unknown[]>(path.join(referenceDir, 'outputs', 'clip-texts.tokens.json'));

const shapes = [
  { name: 'vit-b32-224', args: ['--image-size', '224', '--patch', '32', '--act', 'quick_gelu', '--preprocessor', 'dict', '--seed', '61'] },
  { name: 'vit-l14-336', args: ['--image-size', '336', '--patch', '14', '--act', 'gelu', '--preprocessor', 'legacy', '--seed', '62'] },
  { name: 'vit-b16-224', args: ['--image-size', '224', '--patch', '16', '--act', 'gelu', '--preprocessor', 'dict', '--seed', '63'] },
];

for (const shape of shapes) {
  t.test(`CLIP ${shape.name}: images and texts match the float64 reference`, async (t) => {
    const dir = tempDir(t);
    const model = path.join(dir, shape.name);
    execFileSync(python, [path.join(toolsDir, 'clip_checkpoint.py'), model, '--vision-hidden', '48', '--vision-layers', '2', '--vision-heads', '3', '--vision-inter', '96',
      '--text-hidden', '32', '--text-layers', '2', '--text-heads', '2', '--text-inter', '64', '--proj', '24', ...shape.args], { stdio: 'ignore' });
    const imageList = path.join(dir, 'images.json');
    writeFileSync(imageList, JSON.stringify(chosen.map((f) => path.join(referenceDir, 'images', f))));
    const tokensFile = path.join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify(textTokens));
    const imageRef = JSON.parse(execFileSync(python, [path.join(toolsDir, 'clip_reference.py'), model, 'image', imageList], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Array<{ normalized: number[] }>;
    const textRef = JSON.parse(execFileSync(python, [path.join(toolsDir, 'clip_reference.py'), model, 'text', tokensFile], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Array<{ normalized: number[] }>;

    const { baseUrl, engine } = await serveEngine(t, { modelsDir: dir });
    const loaded = await engine.load(shape.name);
    t.equal(loaded.family, 'clip');
    const items = chosen.map((f) => ({ images: [{ data: readFileSync(path.join(referenceDir, 'images', f)).toString('base64'), format: path.extname(f).slice(1) }] }));
    const response = await postJson(baseUrl, `/v1/encode/${shape.name}`, { items }, { accept: 'application/json' });
    t.equal(response.status, 200);
    const worstImage = Math.min(...imageRef.map((r, i) => cosine(response.body.items[i].dense.values, r.normalized)));
    t.ok(worstImage >= 0.99999, `${chosen.length} images: min cosine ${worstImage.toFixed(7)}`);
    const { embeddings } = await engine.embed(shape.name, texts);
    const worstText = Math.min(...embeddings.map((v, i) => cosine(v, textRef[i].normalized)));
    t.ok(worstText >= 0.99999, `${texts.length} texts: min cosine ${worstText.toFixed(7)}`);
  });
}
