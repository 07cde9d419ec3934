/**
 * The body of an OpenAI embeddings answer (also Infinity's `/embeddings`), written as JSON text
 * directly. The vectors are float32: native code prints each value in its shortest float32 form
 * (bindings/wire_format.cpp), as Infinity's orjson does, instead of JSON.stringify's float64
 * expansion, which was most of the time and bytes of a batch answer (32 x 384 floats: 3 ms and
 * 250 KiB). Every value reads back to the identical float32. Float bodies are written into
 * Buffers the server reuses (body-buffers.ts).
 */
import type { FastifyReply } from 'fastify';
import { nativeAddon } from '../../bindings/native-addon.js';
import { BodyBuffers } from './body-buffers.js';

/** One pool for the process: every server in it writes its float answers into these. */
const bodyBuffers = new BodyBuffers();

export function float32Base64(vector: Float32Array): string {
  // Little-endian float32 bytes, as OpenAI sends them (every platform Node runs on is little-endian).
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** The JSON text around the vectors: parts[i] comes before vector i, the last part after them all. */
function embeddingsParts(count: number, model: string, promptTokens: number): string[] {
  const head = '{"object":"list","data":[';
  const tail = `],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`;
  const item = (index: number) => `${index > 0 ? ',' : ''}{"object":"embedding","index":${index},"embedding":`;
  if (count === 0) return [head + tail];
  const parts = Array.from({ length: count }, (_, index) => (index > 0 ? '}' : head) + item(index));
  parts.push(`}${tail}`);
  return parts;
}

/**
 * The body as a Buffer (float) or a string (base64). A float body is a view of `into`'s Buffer
 * (from bodyBuffers), which the caller gives back once the body is sent.
 */
export function embeddingsJson(vectors: ReadonlyArray<Float32Array>, model: string, promptTokens: number, encoding: 'float' | 'base64', into: BodyBuffers = bodyBuffers): { body: string | Buffer; pooled?: Buffer } {
  const parts = embeddingsParts(vectors.length, model, promptTokens);
  if (encoding === 'base64') {
    return { body: parts.map((part, i) => (i < vectors.length ? `${part}"${float32Base64(vectors[i])}"` : part)).join('') };
  }
  const wire = nativeAddon().wire;
  // Enough for any values (UTF-8 at three bytes a character at most); the native side checks.
  const floats = vectors.reduce((n, v) => n + v.length, 0);
  let buffer = into.take(parts.reduce((n, p) => n + 3 * p.length, 0) + 16 * floats + 2 * vectors.length + 64);
  let written = wire.float32JsonJoinInto(vectors, parts, buffer);
  if (written < 0) {
    into.give(buffer);
    buffer = into.take(-written);
    written = wire.float32JsonJoinInto(vectors, parts, buffer);
  }
  return { body: buffer.subarray(0, written), pooled: buffer };
}

/** Sends an embeddings answer, returning a float body's Buffer to the pool once it is on the wire. */
export function sendEmbeddings(reply: FastifyReply, vectors: ReadonlyArray<Float32Array>, model: string, promptTokens: number, encoding: 'float' | 'base64'): FastifyReply {
  const { body, pooled } = embeddingsJson(vectors, model, promptTokens, encoding);
  if (pooled) bodyBuffers.giveWhenSent(reply.raw, pooled);
  // Written as text (the response schema documents the shape; a string or Buffer body skips it).
  return reply.type('application/json; charset=utf-8').send(body);
}
