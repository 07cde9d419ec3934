/** The package's version (package.json), as servers report it. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/lib/version.js -> the package root two levels up. */
const packageJson = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');

export const SERVER_VERSION: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
