/**
 * Prometheus metrics (prom-client), one registry per server: requests by route/model/status,
 * latency histograms (queue, tokenization, inference, total), batch sizes in tokens and items,
 * queue depth, tokens processed, model loads / evictions / failures, memory used vs budget.
 * The engine reports through its observer hooks; the HTTP layer through an onResponse hook.
 */
import client from 'prom-client';
import type { BatchStats } from '../engine/scheduling/batch-scheduler.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics {
  readonly registry = new client.Registry();
  private readonly requests = new client.Counter({ name: 'sie_requests_total', help: 'HTTP requests by route, model and status', labelNames: ['route', 'model', 'status'], registers: [this.registry] });
  private readonly requestSeconds = new client.Histogram({ name: 'sie_request_duration_seconds', help: 'Total request latency', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly queueSeconds = new client.Histogram({ name: 'sie_queue_duration_seconds', help: 'Time a request waited in the batch queue', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly inferenceSeconds = new client.Histogram({ name: 'sie_inference_duration_seconds', help: 'Native forward time per batch', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly tokenizationSeconds = new client.Histogram({ name: 'sie_tokenization_duration_seconds', help: 'Tokenization time per request', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  private readonly batchTokens = new client.Histogram({ name: 'sie_batch_tokens', help: 'Tokens per native batch', labelNames: ['model'], buckets: [16, 64, 256, 1024, 4096, 16384, 65536], registers: [this.registry] });
  private readonly batchItems = new client.Histogram({ name: 'sie_batch_items', help: 'Sequences per native batch', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024], registers: [this.registry] });
  private readonly tokens = new client.Counter({ name: 'sie_tokens_total', help: 'Tokens processed (rate() gives tokens/s)', labelNames: ['model'], registers: [this.registry] });
  private readonly queueDepth = new client.Gauge({ name: 'sie_queue_depth_tokens', help: 'Tokens waiting per model', labelNames: ['model'], registers: [this.registry] });
  private readonly loads = new client.Counter({ name: 'sie_model_loads_total', help: 'Successful model loads', labelNames: ['model'], registers: [this.registry] });
  private readonly loadSeconds = new client.Histogram({ name: 'sie_model_load_duration_seconds', help: 'Model load time', labelNames: ['model'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [this.registry] });
  private readonly evictions = new client.Counter({ name: 'sie_model_evictions_total', help: 'Models evicted to make room', labelNames: ['model'], registers: [this.registry] });
  private readonly failures = new client.Counter({ name: 'sie_model_load_failures_total', help: 'Failed model loads', labelNames: ['model', 'code'], registers: [this.registry] });
  private readonly memoryUsed = new client.Gauge({ name: 'sie_memory_used_bytes', help: 'Bytes held by loaded models', registers: [this.registry] });
  private readonly memoryBudget = new client.Gauge({ name: 'sie_memory_budget_bytes', help: 'Memory budget for models (-1: none)', registers: [this.registry] });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sie_process_' });
  }

  /** The engine's observer: pass as EngineOptions.observer. */
  readonly observer = {
    onBatch: (s: BatchStats) => {
      this.inferenceSeconds.observe({ model: s.model }, s.inferenceMs / 1000);
      this.batchTokens.observe({ model: s.model }, s.tokens);
      this.batchItems.observe({ model: s.model }, s.sequences);
      this.tokens.inc({ model: s.model }, s.tokens);
      for (const ms of s.queueMs) this.queueSeconds.observe({ model: s.model }, ms / 1000);
    },
    onQueueDepth: (model: string, tokens: number) => this.queueDepth.set({ model }, tokens),
    onTokenization: (model: string, ms: number) => this.tokenizationSeconds.observe({ model }, ms / 1000),
    onLoad: (model: string, ms: number) => {
      this.loads.inc({ model });
      this.loadSeconds.observe({ model }, ms / 1000);
    },
    onLoadFailure: (model: string, code: string) => this.failures.inc({ model, code }),
    onEvict: (model: string) => this.evictions.inc({ model }),
    onMemory: (used: number, budget: number) => {
      this.memoryUsed.set(used);
      this.memoryBudget.set(Number.isFinite(budget) ? budget : -1);
    },
  };

  recordRequest(route: string, model: string, status: number, seconds: number): void {
    this.requests.inc({ route, model, status: String(status) });
    this.requestSeconds.observe({ route }, seconds);
  }
}
