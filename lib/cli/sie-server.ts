#!/usr/bin/env node
/** `sie-server serve ...`: parse the configuration, start the server, preload models. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildServeConfig, ConfigError, SERVE_USAGE, type ServeConfig } from '../config.js';
import { Engine } from '../engine/engine.js';
import { EngineError } from '../errors/engine-error.js';
import { buildServer } from '../server/app.js';
import { readableLogStream } from '../server/readable-log.js';
import { ServerMetrics } from '../server/server-metrics.js';

async function serve(config: ServeConfig): Promise<void> {
  const metrics = new ServerMetrics();
  // The fidelity gate reports through the app's logger, which exists once the app does.
  let log: ((ok: boolean, fields: object, message: string) => void) | undefined;
  const engine = new Engine({
    threads: config.threads,
    device: config.device,
    dtype: config.dtype,
    modelsDir: config.modelsDirs,
    maxBatchTokens: config.maxBatchTokens,
    batchWaitMs: config.batchWaitMs,
    inlineMaxTokens: config.inlineMaxTokens,
    maxQueuedTokensPerModel: config.maxQueuedTokensPerModel,
    memoryBudgetBytes: config.memoryBudgetBytes,
    loadWaitMs: config.loadWaitMs,
    models: config.bundleModels,
    observer: {
      ...metrics.observer,
      onFidelity: (model, dtype, verdict) => log?.(verdict.ok, { model, dtype, detail: verdict.detail }, verdict.ok ? 'fast dtype passed the fidelity gate' : 'fast dtype failed the fidelity gate: serving fp32'),
    },
  });
  const app = buildServer({
    engine,
    metrics,
    apiKey: config.apiKey,
    publicPaths: config.privateMetrics ? ['/healthz', '/readyz', '/openapi.json'] : ['/healthz', '/readyz', '/metrics', '/openapi.json'],
    overloadStatus: config.overloadStatus,
    maxInputsPerRequest: config.maxInputsPerRequest,
    bodyLimitBytes: config.bodyLimitBytes,
    sieBodyLimitBytes: config.sieBodyLimitBytes,
    imageUrls: config.imageUrls.allowed ? config.imageUrls : undefined,
    coldLoadWaitMs: config.coldLoadWaitMs,
    connectionLimits: { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs, maxConnections: config.maxConnections },
    logger: config.logJson ? { level: config.logLevel } : { level: config.logLevel, stream: readableLogStream() },
  });
  log = (ok, fields, message) => (ok ? app.log.info(fields, message) : app.log.warn(fields, message));
  await app.listen({ host: config.host, port: config.port });
  app.log.info({ threads: engine.threads, device: engine.device, dtype: engine.dtype }, 'sie-server listening');
  if (engine.deviceNote) app.log.info(engine.deviceNote);
  // A model that fails to load is reported (and /readyz says so); the others keep serving.
  const models = [...new Set([...config.models, ...config.pinned])];
  for (const result of await engine.preload(models, { pin: (id) => config.pinned.includes(id) })) {
    if (result.model) app.log.info({ model: result.id, family: result.model.family, dims: result.model.dims, maxSeqLength: result.model.maxSeqLength }, 'model loaded');
    else app.log.error({ model: result.id, code: result.error?.code, err: result.error }, 'model failed to load');
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining in-flight requests');
    await app.close();
    engine.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** `sie-server openapi [-o FILE]`: the OpenAPI document of every route, without serving. */
async function writeOpenApi(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' } }, strict: true });
  const engine = new Engine({ threads: 1, progress: null });
  const app = buildServer({ engine });
  await app.ready();
  const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  engine.close();
  if (values.output) writeFileSync(values.output, document);
  else process.stdout.write(document);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command === 'openapi') return writeOpenApi(rest);
  if (command !== 'serve') {
    process.stderr.write(`sie-server: unknown command '${command}'\n${SERVE_USAGE}\n`);
    return 2;
  }
  try {
    await serve(buildServeConfig(rest, process.env));
    return -1;  // keep running
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sie-server: ${error.message}\n${SERVE_USAGE}\n`);
      return 2;
    }
    if (error instanceof EngineError) {
      // A device that is not there, a thread count out of range: one line, no stack.
      process.stderr.write(`sie-server: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exit(code);
}, (error: unknown) => {
  process.stderr.write(`sie-server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
