// SIE's official Python SDK (../shared/sie-sdk/python, unmodified) on Debian's python3, whose
// dependencies are Debian packages (.ci/run installs them).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { sharedDir } from './fixtures.js';

export const python = '/usr/bin/python3';
export const pythonSdkDir = path.join(sharedDir, 'sie-sdk', 'python');
/** The environment that makes `import sie_sdk` find the SDK. */
export const pythonSdkEnv = { ...process.env, PYTHONPATH: pythonSdkDir };

/**
 * tap's `skip` for a test that runs the SDK: a reason naming the import that failed where the SDK
 * (with `extraModules`) cannot be imported, so a developer without the packages still gets a
 * green run. Under CI (CI set, as .ci/run sets it) the test is never skipped: a missing package
 * must fail the run there, as it would fail a user. `import sie_sdk` pulls in httpx, aiohttp,
 * msgpack-numpy and yaml.
 */
export function skipWithoutPythonSdk(extraModules: string[] = []): false | string {
  if (process.env.CI) return false;
  const modules = ['sie_sdk', 'numpy', ...extraModules];
  try {
    execFileSync(python, ['-c', `import ${modules.join(', ')}`], { env: pythonSdkEnv, stdio: 'pipe' });
    return false;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    const missing = /ModuleNotFoundError: (.*)/.exec(stderr)?.[1] ?? 'it failed to import';
    return `SIE's Python SDK cannot be imported on ${python} (${missing}); .ci/run lists the Debian packages`;
  }
}
