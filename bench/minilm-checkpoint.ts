/**
 * A MiniLM-shaped checkpoint (384 hidden, 6 layers, 12 heads, 1536 FFN, real tokenizer) made by
 * ../shared/tools/make_checkpoint.py with seeded random weights, and its ONNX export, cached
 * under bench/.cache so repeated runs reuse them. Speed does not depend on the weight values.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const toolsDir = path.resolve(process.env.SIE_SHARED_DIR ?? path.join(repoRoot, '..', 'shared'), 'tools');

export function minilmCheckpoint(kind = 'dense-mean', withOnnx = true): { modelDir: string; onnxPath: string } {
  const cache = path.join(repoRoot, 'bench', '.cache');
  mkdirSync(cache, { recursive: true });
  const modelDir = path.join(cache, `minilm-shaped-${kind}`);
  if (!existsSync(path.join(modelDir, 'model.safetensors'))) {
    execFileSync('python3', [path.join(toolsDir, 'make_checkpoint.py'), kind, modelDir, '--seed', '0'], { stdio: 'inherit' });
  }
  const onnxPath = path.join(modelDir, 'model.onnx');
  if (withOnnx && !existsSync(onnxPath)) {
    execFileSync(process.execPath, [path.join(toolsDir, 'export-bert-onnx.mjs'), modelDir, onnxPath], {
      cwd: repoRoot,
      env: { ...process.env, CLIENT_FROM: path.join(repoRoot, 'package.json') },
      stdio: 'inherit',
    });
  }
  return { modelDir, onnxPath };
}
