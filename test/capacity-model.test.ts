// The capacity model (bench/capacity.ts) on a hand-made load curve: capacity at the latency
// target, replicas with headroom, Little's law for KEDA's in-flight trigger.
import t from 'tap';
import { capacityPlan, latencyAt } from '../bench/capacity.js';

const curve = [
  { rps: 100, p50: 10, p975: 20, p99: 25, errors: 0, total: 500 },
  { rps: 200, p50: 20, p975: 60, p99: 70, errors: 0, total: 1000 },
  { rps: 250, p50: 40, p975: 150, p99: 200, errors: 0, total: 1250 },
];
const keda = { inflightThreshold: 2, queueDepthThreshold: 10, minReplicaCount: 0, maxReplicaCount: 20, cooldownPeriod: 900 };

t.test('hand-computed plan', async (t) => {
  t.equal(latencyAt(curve, 150), 0.015, 'halfway between 10 and 20 ms');
  t.equal(latencyAt(curve, 50), 0.01, 'clamped below');
  const plan = capacityPlan(curve, [100, 1000], 100, keda);
  t.equal(plan.capacity, 200, 'the 250 req/s point misses p97.5 <= 100 ms');
  // 100 req/s: ceil(100 / 160) = 1 replica at 100 req/s -> 10 ms -> 1 in flight -> KEDA ceil(1/2) = 1.
  t.same(plan.rows[0], { qps: 100, replicasNeeded: 1, kedaReplicas: 1, inflight: 1, suggestedInflightThreshold: undefined });
  // 1000 req/s: ceil(1000 / 160) = 7 replicas at 142.9 req/s each -> 14.29 ms -> 14.29 in flight -> KEDA 8.
  const big = plan.rows[1];
  t.equal(big.replicasNeeded, 7);
  t.ok(Math.abs(big.inflight - 1000 * (0.01 + (1000 / 7 - 100) / 100 * 0.01)) < 1e-9);
  t.equal(big.kedaReplicas, 8);
  t.equal(big.suggestedInflightThreshold, 2.1, 'the smallest threshold (one decimal) at which KEDA settles at 7');
  t.throws(() => capacityPlan(curve, [10], 5, keda), /no measured load level/);
});
