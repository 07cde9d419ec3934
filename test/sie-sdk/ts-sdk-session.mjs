// SIE's official TypeScript SDK (../shared/sie-sdk/ts, unmodified, bundled by the test with
// esbuild) against a running sie-server. Prints one JSON document of what the SDK returned.
const [bundle, url, textsJson, pairsJson] = process.argv.slice(2);
const { SIEClient, SIEError } = await import(bundle);
const texts = JSON.parse(textsJson);
const pairs = JSON.parse(pairsJson);
const client = new SIEClient(url, { timeout: 30000, waitForCapacity: true });
const kind = (a) => a?.constructor?.name;
const out = {};

const dense = await client.encode('BAAI/bge-small-en-v1.5', texts.map((text, i) => ({ id: `d${i}`, text })));
out.dense = dense.map((r) => ({ id: r.id, kind: kind(r.dense), values: Array.from(r.dense) }));
out.dtypes = {};
for (const dtype of ['float32', 'float16', 'int8', 'uint8', 'binary', 'ubinary']) {
  const r = await client.encode('BAAI/bge-small-en-v1.5', { text: texts[0] }, { outputDtype: dtype });
  out.dtypes[dtype] = { kind: kind(r.dense), values: Array.from(r.dense) };
}
const sparse = await client.encode('tiny-splade', texts.map((text) => ({ text })), { outputTypes: ['sparse'] });
out.sparse = sparse.map((r) => ({ indicesKind: kind(r.sparse.indices), indices: Array.from(r.sparse.indices), values: Array.from(r.sparse.values) }));
const multi = await client.encode('tiny-colbert', texts.map((text) => ({ text })), { outputTypes: ['multivector'] });
out.multivector = multi.map((r) => ({ rows: r.multivector.length, rowKind: kind(r.multivector[0]), values: r.multivector.map((v) => Array.from(v)) }));
const scored = await client.score('tiny-cross-encoder', { text: pairs.query }, pairs.documents.map((text) => ({ text })));
out.score = scored.scores.map((s) => ({ itemId: s.itemId ?? s.item_id, score: s.score, rank: s.rank }));
const extracted = await client.extract('tiny-classifier', [{ text: texts[0] }], { labels: [] });
out.extract = extracted;
out.models = (await client.listModels()).map((m) => ({ name: m.name, outputs: m.outputs, dims: m.dims }));
out.model = await client.getModel('BAAI/bge-small-en-v1.5');
const failure = async (call) => {
  try {
    await call();
    return { name: null };
  } catch (error) {
    return { name: error.constructor.name, isSIEError: error instanceof SIEError, code: error.code, status: error.statusCode ?? error.status };
  }
};
out.unknown = await failure(() => client.encode('no-org/no-such-model', { text: 'x' }));
out.empty = await failure(() => client.encode('BAAI/bge-small-en-v1.5', []));
await client.close();
console.log(JSON.stringify(out));
