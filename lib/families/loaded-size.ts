/**
 * The size a model will take once loaded, before loading it: every float tensor of its weight
 * files held as fp32. The tensor tables come from the native loader's own header parser
 * (inspectWeights), so a header is parsed in one place only. The registry replaces the
 * estimate with the backend's measured figure once the model is in memory.
 */
import { nativeAddon } from '../bindings/native-addon.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export function estimatedLoadedBytes(weightFiles: ReadonlyArray<string>): number {
  let bytes = 0;
  for (const file of weightFiles) {
    for (const tensor of nativeAddon().inspectWeights(file)) {
      if (FLOAT_DTYPES.has(tensor.dtype)) bytes += tensor.shape.reduce((a, b) => a * b, 1) * 4;
    }
  }
  return bytes;
}
