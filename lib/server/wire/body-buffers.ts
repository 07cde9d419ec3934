/**
 * Response-body Buffers the server reuses. A float answer to a batch of 32 is about 150 KiB; V8
 * counts every new Buffer's memory against the heap's growth limit, so a fresh one per answer
 * started a full (mark-compact) GC every few dozen answers: about 30 ms of work on a 20 MiB heap,
 * 0.7 ms per answer on the event loop. A body goes back to the pool once Node has handed all of
 * it to the kernel ('finish'); a response that never finishes (the client left) simply leaves its
 * Buffer to the GC, so no Buffer is ever reused while a socket may still read it.
 */
import type { ServerResponse } from 'node:http';

const SMALLEST_BYTES = 64 * 1024;

export class BodyBuffers {
  private readonly free: Buffer[] = [];
  private retainedBytes = 0;

  /** maxRetainedBytes bounds what idle Buffers may hold; beyond it, returned ones are dropped. */
  constructor(private readonly maxRetainedBytes = 32 * 1024 * 1024) {}

  /** A Buffer of at least `bytes` (its contents are old bytes): the smallest free one, or a new one. */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const length = this.free[i].length;
      if (length >= bytes && (best < 0 || length < this.free[best].length)) best = i;
    }
    if (best >= 0) {
      const [buffer] = this.free.splice(best, 1);
      this.retainedBytes -= buffer.length;
      return buffer;
    }
    // Power-of-two sizes, so bodies of similar size share Buffers.
    let size = SMALLEST_BYTES;
    while (size < bytes) size *= 2;
    return Buffer.allocUnsafeSlow(size);
  }

  /** Returns a Buffer from take() for reuse. */
  give(buffer: Buffer): void {
    if (this.retainedBytes + buffer.length > this.maxRetainedBytes) return;
    this.free.push(buffer);
    this.retainedBytes += buffer.length;
  }

  /** Gives `buffer` back once `response` has handed its last byte to the kernel; never if it does not finish. */
  giveWhenSent(response: ServerResponse, buffer: Buffer): void {
    response.once('finish', () => this.give(buffer));
  }

  /** Bytes held by idle Buffers (for tests). */
  get idleBytes(): number {
    return this.retainedBytes;
  }
}
