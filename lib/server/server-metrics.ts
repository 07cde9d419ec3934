/**
 * Prometheus metrics (prom-client), one registry per server, under two sets of names:
 *
 * SIE's worker names and labels, so SIE's shipped dashboards, alerts and KEDA triggers work
 * unchanged: sie_requests_total{model,endpoint,status} (status success | error | queue_full),
 * sie_request_duration_seconds{model,endpoint,phase} (total | queue | tokenize | inference),
 * sie_batch_size, sie_tokens_processed_total, sie_queue_depth (items) and
 * sie_request_queue_depth (requests) per model, sie_model_loaded{model,device},
 * sie_model_memory_bytes{model,device}, sie_models_loaded, sie_model_load_duration_seconds.
 *
 * Our own: HTTP requests by route and status code, requests in flight (a KEDA trigger), batch
 * tokens, queue depth in tokens, per-stage latency per batch, loads / evictions / failures,
 * memory used vs budget, and the process's default metrics.
 *
 * The engine reports through its observer hooks; the HTTP layer through an onResponse hook; the
 * model gauges are read from the engine at scrape time.
 */
import client from 'prom-client';
import type { Engine } from '../engine/engine.js';
import type { Timing } from '../engine/loaded-model.js';
import type { BatchStats, QueueDepth } from '../engine/scheduling/batch-scheduler.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** SIE's endpoint label of a route: the API verb, whichever API family served it. */
export function endpointOf(route: string): string {
  const match = /^\/(?:v1\/)?(encode|score|extract|embeddings|rerank|models|classify)(?:\/|$)/.exec(route);
  if (match) return match[1];
  return route.replace(/^\//, '').split('/')[0] || 'root';
}

export class ServerMetrics {
  readonly registry = new client.Registry();
  private readonly registers = [this.registry];

  // SIE's names.
  private readonly sieRequests = new client.Counter({ name: 'sie_requests_total', help: 'Requests by model, endpoint and status (success, error, queue_full)', labelNames: ['model', 'endpoint', 'status'], registers: this.registers });
  private readonly sieDuration = new client.Histogram({ name: 'sie_request_duration_seconds', help: 'Request duration by phase (total, queue, tokenize, inference)', labelNames: ['model', 'endpoint', 'phase'], buckets: LATENCY_BUCKETS, registers: this.registers });
  private readonly batchSize = new client.Histogram({ name: 'sie_batch_size', help: 'Items (sequences) per native batch', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: this.registers });
  private readonly tokensProcessed = new client.Counter({ name: 'sie_tokens_processed_total', help: 'Tokens processed (rate() gives tokens/s)', labelNames: ['model'], registers: this.registers });
  private readonly queueItems = new client.Gauge({ name: 'sie_queue_depth', help: 'Items (sequences) waiting per model', labelNames: ['model'], registers: this.registers });
  private readonly queueRequests = new client.Gauge({ name: 'sie_request_queue_depth', help: 'Requests waiting per model', labelNames: ['model'], registers: this.registers });
  private readonly loadSeconds = new client.Histogram({ name: 'sie_model_load_duration_seconds', help: 'Model load time', labelNames: ['model'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: this.registers });

  // Ours.
  private readonly httpRequests = new client.Counter({ name: 'sie_http_requests_total', help: 'HTTP requests by route, model and status code', labelNames: ['route', 'model', 'status_code'], registers: this.registers });
  private readonly httpSeconds = new client.Histogram({ name: 'sie_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: this.registers });
  private readonly inFlight = new client.Gauge({ name: 'sie_inflight_requests', help: 'HTTP requests being served now', registers: this.registers });
  private readonly queueSeconds = new client.Histogram({ name: 'sie_queue_duration_seconds', help: 'Time a request waited in the batch queue', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: this.registers });
  private readonly inferenceSeconds = new client.Histogram({ name: 'sie_inference_duration_seconds', help: 'Native forward time per batch', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: this.registers });
  private readonly tokenizationSeconds = new client.Histogram({ name: 'sie_tokenization_duration_seconds', help: 'Tokenization time per request', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: this.registers });
  private readonly batchTokens = new client.Histogram({ name: 'sie_batch_tokens', help: 'Tokens per native batch', labelNames: ['model'], buckets: [16, 64, 256, 1024, 4096, 16384, 65536], registers: this.registers });
  private readonly queueTokens = new client.Gauge({ name: 'sie_queue_depth_tokens', help: 'Tokens waiting per model', labelNames: ['model'], registers: this.registers });
  private readonly loads = new client.Counter({ name: 'sie_model_loads_total', help: 'Successful model loads', labelNames: ['model'], registers: this.registers });
  private readonly evictions = new client.Counter({ name: 'sie_model_evictions_total', help: 'Models evicted to make room', labelNames: ['model'], registers: this.registers });
  private readonly failures = new client.Counter({ name: 'sie_model_load_failures_total', help: 'Failed model loads', labelNames: ['model', 'code'], registers: this.registers });
  private readonly memoryUsed = new client.Gauge({ name: 'sie_memory_used_bytes', help: 'Bytes held by loaded models', registers: this.registers });
  private readonly memoryBudget = new client.Gauge({ name: 'sie_memory_budget_bytes', help: 'Memory budget for models (-1: none)', registers: this.registers });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sie_process_' });
  }

  /** Model gauges read from the engine at each scrape: loaded (1/0), memory, how many. */
  watchEngine(engine: Engine): void {
    const registers = this.registers;
    const loadedModels = () => engine.list().filter((m) => m.state === 'loaded');
    new client.Gauge({
      name: 'sie_model_loaded', help: 'Whether a model is loaded (1) or known and not loaded (0)', labelNames: ['model', 'device'], registers,
      collect() {
        this.reset();
        for (const m of engine.list()) this.set({ model: m.id, device: engine.device }, m.state === 'loaded' ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'sie_model_memory_bytes', help: 'Memory held by a loaded model (weights and workspace)', labelNames: ['model', 'device'], registers,
      collect() {
        this.reset();
        for (const m of loadedModels()) this.set({ model: m.id, device: engine.device }, m.memoryBytes);
      },
    });
    new client.Gauge({
      name: 'sie_models_loaded', help: 'Models loaded now', registers,
      collect() {
        this.set(loadedModels().length);
      },
    });
  }

  /** The engine's observer: pass as EngineOptions.observer. */
  readonly observer = {
    onBatch: (s: BatchStats) => {
      this.inferenceSeconds.observe({ model: s.model }, s.inferenceMs / 1000);
      this.batchTokens.observe({ model: s.model }, s.tokens);
      this.batchSize.observe({ model: s.model }, s.sequences);
      this.tokensProcessed.inc({ model: s.model }, s.tokens);
      for (const ms of s.queueMs) this.queueSeconds.observe({ model: s.model }, ms / 1000);
    },
    onQueueDepth: (model: string, depth: QueueDepth) => {
      this.queueTokens.set({ model }, depth.tokens);
      this.queueItems.set({ model }, depth.items);
      this.queueRequests.set({ model }, depth.requests);
    },
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

  /** Counts a request in flight until its connection's response closes (finished or aborted). */
  requestStarted(response: { once(event: 'close', listener: () => void): unknown }): void {
    this.inFlight.inc();
    response.once('close', () => this.inFlight.dec());
  }

  /**
   * A finished request, under both name sets. `timing` (the engine's breakdown) fills SIE's
   * queue / tokenize / inference phases where the route had one.
   */
  recordRequest(route: string, model: string, statusCode: number, seconds: number, timing?: Timing): void {
    this.httpRequests.inc({ route, model, status_code: String(statusCode) });
    this.httpSeconds.observe({ route }, seconds);
    const endpoint = endpointOf(route);
    const status = statusCode < 400 ? 'success' : statusCode === 503 || statusCode === 429 ? 'queue_full' : 'error';
    this.sieRequests.inc({ model, endpoint, status });
    this.sieDuration.observe({ model, endpoint, phase: 'total' }, seconds);
    if (timing) {
      if (timing.queueMs > 0) this.sieDuration.observe({ model, endpoint, phase: 'queue' }, timing.queueMs / 1000);
      if (timing.tokenizationMs > 0) this.sieDuration.observe({ model, endpoint, phase: 'tokenize' }, timing.tokenizationMs / 1000);
      if (timing.inferenceMs > 0) this.sieDuration.observe({ model, endpoint, phase: 'inference' }, timing.inferenceMs / 1000);
    }
  }
}
