/** Model ids as they arrive over HTTP: `name` or `org/name`, nothing that could walk the file system. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isSafeModelId(id: string): boolean {
  const parts = id.split('/');
  if (parts.length < 1 || parts.length > 2) return false;
  return parts.every((p) => SEGMENT.test(p) && !p.includes('..'));
}

/** `org/name` -> the HF cache folder name `models--org--name`. */
export function hubCacheFolder(id: string): string {
  return `models--${id.split('/').join('--')}`;
}
