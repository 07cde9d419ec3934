// The response-body pool: a Buffer is reused only after its response has handed every byte to
// the kernel ('finish'), never while a socket may still read it, and idle Buffers are bounded.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { BodyBuffers } from '../lib/server/wire/body-buffers.js';

const fakeResponse = () => new EventEmitter() as unknown as ServerResponse;

t.test('a Buffer comes back for reuse only once its response finishes', async (t) => {
  const pool = new BodyBuffers();
  const first = pool.take(100_000);
  t.ok(first.length >= 100_000);
  const response = fakeResponse();
  pool.giveWhenSent(response, first);
  const second = pool.take(100_000);
  t.not(second.buffer, first.buffer, 'in flight: not handed out again');
  response.emit('finish');
  t.equal(pool.take(100_000).buffer, first.buffer, 'sent: reused');
});

t.test('a response that closes without finishing never returns its Buffer', async (t) => {
  const pool = new BodyBuffers();
  const buffer = pool.take(10);
  const response = fakeResponse();
  pool.giveWhenSent(response, buffer);
  response.emit('close');
  t.equal(pool.idleBytes, 0);
  t.not(pool.take(10).buffer, buffer.buffer);
});

t.test('take picks the smallest idle Buffer that fits, and idle bytes are bounded', async (t) => {
  const pool = new BodyBuffers(600 * 1024);
  const small = pool.take(1), large = pool.take(300 * 1024);
  t.equal(small.length, 64 * 1024, 'sizes are powers of two from 64 KiB');
  t.equal(large.length, 512 * 1024);
  pool.give(large);
  pool.give(small);
  t.equal(pool.idleBytes, 576 * 1024);
  t.equal(pool.take(1000).buffer, small.buffer, 'the small one fits a small body');
  pool.give(small);
  pool.give(pool.take(100 * 1024));  // a new 128 KiB Buffer: over the bound, dropped
  t.equal(pool.idleBytes, 576 * 1024);
});
