#!/usr/bin/env python3
"""Throughput and latency of the CUDA backend against sentence-transformers fp16 on PyTorch,
measured in one run on the same GPU (bench/gpu-check.sh). Same checkpoints, same token ids.

Inputs: 4096 random token sequences of mixed lengths (log-uniform, 8 to 512 tokens). For each
request size N (1, 32, 256, 4096 sequences):
  - the peer: SentenceTransformer(dir).half() on the GPU, run as its encode() runs a request:
    sequences sorted by length, padded per batch (batch_size 32, the default, and 256; the faster
    is reported), forward through its modules (transformer, pooling, normalize). Token tensors
    are built on the GPU before the clock starts, so tokenization is in neither number.
  - ours: sie_cuda_model_run --dtype fp16: host token ids -> batches of <= 16384 tokens, no
    padding, two stream slots -> host fp32 embeddings (copies included).
Single-request latency: the first sequence alone, median of 50. Then one more 4096-sequence
run with SIE_CUDA_PHASES=1 prints where our GPU time goes, by step.
Ours runs once per GEMM mode (SIE_BENCH_GEMM_MODES, default "auto": the run-time choice between
our kernels and cuBLASLt; "ours" leaves cuBLASLt out; see native/cuda/runtime/gemm_selector.h),
and once more with the opt-in pipelined attention kernel (label "+pa"), so both attention kernels
are measured in the same run (and their phase profiles printed).
usage: gpu_bench.py RUNNER WORK_DIR MODEL_DIR[:pooling] ...
"""
import json, math, os, subprocess, sys, time
import numpy as np
import torch
from sentence_transformers import SentenceTransformer

RUNNER, WORK, MODELS = sys.argv[1], sys.argv[2], sys.argv[3:]
MODES = os.environ.get("SIE_BENCH_GEMM_MODES", "auto").split(",")
# (label, environment) of each configuration of ours: the GEMM modes, then the last mode with the
# pipelined attention kernel (native/cuda/kernels/attention.cu).
CONFIGS = [(m, {"SIE_CUDA_GEMM": m}) for m in MODES] + [
    (MODES[-1] + "+pa", {"SIE_CUDA_GEMM": MODES[-1], "SIE_CUDA_ATTENTION_PIPELINED": "on"})]
SIZES = [1, 32, 256, 4096]


def token_file(model_dir, count=4096, seed=11):
    config = json.load(open(os.path.join(model_dir, "config.json")))
    xlmr = config.get("model_type") == "xlm-roberta"
    rng = np.random.default_rng(seed)
    lengths = np.exp(rng.uniform(math.log(8), math.log(512), count)).astype(int)
    cls_id, sep_id, low = (0, 2, 4) if xlmr else (101, 102, 1000)
    seqs = [[cls_id] + rng.integers(low, config["vocab_size"], n - 2).tolist() + [sep_id] for n in lengths]
    path = os.path.join(WORK, os.path.basename(model_dir) + ".bench-tokens.json")
    json.dump({"sequences": seqs}, open(path, "w"))
    return path, seqs, xlmr


def peer_seconds(model, seqs, batch_size, xlmr):
    """One encode()-shaped request: length-sorted, padded per batch, fp16 forward, on the GPU."""
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = [seqs[i] for i in order[start:start + batch_size]]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), 1 if xlmr else 0, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, s in enumerate(chunk):
            ids[r, :len(s)] = torch.tensor(s)
            mask[r, :len(s)] = 1
        features = {"input_ids": ids.cuda(), "attention_mask": mask.cuda()}
        if not xlmr:
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        batches.append(features)
    with torch.inference_mode():
        for f in batches[:2]:
            model(dict(f))
        torch.cuda.synchronize()
        runs = []
        for _ in range(5 if len(seqs) > 256 else 9):
            start = time.perf_counter()
            outs = [model(dict(f))["sentence_embedding"] for f in batches]
            torch.cuda.synchronize()
            runs.append(time.perf_counter() - start)
    return float(np.median(runs))


def peer_latency(model, seq, xlmr):
    ids = torch.tensor([seq], device="cuda")
    f = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if not xlmr:
        f["token_type_ids"] = torch.zeros_like(ids)
    with torch.inference_mode():
        for _ in range(10):
            model(dict(f))
        torch.cuda.synchronize()
        runs = []
        for _ in range(50):
            start = time.perf_counter()
            model(dict(f))["sentence_embedding"].cpu()
            runs.append(time.perf_counter() - start)
    return float(np.median(runs)) * 1e3


def main():
    os.makedirs(WORK, exist_ok=True)
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    for spec in MODELS:
        model_dir, _, pooling = spec.partition(":")
        pooling = pooling or "mean"
        path, seqs, xlmr = token_file(model_dir)
        ours_tps, ours_latency = {}, {}
        for mode, env in CONFIGS:
            ours = subprocess.run([RUNNER, "--model", model_dir, "--tokens", path, "--dtype", "fp16", "--pooling", pooling,
                                   "--bench", ",".join(map(str, SIZES)), "--latency"], capture_output=True, text=True,
                                  env={**os.environ, **env})
            if ours.returncode != 0:
                print(f"FAIL runner on {model_dir} ({mode}): {ours.stderr.strip()}")
                sys.exit(1)
            for line in ours.stderr.splitlines():
                if line.startswith("sie gemm"):
                    print(line)
            lines = [json.loads(l) for l in ours.stdout.splitlines() if l.startswith("{")]
            ours_tps[mode] = {l["bench"]: l["tokens_per_s"] for l in lines if "bench" in l}
            ours_latency[mode] = next(l["latency_ms"] for l in lines if "latency_ms" in l)
        # Where the 4096-sequence request spends its GPU time (native/cuda/runtime/phase_profile.h),
        # with each attention kernel.
        for mode, env in CONFIGS[-2:]:
            phases = subprocess.run([RUNNER, "--model", model_dir, "--tokens", path, "--dtype", "fp16", "--pooling", pooling,
                                     "--bench", "4096"], capture_output=True, text=True,
                                    env={**os.environ, **env, "SIE_CUDA_PHASES": "1", "SIE_CUDA_GEMM_LOG": "0"})
            for line in phases.stderr.splitlines():
                if line.startswith("sie phase"):
                    print(f"{line} [{os.path.basename(model_dir)} {mode}]")
        model = SentenceTransformer(model_dir, device="cuda").half().eval()
        name = os.path.basename(model_dir)
        for n in SIZES:
            subset = seqs[:n]
            tokens = sum(len(s) for s in subset)
            best = min((peer_seconds(model, subset, bs, xlmr), bs) for bs in ((32, 256) if n > 32 else (32,)))
            peer_tps = tokens / best[0]
            for mode, _ in CONFIGS:
                print(f"bench {name:<16} {n:>5} seqs {tokens:>8} tokens  ours[{mode}] {ours_tps[mode][n]:>12,.0f} tok/s  "
                      f"sentence-transformers fp16 {peer_tps:>12,.0f} tok/s (batch {best[1]})  ratio {ours_tps[mode][n] / peer_tps:5.2f}x", flush=True)
        lat = peer_latency(model, seqs[0], xlmr)
        for mode, _ in CONFIGS:
            print(f"latency {name:<16} one sequence of {len(seqs[0])} tokens  ours[{mode}] {ours_latency[mode]:.3f} ms  "
                  f"sentence-transformers fp16 {lat:.3f} ms  ratio {lat / ours_latency[mode]:5.2f}x", flush=True)
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
