// The server configuration: flags, environment, a config file, defaults, in that precedence.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { buildServeConfig } from '../lib/config.js';
import { tempDir } from './helpers/fixtures.js';

t.test('defaults serve all-MiniLM-L6-v2 on 8080 with no memory limit', async (t) => {
  const config = buildServeConfig([], {});
  t.same(config.models, ['sentence-transformers/all-MiniLM-L6-v2']);
  t.equal(config.port, 8080);
  t.equal(config.memoryBudgetBytes, Infinity);
  t.equal(config.overloadStatus, 503);
});

t.test('flags win over the environment', async (t) => {
  const config = buildServeConfig(['-m', 'a', '-m', 'b', '--port', '9000', '--memory-budget', '2GiB', '--pin', 'a'], { SIE_PORT: '7000', SIE_MODELS: 'x,y', SIE_API_KEY: 'k' });
  t.same(config.models, ['a', 'b']);
  t.equal(config.port, 9000);
  t.equal(config.memoryBudgetBytes, 2 * 1024 ** 3);
  t.same(config.pinned, ['a']);
  t.equal(config.apiKey, 'k');
  t.same(buildServeConfig([], { SIE_MODELS: 'x, y' }).models, ['x', 'y']);
});

t.test('a config file sets options; the command line overrides it', async (t) => {
  const file = path.join(tempDir(t), 'sie.json');
  writeFileSync(file, JSON.stringify({ model: ['m1', 'm2'], port: 8181, 'memory-budget': '50%', 'overload-status': 429, 'private-metrics': true }));
  const config = buildServeConfig(['--config', file, '--port', '8282'], {});
  t.same(config.models, ['m1', 'm2']);
  t.equal(config.port, 8282);
  t.equal(config.overloadStatus, 429);
  t.equal(config.privateMetrics, true);
  t.ok(config.memoryBudgetBytes > 0 && Number.isFinite(config.memoryBudgetBytes));
});

t.test('bad values are refused with a message', async (t) => {
  t.throws(() => buildServeConfig(['--memory-budget', 'lots'], {}), /memory budget 'lots'/);
  t.throws(() => buildServeConfig(['--overload-status', '500'], {}), /503 or 429/);
  t.throws(() => buildServeConfig(['--nope'], {}), /nope/);
  t.throws(() => buildServeConfig(['--config', '/does/not/exist.json'], {}), /cannot read config file/);
});

t.test('--device / SIE_DEVICE: cpu by default, cuda[:N] or auto accepted, anything else refused', async (t) => {
  t.equal(buildServeConfig([], {}).device, 'cpu');
  t.equal(buildServeConfig(['--device', 'cuda:1'], {}).device, 'cuda:1');
  t.equal(buildServeConfig([], { SIE_DEVICE: 'auto' }).device, 'auto');
  t.throws(() => buildServeConfig(['--device', 'gpu'], {}), { message: /device must be auto, cpu, cuda or cuda:N, got 'gpu'/ });
});

t.test('--inline-max-tokens: 64 by default, from the flag or SIE_INLINE_MAX_TOKENS, 0 to turn off, refused past 512', async (t) => {
  t.equal(buildServeConfig([], {}).inlineMaxTokens, 64);
  t.equal(buildServeConfig(['--inline-max-tokens', '0'], { SIE_INLINE_MAX_TOKENS: '32' }).inlineMaxTokens, 0);
  t.equal(buildServeConfig([], { SIE_INLINE_MAX_TOKENS: '32' }).inlineMaxTokens, 32);
  t.throws(() => buildServeConfig(['--inline-max-tokens', '4096'], {}), /inline-max-tokens/);
});
