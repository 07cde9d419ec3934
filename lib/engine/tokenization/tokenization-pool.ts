/**
 * Tokenizes large requests on worker threads, so a request with thousands of texts does not
 * stall the event loop for everyone else. A worker that dies (crash, out of memory, terminated)
 * is replaced: its requests are retried once on a fresh worker, then fail with INTERNAL, so no
 * promise is ever left unsettled.
 */
import { Worker } from 'node:worker_threads';
import { EngineError } from '../../errors/engine-error.js';
import type { TokenizedText } from '../../families/model-family.js';

interface Task {
  id: number;
  directory: string;
  texts: string[];
  withTokens: boolean;
  retried: boolean;
  resolve: (texts: TokenizedText[]) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  ids?: Int32Array;
  lengths?: Int32Array;
  details?: Array<{ tokens: string[]; spans: Array<[number, number]> }>;
  error?: string;
}

interface PoolWorker {
  worker: Worker;
  tasks: Map<number, Task>;
}

export class TokenizationPool {
  private workers: PoolWorker[] = [];
  private nextId = 0;
  private nextWorker = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  /** Content tokens of each text (ids only, unless withTokens), computed by a worker. */
  tokenize(directory: string, texts: string[], withTokens: boolean): Promise<TokenizedText[]> {
    if (this.closed) return Promise.reject(new EngineError('INTERNAL', 'tokenization pool closed'));
    return new Promise((resolve, reject) => {
      this.send({ id: this.nextId++, directory, texts, withTokens, retried: false, resolve, reject });
    });
  }

  /** Live workers (for tests and diagnostics). */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Ends every worker; for tests of the respawn path, and at shutdown through close(). */
  async terminateWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  close(): void {
    this.closed = true;
    const workers = this.workers;
    this.workers = [];
    for (const w of workers) {
      for (const task of w.tasks.values()) task.reject(new EngineError('INTERNAL', 'tokenization pool closed'));
      w.tasks.clear();
      void w.worker.terminate();
    }
  }

  private send(task: Task): void {
    const w = this.pick();
    w.tasks.set(task.id, task);
    w.worker.ref();
    w.worker.postMessage({ id: task.id, directory: task.directory, texts: task.texts, withTokens: task.withTokens });
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const w: PoolWorker = { worker: new Worker(new URL('./tokenizer-worker.js', import.meta.url)), tasks: new Map() };
      w.worker.on('message', (reply: Reply) => this.settle(w, reply));
      w.worker.on('error', () => this.retire(w));
      w.worker.on('exit', () => this.retire(w));
      w.worker.unref();
      this.workers.push(w);
      return w;
    }
    return this.workers[this.nextWorker++ % this.workers.length];
  }

  /** Drops a dead worker; its tasks go to a fresh one once, then fail. */
  private retire(w: PoolWorker): void {
    const at = this.workers.indexOf(w);
    if (at < 0) return;
    this.workers.splice(at, 1);
    const orphans = [...w.tasks.values()];
    w.tasks.clear();
    for (const task of orphans) {
      if (!this.closed && !task.retried) this.send({ ...task, retried: true });
      else task.reject(new EngineError('INTERNAL', 'the tokenizer worker stopped while tokenizing this request'));
    }
  }

  private settle(w: PoolWorker, reply: Reply): void {
    const task = w.tasks.get(reply.id);
    w.tasks.delete(reply.id);
    if (w.tasks.size === 0) w.worker.unref();  // idle workers never keep the process alive
    if (!task) return;
    if (reply.error !== undefined) return task.reject(new EngineError('INTERNAL', `tokenization failed: ${reply.error}`));
    const texts: TokenizedText[] = [];
    let at = 0;
    reply.lengths!.forEach((length, i) => {
      const detail = reply.details?.[i];
      texts.push({ ids: Array.from(reply.ids!.subarray(at, at + length)), tokens: detail?.tokens ?? [], spans: detail?.spans ?? [] });
      at += length;
    });
    task.resolve(texts);
  }
}
