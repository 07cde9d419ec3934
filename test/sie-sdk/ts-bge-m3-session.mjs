// SIE's official TypeScript SDK (bundled by the test) asking sie-server for bge-m3's three outputs
// in one call. Prints one JSON document.
const [bundle, url, textsJson] = process.argv.slice(2);
const { SIEClient } = await import(bundle);
const texts = JSON.parse(textsJson);
const client = new SIEClient(url, { timeout: 30000, waitForCapacity: true });
const results = await client.encode('BAAI/bge-m3', texts.map((text) => ({ text })), { outputTypes: ['dense', 'sparse', 'multivector'] });
const out = results.map((r) => ({
  dense: Array.from(r.dense),
  sparse: { indices: Array.from(r.sparse.indices), values: Array.from(r.sparse.values) },
  multivector: r.multivector.map((v) => Array.from(v)),
}));
await client.close();
console.log(JSON.stringify(out));
