#!/usr/bin/env node
/**
 * `sie-admin`: operate a running sie-server. Thin: parses arguments and calls SIEClient.
 *
 *   sie-admin [--url http://localhost:8080] [--api-key KEY] models | model NAME | load NAME [--pin]
 *             | unload NAME | health
 */
import { parseArgs } from 'node:util';
import { SIEClient } from '../sdk/sie-client.js';

const USAGE = `usage: sie-admin [--url URL] [--api-key KEY] <command>
commands:
  models            list models with state, outputs, dims and errors
  model NAME        one model's info as JSON
  load NAME [--pin] load a model now (pinned: never evicted)
  unload NAME       unload a model
  health            liveness and readiness (exit 1 when not ready)
environment: SIE_URL, SIE_API_KEY`;

async function run(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, pin: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const [command, name] = positionals;
  if (values.help || !command) {
    out.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const client = new SIEClient(values.url ?? process.env.SIE_URL ?? 'http://localhost:8080', { apiKey: values['api-key'] ?? process.env.SIE_API_KEY, timeout: 600000 });
  const needName = () => {
    if (!name) throw Object.assign(new Error(`${command} needs a model name`), { code: 'USAGE' });
    return name;
  };
  switch (command) {
    case 'models': {
      for (const m of await client.modelStates()) {
        const dims = Object.entries(m.dims ?? {}).map(([k, v]) => `${k}:${v}`).join(',') || '-';
        const error = m.last_error ? `  ${m.last_error.code}: ${m.last_error.message}` : '';
        out.write(`${m.name}\t${m.state}\t${m.outputs.join(',') || '-'}\t${dims}${error}\n`);
      }
      return 0;
    }
    case 'model':
      out.write(`${JSON.stringify(await client.modelState(needName()), null, 2)}\n`);
      return 0;
    case 'load':
      await client.loadModel(needName(), { pin: values.pin });
      out.write(`loaded ${name}${values.pin ? ' (pinned)' : ''}\n`);
      return 0;
    case 'unload':
      await client.unloadModel(needName());
      out.write(`unloaded ${name}\n`);
      return 0;
    case 'health': {
      const { healthy, ready } = await client.health();
      out.write(`healthy: ${healthy}\nready: ${ready}\n`);
      return healthy && ready ? 0 : 1;
    }
    default:
      out.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

run(process.argv.slice(2), process.stdout).then((code) => process.exit(code), (error: unknown) => {
  const e = error as { code?: string; message: string };
  process.stderr.write(`sie-admin: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(e.code === 'USAGE' ? 2 : 1);
});
