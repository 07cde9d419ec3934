/**
 * Readable log lines for a terminal (SIE_LOG_JSON=0): pino's JSON records rewritten as
 * "HH:MM:SS LEVEL message key=value ...". JSON stays the default, for log collectors.
 */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

export function readableLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = new Date(typeof record.time === 'number' ? record.time : Date.now()).toISOString().slice(11, 19);
  const fields = Object.entries(record).filter(([k]) => !OMITTED.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [time, LEVELS[record.level as number] ?? String(record.level), String(record.msg ?? ''), ...fields].join(' ');
}

export function readableLogStream(out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) out.write(`${readableLine(line)}\n`);
      done();
    },
  });
}
