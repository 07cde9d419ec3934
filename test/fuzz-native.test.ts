// The native weight parsers under libFuzzer with ASan and UBSan (clang from Debian), seeded with
// real files: the safetensors header parser and the torch zip reader + restricted unpickler, each
// for a bounded time (SIE_NATIVE_FUZZ_SECONDS, default 45). A crash, a sanitizer report or a
// leak fails the run. Longer runs and their figures: test/fuzz/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { referenceModel, repoRoot, tempDir } from './helpers/fixtures.js';

const clang = spawnSync('clang++', ['--version']).status === 0;
const seconds = Number(process.env.SIE_NATIVE_FUZZ_SECONDS ?? 45);
const out = path.join(repoRoot, 'build', 'fuzz');
const SOURCES = ['safetensors', 'weight_store', 'zip_archive', 'restricted_unpickler', 'torch_checkpoint', 'sharded_weights'].map((f) => path.join(repoRoot, 'native', 'weights', `${f}.cpp`));

function built(target: string): string {
  const binary = path.join(out, target);
  const inputs = [...SOURCES, path.join(repoRoot, 'test', 'fuzz', `${target}.cpp`), path.join(repoRoot, 'test', 'fuzz', 'build.sh')];
  const stale = !existsSync(binary) || inputs.some((f) => statSync(f).mtimeMs > statSync(binary).mtimeMs);
  if (stale) execFileSync('bash', [path.join(repoRoot, 'test', 'fuzz', 'build.sh'), out], { stdio: 'inherit' });
  return binary;
}

const SEEDS: Record<string, string[]> = {
  fuzz_safetensors: [path.join(referenceModel('tiny-colbert'), '1_Dense', 'model.safetensors')],
  fuzz_torch_checkpoint: ['sparse_linear.pt', 'colbert_linear.pt'].map((f) => path.join(referenceModel('tiny-bge-m3'), f)),
};

t.test('every input a fuzzer ever crashed on (test/fuzz/regressions) now parses or is refused cleanly', { skip: clang ? false : 'clang++ is not installed' }, async (t) => {
  const regressions = path.join(repoRoot, 'test', 'fuzz', 'regressions');
  const inputs = readdirSync(regressions).map((f) => path.join(regressions, f));
  t.ok(inputs.length > 0);
  for (const target of Object.keys(SEEDS)) {
    const run = spawnSync(built(target), inputs, { encoding: 'utf8' });
    t.equal(run.status, 0, `${target} on ${inputs.length} regression inputs (${run.stderr.split('\n').filter((l) => /ERROR|runtime error/.test(l)).join(' | ')})`);
  }
});

for (const [target, seeds] of Object.entries(SEEDS)) {
  t.test(`${target}: ${seconds} s of libFuzzer (ASan, UBSan) from real files, no crash`, { skip: clang ? false : 'clang++ is not installed (apt-get install clang libclang-rt-14-dev)', timeout: (seconds + 300) * 1000 }, async (t) => {
    const binary = built(target);
    const corpus = path.join(tempDir(t), 'corpus');
    mkdirSync(corpus);
    for (const seed of seeds) copyFileSync(seed, path.join(corpus, path.basename(seed)));
    const run = spawnSync(binary, [`-max_total_time=${seconds}`, '-max_len=65536', '-timeout=10', '-rss_limit_mb=2048', corpus], { encoding: 'utf8', cwd: path.dirname(corpus), maxBuffer: 1 << 26 });
    const runs = Number(/Done (\d+) runs/.exec(run.stderr)?.[1] ?? 0);
    const coverage = /cov: (\d+)/g;
    let edges = 0;
    for (let m = coverage.exec(run.stderr); m; m = coverage.exec(run.stderr)) edges = Number(m[1]);
    t.equal(run.status, 0, `exit status (last lines: ${run.stderr.split('\n').slice(-6).join(' | ')})`);
    t.ok(runs > 1000, `${runs} executions, ${edges} coverage edges, 0 crashes`);
  });
}
