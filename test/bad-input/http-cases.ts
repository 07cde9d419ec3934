/**
 * The hostile-request table over every route: what is sent (method, path, content type, body) and
 * what must come back (a status class and the route family's error shape). Built from the
 * malformed bodies any JSON route must refuse, crossed with every route, plus each route's own
 * wrong fields, paths and content types.
 */

export type Family = 'sie' | 'openai' | 'infinity' | 'admin';

export interface HttpCase {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  contentType?: string;
  body?: string | Uint8Array;
  /** 4 for a 4xx (the default), 2 where the server must accept it. */
  statusClass?: 2 | 4;
  /** An exact status where one is required. */
  status?: number;
  family: Family;
}

export const MODELS = { dense: 'tiny-dense-mean', cross: 'tiny-cross-encoder', classifier: 'tiny-classifier' } as const;

const ROUTES: Array<{ path: string; family: Family }> = [
  { path: '/v1/embeddings', family: 'openai' },
  { path: `/v1/encode/${MODELS.dense}`, family: 'sie' },
  { path: `/v1/score/${MODELS.cross}`, family: 'sie' },
  { path: `/v1/extract/${MODELS.classifier}`, family: 'sie' },
  { path: '/embeddings', family: 'infinity' },
  { path: '/rerank', family: 'infinity' },
  { path: '/classify', family: 'infinity' },
  { path: '/v1/admin/models/no-such-model/load', family: 'admin' },
];

/** Bodies no JSON route may accept. */
const MALFORMED: Array<[string, string]> = [
  ['empty body', ''],
  ['truncated JSON', '{"model": "x", "input": ['],
  ['a bare string', '"hello"'],
  ['a bare number', '42'],
  ['null', 'null'],
  ['an array', '[1, 2, 3]'],
  ['an empty object', '{}'],
  ['trailing garbage', '{"model": "x"} xyz'],
  ['single quotes', "{'model': 'x'}"],
  ['NaN literal', '{"model": NaN}'],
  ['deep nesting', '['.repeat(5000) + ']'.repeat(5000)],
  ['a prototype-pollution key', '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'],
  ['a huge number', '{"model": 1e400, "input": 1e400}'],
  ['invalid UTF-8 bytes', '{"model": "\xff\xfe"}'],
  ['a NUL byte', '{"model": "a\u0000b", "input": "\u0000"}'],
  ['comments', '{/* c */ "model": "x"}'],
  ['a BOM then garbage', '\ufeff{oops}'],
];

