/**
 * Slow clients next to real ones: the server's throughput for 64 normal clients alone, then with
 * 500 slowloris sockets open for the whole run (each sends one header line every few seconds and
 * never finishes; a socket the server cuts off is replaced at once). The normal clients' rate
 * must stay within 10 % of the baseline with no errors; the server must have cut the slow sockets
 * on its header timeout.
 *
 *   npm run bench:slowloris [-- --minutes 10 --slow 500 --clients 64]
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { httpLoad, startSieServer } from './http-harness.js';
import { minilmCheckpoint } from './minilm-checkpoint.js';

class Slowloris {
  private readonly sockets = new Set<net.Socket>();
  cutOff = 0;
  opened = 0;
  private stopped = false;

  constructor(private readonly port: number, private readonly count: number, private readonly lineEveryMs: number) {}

  start(): void {
    for (let i = 0; i < this.count; i++) this.open();
  }

  private open(): void {
    if (this.stopped) return;
    const socket = net.connect(this.port, '127.0.0.1', () => socket.write('POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n'));
    this.opened++;
    this.sockets.add(socket);
    const timer = setInterval(() => socket.write(`X-Slow-${Math.random().toString(36).slice(2, 6)}: 1\r\n`), this.lineEveryMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      this.sockets.delete(socket);
      if (!this.stopped) {
        this.cutOff++;
        this.open();
      }
    });
  }

  get open_(): number {
    return this.sockets.size;
  }

  stop(): void {
    this.stopped = true;
    for (const socket of this.sockets) socket.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, slow: { type: 'string' }, clients: { type: 'string' }, threads: { type: 'string' } } });
  const minutes = Number(values.minutes ?? 10);
  const slowCount = Number(values.slow ?? 500);
  const clients = Number(values.clients ?? 64);
  const threads = Number(values.threads ?? os.availableParallelism());
  const { modelDir } = minilmCheckpoint('dense-mean', false);
  const port = 22000 + Math.floor(Math.random() * 1000);
  const server = await startSieServer(modelDir, port, threads);
  const url = `http://127.0.0.1:${port}/v1/embeddings`;
  const body = { model: path.basename(modelDir), input: 'A sentence of about a dozen words, as a search query might be.' };
  try {
    await httpLoad(url, body, clients, 5);  // warm-up
    const baseline = await httpLoad(url, body, clients, 60);
    const slow = new Slowloris(port, slowCount, 3000);
    slow.start();
    await new Promise((r) => setTimeout(r, 2000));
    const during = await httpLoad(url, body, clients, minutes * 60);
    const openAtEnd = slow.open_;
    slow.stop();
    const ratio = during.rps / baseline.rps;
    console.log(`# slowloris: ${os.cpus()[0]?.model ?? 'CPU'}, ${threads} threads, ${new Date().toISOString().slice(0, 10)}`);
    console.log('| run | clients | slow sockets | duration | req/s | p50 ms | p99 ms | errors |');
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(`| baseline | ${clients} | 0 | 60 s | ${baseline.rps.toFixed(0)} | ${baseline.p50} | ${baseline.p99} | ${baseline.errors} |`);
    console.log(`| with slowloris | ${clients} | ${slowCount} | ${minutes} min | ${during.rps.toFixed(0)} | ${during.p50} | ${during.p99} | ${during.errors} |`);
    console.log(`\nthroughput ${(ratio * 100).toFixed(1)} % of baseline (goal >= 90 %), ${during.errors} errors (goal 0); slow sockets opened ${slow.opened}, cut off by the server ${slow.cutOff} (header timeout), ${openAtEnd} open at the end`);
    process.exitCode = ratio >= 0.9 && during.errors === 0 ? 0 : 1;
  } finally {
    server.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
