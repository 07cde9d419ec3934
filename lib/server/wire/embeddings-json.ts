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

export function embeddingsJson(vectors: ReadonlyArray<Float32Array>, model: string, promptTokens: number, encoding: 'float' | 'base64'): string {
  const embeddings = encoding === 'base64' ? vectors.map((v) => `"${float32Base64(v)}"`) : nativeAddon().wire.float32JsonArrays(vectors);
  const data = embeddings.map((embedding, index) => `{"object":"embedding","index":${index},"embedding":${embedding}}`).join(',');
  return `{"object":"list","data":[${data}],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`;
}
