/**
 * Tokenizes large requests on worker threads, so a request with thousands of texts does not
 * stall the event loop for everyone else. Small requests are cheaper to tokenize inline (a
 * round trip to a worker costs more than a few short texts), which LoadedModel decides.
 */
import { Worker } from 'node:worker_threads';
import { EngineError } from './engine-error.js';

interface Pending {
  resolve: (lists: number[][]) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  ids?: Int32Array;
  lengths?: Int32Array;
  error?: string;
}

export class TokenizationPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(private readonly size: number) {}

  /** Content token ids of each text, computed by a worker. */
  contentIds(directory: string, texts: string[]): Promise<number[][]> {
    const worker = this.pick();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, directory, texts });
    });
  }

  close(): void {
    for (const worker of this.workers) void worker.terminate();
    this.workers.length = 0;
    for (const p of this.pending.values()) p.reject(new EngineError('INTERNAL', 'tokenization pool closed'));
    this.pending.clear();
  }

  private pick(): Worker {
    if (this.workers.length < this.size) {
      const worker = new Worker(new URL('./tokenizer-worker.js', import.meta.url));
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      worker.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
      worker.unref();
      this.workers.push(worker);
      return worker;
    }
    return this.workers[this.nextWorker++ % this.workers.length];
  }

  private settle(worker: Worker, reply: Reply): void {
    const pending = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();  // idle workers never keep the process alive
    if (!pending) return;
    if (reply.error !== undefined) return pending.reject(new EngineError('INTERNAL', `tokenization failed: ${reply.error}`));
    const lists: number[][] = [];
    let at = 0;
    for (const length of reply.lengths!) {
      lists.push(Array.from(reply.ids!.subarray(at, at + length)));
      at += length;
    }
    pending.resolve(lists);
  }
}
