/**
 * Capacity model for a Kubernetes deployment (no cluster needed): measure one replica's load
 * curve here (requests/s and latency at rising client counts, over HTTP, with the chart's
 * defaults), then compute, for target request rates, how many replicas meet a latency target and
 * where the chart's KEDA settings would settle.
 *
 *  - per-replica capacity at the target = the highest measured rate whose p97.5 latency (autocannon
 *    has no p95; p97.5 is the stricter stand-in) stays within it;
 *  - replicas needed = ceil(target rate / (capacity x (1 - headroom)));
 *  - at that many replicas each sees target / replicas requests/s, with the latency measured at
 *    that rate (interpolated on the curve); KEDA's in-flight trigger sees rate x latency requests
 *    in flight (Little's law) and asks for ceil(in flight / inflightThreshold) replicas; the queue
 *    trigger adds replicas only once requests wait. Where KEDA would settle elsewhere than what is
 *    needed, the table says which inflightThreshold would match.
 *
 *   npm run bench:capacity [-- --p95-ms 100 --qps 50,200,1000 --clients 1,2,4,8,16,32 --seconds 5]
 */
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { httpLoad, startSieServer, type LoadResult } from './http-harness.js';
import { minilmCheckpoint, repoRoot } from './minilm-checkpoint.js';

interface KedaSettings {
  inflightThreshold: number;
  queueDepthThreshold: number;
  minReplicaCount: number;
  maxReplicaCount: number;
  cooldownPeriod: number;
}

function chartKedaSettings(): KedaSettings {
  const values = parseYaml(readFileSync(path.join(repoRoot, 'deploy', 'helm', 'sie-server', 'values.yaml'), 'utf8')) as { autoscaling: KedaSettings };
  return values.autoscaling;
}

export interface CapacityRow {
  qps: number;
  replicasNeeded: number;
  kedaReplicas: number;
  inflight: number;
  suggestedInflightThreshold: number | undefined;
}

/** Pure: the replicas a target rate needs from a measured curve, and where KEDA would settle. */
export function capacityPlan(curve: LoadResult[], targets: number[], p95Ms: number, keda: KedaSettings, headroom = 0.2): { capacity: number; latencyS: number; rows: CapacityRow[] } {
  const within = curve.filter((point) => point.p975 <= p95Ms && point.errors === 0);
  if (within.length === 0) throw new Error(`no measured load level meets p97.5 <= ${p95Ms} ms; raise the target or lower the load`);
  const best = within.reduce((a, b) => (b.rps > a.rps ? b : a));
  const capacity = best.rps;
  const rows = targets.map((qps) => {
    const replicasNeeded = Math.min(keda.maxReplicaCount, Math.max(1, Math.ceil(qps / (capacity * (1 - headroom)))));
    const inflight = qps * latencyAt(curve, qps / replicasNeeded);
    const kedaReplicas = Math.min(keda.maxReplicaCount, Math.max(1, Math.ceil(inflight / keda.inflightThreshold)));
    const suggestedInflightThreshold = kedaReplicas !== replicasNeeded ? Math.max(0.1, Math.ceil((inflight / replicasNeeded) * 10) / 10) : undefined;
    return { qps, replicasNeeded, kedaReplicas, inflight, suggestedInflightThreshold };
  });
  return { capacity, latencyS: best.p50 / 1000, rows };
}

/** Median latency (s) at a request rate, interpolated between measured points (clamped at the ends). */
export function latencyAt(curve: LoadResult[], rps: number): number {
  const points = [...curve].sort((a, b) => a.rps - b.rps);
  if (rps <= points[0].rps) return points[0].p50 / 1000;
  for (let i = 1; i < points.length; i++) {
    if (rps <= points[i].rps) {
      const f = (rps - points[i - 1].rps) / (points[i].rps - points[i - 1].rps);
      return (points[i - 1].p50 + f * (points[i].p50 - points[i - 1].p50)) / 1000;
    }
  }
  return points[points.length - 1].p50 / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'p95-ms': { type: 'string' }, qps: { type: 'string' }, clients: { type: 'string' }, seconds: { type: 'string' }, threads: { type: 'string' } } });
  const p95Ms = Number(values['p95-ms'] ?? 100);
  const targets = (values.qps ?? '50,200,1000').split(',').map(Number);
  const clients = (values.clients ?? '1,2,4,8,16,32').split(',').map(Number);
  const seconds = Number(values.seconds ?? 5);
  const threads = Number(values.threads ?? os.availableParallelism());
  const keda = chartKedaSettings();
  const { modelDir } = minilmCheckpoint('dense-mean', false);
  const port = 21000 + Math.floor(Math.random() * 1000);
  const server = await startSieServer(modelDir, port, threads);
  const url = `http://127.0.0.1:${port}/v1/embeddings`;
  const body = { model: path.basename(modelDir), input: 'A sentence of about a dozen words, as a search query might be.' };
  const curve: LoadResult[] = [];
  try {
    await httpLoad(url, body, 1, 1);  // warm-up
    for (const c of clients) curve.push(await httpLoad(url, body, c, seconds));
  } finally {
    server.kill();
  }
  console.log(`# Capacity of one replica — ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} threads, MiniLM-shaped, one 14-token text per request, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| clients | req/s | p50 ms | p97.5 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|');
  curve.forEach((p, i) => console.log(`| ${clients[i]} | ${p.rps.toFixed(0)} | ${p.p50} | ${p.p975} | ${p.p99} | ${p.errors} |`));
  const plan = capacityPlan(curve, targets, p95Ms, keda);
  console.log(`\nPer-replica capacity at p97.5 <= ${p95Ms} ms: ${plan.capacity.toFixed(0)} req/s (p50 ${(plan.latencyS * 1000).toFixed(1)} ms there); 20 % headroom; chart KEDA settings: inflightThreshold ${keda.inflightThreshold}, queueDepthThreshold ${keda.queueDepthThreshold}, min ${keda.minReplicaCount}, max ${keda.maxReplicaCount}, cooldown ${keda.cooldownPeriod} s.`);
  console.log('| target req/s | replicas needed | in flight (Little) | KEDA in-flight trigger settles at | note |');
  console.log('|---|---|---|---|---|');
  for (const row of plan.rows) {
    const note = row.suggestedInflightThreshold === undefined ? 'KEDA settles where needed'
      : row.kedaReplicas < row.replicasNeeded ? `too few: set autoscaling.inflightThreshold to ${row.suggestedInflightThreshold} (or rely on the queue trigger)`
      : `over-provisions: inflightThreshold ${row.suggestedInflightThreshold} would match`;
    console.log(`| ${row.qps} | ${row.replicasNeeded} | ${row.inflight.toFixed(1)} | ${row.kedaReplicas} | ${note} |`);
  }
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
