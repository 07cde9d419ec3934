/**
 * The fp32 size a checkpoint will take once loaded, read from its safetensors headers (every
 * float tensor is held as fp32 after load). Used to make room before a load; the registry
 * replaces it with the engine's measured figure once the model is in memory.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export function safetensorsFp32Bytes(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) !== 8) return 0;
    const length = Number(prefix.readBigUInt64LE(0));
    if (!Number.isSafeInteger(length) || length > 100 * 1024 * 1024) return 0;
    const header = Buffer.alloc(length);
    readSync(fd, header, 0, length, 8);
    const entries = JSON.parse(header.toString('utf8')) as Record<string, { dtype?: string; shape?: number[] }>;
    let bytes = 0;
    for (const [name, entry] of Object.entries(entries)) {
      if (name === '__metadata__' || !['F32', 'F16', 'BF16', 'F64'].includes(entry.dtype ?? '')) continue;
      bytes += (entry.shape ?? []).reduce((a, b) => a * b, 1) * 4;
    }
    return bytes;
  } catch {
    return 0;  // a malformed file fails properly at load; the estimate does not decide that
  } finally {
    closeSync(fd);
  }
}

/** "4GiB", "512MiB", "1.5GB", "80%" (of total), "0.5" (fraction of total) or bytes -> bytes. */
export function parseMemoryBudget(text: string, totalBytes: number): number {
  const value = text.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (percent) return Math.floor((Number(percent[1]) / 100) * totalBytes);
  const unit = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/i.exec(value);
  if (!unit) throw new Error(`memory budget '${text}' is not a size like 4GiB, 512MB, 80% or 0.5`);
  const number = Number(unit[1]);
  if (!unit[2] && number > 0 && number <= 1 && value.includes('.')) return Math.floor(number * totalBytes);
  const scale: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
  return Math.floor(number * scale[(unit[2] ?? 'b').toLowerCase()]);
}
