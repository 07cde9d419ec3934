/**
 * The body of an OpenAI embeddings answer (also Infinity's `/embeddings`), written as JSON text
 * directly. The vectors are float32: native code prints each value in its shortest float32 form
 * (bindings/wire_format.cpp), as Infinity's orjson does, instead of JSON.stringify's float64
 * expansion, which was most of the time and bytes of a batch answer (32 x 384 floats: 3 ms and
 * 250 KiB). Every value reads back to the identical float32.
 */
import { nativeAddon } from '../../bindings/native-addon.js';

export function float32Base64(vector: Float32Array): string {
  // Little-endian float32 bytes, as OpenAI sends them (every platform Node runs on is little-endian).
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** The whole body; float answers come back as one Buffer written by native code (see float32JsonJoin). */
export function embeddingsJson(vectors: ReadonlyArray<Float32Array>, model: string, promptTokens: number, encoding: 'float' | 'base64'): string | Buffer {
  const head = '{"object":"list","data":[';
  const tail = `],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`;
  const item = (index: number) => `${index > 0 ? ',' : ''}{"object":"embedding","index":${index},"embedding":`;
  if (encoding === 'base64') return head + vectors.map((v, index) => `${item(index)}"${float32Base64(v)}"}`).join('') + tail;
  const parts = vectors.map((_, index) => (index > 0 ? '}' : head) + item(index));
  parts.push(vectors.length > 0 ? `}${tail}` : head + tail);
  return nativeAddon().wire.float32JsonJoin(vectors, parts);
}