function routeSpecific(): HttpCase[] {
  const cases: HttpCase[] = [];
  const add = (path: string, family: Family, name: string, body: unknown, extra: Partial<HttpCase> = {}) =>
    cases.push({ name: `${path}: ${name}`, method: 'POST', path, family, contentType: 'application/json', body: JSON.stringify(body), ...extra });
  const m = MODELS;
  // OpenAI embeddings.
  const oe = '/v1/embeddings';
  for (const [name, body] of [
    ['input an object', { model: m.dense, input: { a: 1 } }], ['input nested arrays', { model: m.dense, input: [[[1]]] }],
    ['strings mixed with ids', { model: m.dense, input: ['a', [1, 2]] }], ['ids mixed with strings', { model: m.dense, input: [[1, 2], 'a'] }],
    ['a float id', { model: m.dense, input: [1.5] }], ['a negative id', { model: m.dense, input: [-3] }], ['an id past the vocabulary', { model: m.dense, input: [999999] }],
    ['an empty list', { model: m.dense, input: [] }], ['an empty id list', { model: m.dense, input: [[]] }], ['model an array', { model: [m.dense], input: 'x' }],
    ['model empty', { model: '', input: 'x' }], ['model too long', { model: 'a'.repeat(600), input: 'x' }], ['model a path', { model: '/etc/passwd', input: 'x' }],
    ['model walking up', { model: '../../x', input: 'x' }], ['unknown model', { model: 'org/none', input: 'x' }], ['dimensions 0', { model: m.dense, input: 'x', dimensions: 0 }],
    ['dimensions negative', { model: m.dense, input: 'x', dimensions: -1 }], ['dimensions too large', { model: m.dense, input: 'x', dimensions: 4096 }],
    ['dimensions fractional', { model: m.dense, input: 'x', dimensions: 3.5 }], ['encoding_format unknown', { model: m.dense, input: 'x', encoding_format: 'hex' }],
    ['truncate a string', { model: m.dense, input: 'x', truncate: 'yes' }], ['too long without truncation', { model: m.dense, input: 'x '.repeat(600), truncate: false }],
    ['a model that cannot embed', { model: m.cross, input: 'x' }], ['too many inputs', { model: m.dense, input: Array(40).fill('x') }],
  ] as Array<[string, unknown]>) add(oe, 'openai', name, body);
  // SIE encode.
  const se = `/v1/encode/${m.dense}`;
  for (const [name, body] of [
    ['items missing', {}], ['items not a list', { items: 'x' }], ['items empty', { items: [] }], ['an item without text', { items: [{}] }],
    ['text a number', { items: [{ text: 5 }] }], ['text an object', { items: [{ text: { a: 1 } }] }], ['an image on a text model', { items: [{ images: [{ data: 'AAAA', format: 'png' }] }] }],
    ['unknown output type', { items: [{ text: 'x' }], params: { output_types: ['image'] } }], ['output type the model lacks', { items: [{ text: 'x' }], params: { output_types: ['sparse'] } }],
    ['output_types a string', { items: [{ text: 'x' }], params: { output_types: 'dense' } }], ['unknown output dtype', { items: [{ text: 'x' }], params: { output_dtype: 'float8' } }],
    ['params a list', { items: [{ text: 'x' }], params: [] }], ['unknown profile', { items: [{ text: 'x' }], params: { options: { profile: 'nope' } } }],
    ['too many items', { items: Array(40).fill({ text: 'x' }) }], ['id an object', { items: [{ text: 'x', id: { a: 1 } }] }],
  ] as Array<[string, unknown]>) add(se, 'sie', name, body);
  for (const [path, name] of [[`/v1/encode/org%2F..%2F..%2Fetc`, 'an encoded walk in the path'], ['/v1/encode/%zz', 'bad percent-encoding'], [`/v1/encode/${'a'.repeat(2000)}`, 'a path id past the limit'], ['/v1/encode/', 'no model in the path'], ['/v1/encode/no-such-model', 'an unknown model']] as const) {
    cases.push({ name: `${name}`, method: 'POST', path, family: 'sie', contentType: 'application/json', body: JSON.stringify({ items: [{ text: 'x' }] }) });
  }
  // SIE score and extract.
  const ss = `/v1/score/${m.cross}`;
  for (const [name, body] of [
    ['query missing', { items: [{ text: 'a' }] }], ['items missing', { query: { text: 'q' } }], ['query a string', { query: 'q', items: [{ text: 'a' }] }],
    ['query without text', { query: {}, items: [{ text: 'a' }] }], ['items empty', { query: { text: 'q' }, items: [] }], ['a document without text', { query: { text: 'q' }, items: [{ id: 'x' }] }],
  ] as Array<[string, unknown]>) add(ss, 'sie', name, body);
  add(`/v1/score/${m.dense}`, 'sie', 'score on an embedding model', { query: { text: 'q' }, items: [{ text: 'a' }] });
  const sx = `/v1/extract/${m.classifier}`;
  for (const [name, body] of [
    ['items missing', {}], ['labels not a list', { items: [{ text: 'x' }], params: { labels: 'a' } }], ['an unknown label', { items: [{ text: 'x' }], params: { labels: ['no-such-label'] } }],
    ['threshold a string', { items: [{ text: 'x' }], params: { threshold: 'high' } }],
  ] as Array<[string, unknown]>) add(sx, 'sie', name, body);
  add(`/v1/extract/${m.dense}`, 'sie', 'extract on an embedding model', { items: [{ text: 'x' }] });
  // Infinity.
  for (const [name, body] of [
    ['rerank without query', { model: m.cross, documents: ['a'] }], ['rerank documents not a list', { model: m.cross, query: 'q', documents: 'a' }],
    ['rerank on an embedding model', { model: m.dense, query: 'q', documents: ['a'] }], ['rerank top_n negative', { model: m.cross, query: 'q', documents: ['a'], top_n: -1 }],
  ] as Array<[string, unknown]>) add('/rerank', 'infinity', name, body);
  for (const [name, body] of [['classify without input', { model: m.classifier }], ['classify on an embedding model', { model: m.dense, input: ['x'] }], ['classify input a number', { model: m.classifier, input: 3 }]] as Array<[string, unknown]>) add('/classify', 'infinity', name, body);
  for (const [name, body] of [['infinity embeddings without model', { input: ['x'] }], ['infinity embeddings input null', { model: m.dense, input: null }]] as Array<[string, unknown]>) add('/embeddings', 'infinity', name, body);
  // Admin.
  for (const [path, name] of [['/v1/admin/models/%2Fetc/load', 'load a path'], ['/v1/admin/models/org%2Fnone/load', 'load an unknown model'], [`/v1/admin/models/${'x'.repeat(2000)}/load`, 'load a model id too long'], ['/v1/admin/models/%zz/unload', 'unload with bad percent-encoding'], ['/v1/admin/models//load', 'load an empty id']] as const) {
    cases.push({ name, method: 'POST', path, family: 'admin', contentType: 'application/json', body: '{"pin": "yes"}' });
  }
  // Methods and content types.
  for (const route of ROUTES) {
    cases.push({ name: `${route.path}: GET on a POST route`, method: 'GET', path: route.path, family: route.family });
    cases.push({ name: `${route.path}: DELETE`, method: 'DELETE', path: route.path, family: route.family });
    cases.push({ name: `${route.path}: form-encoded body`, method: 'POST', path: route.path, family: route.family, contentType: 'application/x-www-form-urlencoded', body: 'model=x&input=y' });
  }
  cases.push({ name: 'SIE encode: msgpack garbage', method: 'POST', path: se, family: 'sie', contentType: 'application/msgpack', body: new Uint8Array([0xc1, 0xff, 0x00, 0x93]) });
  cases.push({ name: 'SIE encode: msgpack of a number', method: 'POST', path: se, family: 'sie', contentType: 'application/msgpack', body: new Uint8Array([0x2a]) });
  cases.push({ name: 'SIE encode: JSON sent as text/plain is parsed, as SIE does', method: 'POST', path: se, family: 'sie', contentType: 'text/plain', body: JSON.stringify({ items: [{ text: 'x' }] }), statusClass: 2 });
  cases.push({ name: 'unknown route', method: 'POST', path: '/v2/everything', family: 'sie', contentType: 'application/json', body: '{}', status: 404 });
  cases.push({ name: 'unknown model info', method: 'GET', path: '/v1/models/org/none', family: 'sie', status: 404 });
  return cases;
}

export function httpCases(): HttpCase[] {
  const cases: HttpCase[] = [];
  for (const route of ROUTES) {
    for (const [name, body] of MALFORMED) cases.push({ name: `${route.path}: ${name}`, method: 'POST', path: route.path, family: route.family, contentType: 'application/json', body });
  }
  return [...cases, ...routeSpecific()];
}
