/**
 * What the benchmarks' ONNX exporters share: reading F32 safetensors and building an ONNX graph
 * of standard ops node by node (onnx-proto), weights as initializers.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { onnx } = require('onnx-proto') as { onnx: any };

export type Tensor = { data: Float32Array; shape: number[] };

export function readSafetensors(file: string): (name: string) => Tensor {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  return (name) => {
    const entry = header[name] ?? header[`model.${name}`];
    if (!entry) throw new Error(`missing tensor ${name}`);
    if (entry.dtype !== 'F32') throw new Error(`${name}: only F32 checkpoints are exported`);
    const [a, b] = entry.data_offsets;
    const raw = bytes.subarray(8 + headerLength + a, 8 + headerLength + b);
    return { data: new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)), shape: entry.shape };
  };
}

export class GraphBuilder {
  readonly nodes: unknown[] = [];
  readonly initializers: unknown[] = [];
  private id = 0;

  tensor(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: 1, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
    return name;
  }

  /** A [in, out] matrix from a PyTorch [out, in] weight, for MatMul. */
  transposed(name: string, t: Tensor): string {
    const [rows, cols] = t.shape;
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
    return this.tensor(name, out, [cols, rows]);
  }

  ints(values: number[], name = `i${this.id++}`): string {
    const v = BigInt64Array.from(values.map(BigInt));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: 7, rawData: new Uint8Array(v.buffer) }));
    return name;
  }

  int64Scalar(value: number, name = `s${this.id++}`): string {
    const v = BigInt64Array.from([BigInt(value)]);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: 7, rawData: new Uint8Array(v.buffer) }));
    return name;
  }

  scalar(value: number, name = `f${this.id++}`): string {
    const v = new Float32Array([value]);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: 1, rawData: new Uint8Array(v.buffer) }));
    return name;
  }

  /** Names a result (a graph output). */
  identity(input: string, output: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [input], output: [output] }));
  }

  op(type: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    const output = `t${this.id++}`;
    const attribute = Object.entries(attributes).map(([name, value]) => (Array.isArray(value)
      ? onnx.AttributeProto.create({ name, type: 7, ints: value })
      : Number.isInteger(value) && name !== 'epsilon' ? onnx.AttributeProto.create({ name, type: 2, i: value }) : onnx.AttributeProto.create({ name, type: 1, f: value })));
    this.nodes.push(onnx.NodeProto.create({ opType: type, input: inputs, output: [output], attribute }));
    return output;
  }
}


/** The tensor's ONNX input/output description; string dims are symbolic. */
export function valueInfo(name: string, elemType: number, dims: Array<string | number>): unknown {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: dims.map((s) => (typeof s === 'string' ? { dimParam: s } : { dimValue: s })) } } } });
}

export function encodeModel(graph: { name: string; nodes: unknown[]; initializers: unknown[]; inputs: unknown[]; outputs: unknown[] }): Uint8Array {
  const proto = onnx.GraphProto.create({ name: graph.name, node: graph.nodes, initializer: graph.initializers, input: graph.inputs, output: graph.outputs });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'sie-server bench', graph: proto })).finish();
}
