// SIE's official TypeScript SDK (bundled by the test with esbuild) sending image bytes and a text
// to sie-server's CLIP model. Prints JSON: the dense vectors in item order.
import { readFileSync } from 'node:fs';

const [bundle, url, filesJson, text] = process.argv.slice(2);
const { SIEClient } = await import(bundle);
const client = new SIEClient(url, { timeout: 30000 });
const files = JSON.parse(filesJson);
const images = await client.encode('tiny-clip', files.map((file, i) => ({ id: `t${i}`, images: [new Uint8Array(readFileSync(file))] })));
const texts = await client.encode('tiny-clip', { text });
console.log(JSON.stringify({ images: images.map((r) => ({ id: r.id, dense: Array.from(r.dense) })), text: Array.from(texts.dense) }));
