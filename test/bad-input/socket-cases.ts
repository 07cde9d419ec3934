/**
 * Raw-socket cases: what an HTTP client library would never send. Each is written byte for byte
 * and must end in a 4xx (or a closed connection, for the slow ones) within its time bound.
 */
export interface SocketCase {
  name: string;
  /** The bytes, or chunks with a pause after each. */
  data: string | Array<[string, number]>;
  /** Expected first status, or 'closed' when the server must just cut the connection in time. */
  expect: number | '4xx' | 'closed';
  /** Longest the exchange may take (ms). */
  withinMs: number;
}

const post = (path: string, headers: string, body: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;
const json = '{"model": "tiny-dense-mean", "input": "x"}';

export function socketCases(): SocketCase[] {
  return [
    { name: 'slowloris: headers trickle in and never finish', data: [['POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n', 200], ['X-A: 1\r\n', 300], ['X-B: 2\r\n', 300], ['X-C: 3\r\n', 300], ['X-D: 4\r\n', 300], ['X-E: 5\r\n', 3000]], expect: 'closed', withinMs: 4000 },
    { name: 'headers that stop mid-line', data: 'POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ', expect: 'closed', withinMs: 3000 },
    { name: 'a body shorter than its Content-Length', data: post('/v1/embeddings', 'Content-Type: application/json\r\nContent-Length: 500\r\n', '{"model"'), expect: 408, withinMs: 3000 },
    { name: 'a body trickling in past the request timeout', data: [[post('/v1/embeddings', 'Content-Type: application/json\r\nContent-Length: 100\r\n', '{'), 400], [' ', 400], [' ', 400], [' ', 400], [' ', 3000]], expect: 408, withinMs: 4000 },
    { name: 'duplicate Content-Length with different values', data: post('/v1/embeddings', 'Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 42\r\n', json), expect: 400, withinMs: 2000 },
    { name: 'Content-Length and Transfer-Encoding together', data: post('/v1/embeddings', `Content-Type: application/json\r\nContent-Length: ${json.length}\r\nTransfer-Encoding: chunked\r\n`, `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`), expect: 400, withinMs: 2000 },
    { name: 'a chunk size that is not hex', data: post('/v1/embeddings', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'), expect: 400, withinMs: 2000 },
    { name: 'a chunk longer than announced', data: post('/v1/embeddings', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', '2\r\n{"model": 1}\r\n0\r\n\r\n'), expect: 400, withinMs: 2000 },
    { name: 'a chunked body that never ends', data: [[post('/v1/embeddings', 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', '1\r\n{\r\n'), 4000]], expect: 408, withinMs: 4000 },
    { name: 'a negative Content-Length', data: post('/v1/embeddings', 'Content-Type: application/json\r\nContent-Length: -5\r\n', json), expect: 400, withinMs: 2000 },
    { name: 'a Content-Length that is not a number', data: post('/v1/embeddings', 'Content-Type: application/json\r\nContent-Length: lots\r\n', json), expect: 400, withinMs: 2000 },
    { name: 'oversized headers (40 KB)', data: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`, expect: 431, withinMs: 2000 },
    { name: 'a request line of 100 KB', data: `GET /v1/models/${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, expect: '4xx', withinMs: 2000 },
    { name: 'a header name with spaces', data: 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', expect: 400, withinMs: 2000 },
    { name: 'a NUL in a header value', data: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', expect: 400, withinMs: 2000 },
    { name: 'bare LF line endings with a body', data: `POST /v1/embeddings HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${json.length}\n\n${json}`, expect: '4xx', withinMs: 2000 },
    { name: 'a garbage request line', data: 'HELLO THERE\r\n\r\n', expect: 400, withinMs: 2000 },
    { name: 'HTTP/2 preface on an HTTP/1.1 port', data: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', expect: '4xx', withinMs: 2000 },
    { name: 'an unknown method', data: 'BREW /v1/embeddings HTTP/1.1\r\nHost: x\r\n\r\n', expect: '4xx', withinMs: 2000 },
    // HTTP/1.1 servers must accept the absolute form; only the path counts, no proxying happens.
    { name: 'an absolute-form target for another host', data: 'GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n', expect: 200, withinMs: 2000 },
    { name: 'a NUL byte in the path', data: 'GET /v1/models/a%00b HTTP/1.1\r\nHost: x\r\n\r\n', expect: '4xx', withinMs: 2000 },
    { name: 'Expect: 100-continue with a body over the limit', data: post('/v1/embeddings', 'Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n', ''), expect: 413, withinMs: 2000 },
    { name: 'a Content-Length over the limit with no body yet', data: post('/v1/encode/tiny-dense-mean', 'Content-Type: application/json\r\nContent-Length: 999999999\r\n', '{'), expect: 413, withinMs: 2000 },
  ];
}
