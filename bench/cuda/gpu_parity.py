#!/usr/bin/env python3
"""Model parity of the CUDA backend, run by bench/gpu-check.sh on the GPU machine.

1. Every head, on tiny seeded checkpoints made here by ../shared/tools/make_checkpoint.py, against
   the float64 numpy reference ../shared/tools/ref_forward.py (the same tools that made
   ../shared/reference), on the shared tokenized sentences and pairs.
2. MiniLM-, bge-base- and bge-m3-shaped seeded checkpoints (real layouts and sizes) against
   Hugging Face transformers in float64 on the GPU, on mixed-length inputs (and one 8192-token
   input for the bge-m3 shape).
Both through sie_cuda_model_run (the Model::run seam), in fp32, fp16 and bf16.
Pass: cosine >= 0.99999 in fp32 and >= 0.999 in fp16/bf16, per output row.
usage: gpu_parity.py RUNNER SHARED_DIR WORK_DIR [--make-only NAME ...]
  --make-only: only make the named shaped checkpoints in WORK_DIR (for the benchmark step, which
  may run on a fresh machine before or without this one) and exit.
"""
import json, math, os, subprocess, sys
import numpy as np

RUNNER, SHARED, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TOOLS = os.path.join(SHARED, "tools")
TOKENS = os.path.join(SHARED, "reference", "outputs")
# SIE_PARITY_DEVICE=cpu dry-runs the same checks through the CPU backend (on a machine without a
# GPU); SIE_PARITY_SHAPES limits the shaped models (comma-separated names).
DEVICE = os.environ.get("SIE_PARITY_DEVICE", "cuda")
SHAPES = os.environ.get("SIE_PARITY_SHAPES", "minilm-shaped,bge-base-shaped,bge-m3-shaped").split(",")
THRESHOLD = {"fp32": 0.99999, "fp16": 0.999, "bf16": 0.999}
DTYPES = os.environ.get("SIE_PARITY_DTYPES", "fp32,fp16,bf16").split(",")
failures = []


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def make(kind, name, *args):
    out = os.path.join(WORK, name)
    if not os.path.exists(os.path.join(out, "config.json")):
        sh(sys.executable, os.path.join(TOOLS, "make_checkpoint.py"), kind, out, *args)
    return out


def run_ours(model, tokens, dtype, *head_args):
    out = os.path.join(WORK, "out.json")
    proc = subprocess.run([RUNNER, "--device", DEVICE, "--model", model, "--tokens", tokens, "--dtype", dtype, "--out", out, *head_args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"runner failed ({proc.returncode}): {proc.stderr.strip()}")
    with open(out) as f:
        return json.load(f)


def rows(output):
    w = output["width"]
    return np.asarray(output["values"], dtype=np.float64).reshape(-1, w)


def cosines(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    num = (a * b).sum(-1)
    den = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.where(den > 0, num / np.maximum(den, 1e-300), np.where(np.abs(a).sum(-1) + np.abs(b).sum(-1) == 0, 1.0, 0.0))


def verdict(label, dtype, cos, extra=""):
    worst = float(np.min(cos))
    ok = worst >= THRESHOLD[dtype] and math.isfinite(worst)
    if not ok:
        failures.append(label + " " + dtype)
    print(f"{'ok  ' if ok else 'FAIL'} parity {label:<44} {dtype}  min cosine {worst:.7f} (>= {THRESHOLD[dtype]}){extra}", flush=True)


def reference(model, tokens, head):
    return json.loads(sh(sys.executable, os.path.join(TOOLS, "ref_forward.py"), model, tokens, head))


def dense_vocab(indices, values, vocab):
    v = np.zeros(vocab)
    v[np.asarray(indices, int)] = values
    return v


def head_parity():
    tiny = ["--hidden", "64", "--layers", "2", "--heads", "2", "--inter", "256", "--seed", "3"]
    sentences, pairs = os.path.join(TOKENS, "sentences.tokens.json"), os.path.join(TOKENS, "pairs.tokens.json")
    xlmr = os.path.join(TOKENS, "sentences.xlmr-tokens.json")
    cases = [
        ("dense-mean", sentences, "dense", ["--head", "pooled", "--pooling", "mean"]),
        ("dense-cls", sentences, "dense", ["--head", "pooled", "--pooling", "cls"]),
        ("splade", sentences, "splade", ["--head", "splade"]),
        ("colbert", sentences, "colbert", ["--head", "token-projection", "--labels", "16"]),
        ("cross-encoder", pairs, "cls-logits", ["--head", "sequence-classifier", "--labels", "1"]),
        ("classifier", sentences, "cls-logits", ["--head", "sequence-classifier", "--labels", "3"]),
        ("token-classifier", sentences, "token-logits", ["--head", "token-classifier", "--labels", "9"]),
        ("xlmr-dense", xlmr, "dense", ["--head", "pooled", "--pooling", "cls"]),
        ("xlmr-rerank", os.path.join(TOKENS, "pairs.xlmr-tokens.json"), "xlmr-logits", ["--head", "sequence-classifier", "--labels", "1"]),
        ("bge-m3", xlmr, "bge-m3", ["--head", "bge-m3"]),
    ]
    for kind, tokens, ref_head, head_args in cases:
        extra_args = ["--proj", "16"] if kind == "colbert" else []
        model = make(kind, "tiny-" + kind, *tiny, *extra_args)
        ref = reference(model, tokens, ref_head)
        if kind == "bge-m3":
            head_args = head_args + ["--projection", os.path.join(model, "colbert_linear.pt"), "--sparse", os.path.join(model, "sparse_linear.pt")]
        vocab = json.load(open(os.path.join(model, "config.json")))["vocab_size"]
        ids = [item["ids"] for item in json.load(open(tokens))]
        for dtype in DTYPES:
            ours = run_ours(model, tokens, dtype, *head_args)
            label = f"tiny {kind} ({ref_head})"
            if ref_head in ("dense",):
                verdict(label, dtype, cosines(rows(ours), ref))
            elif ref_head in ("cls-logits", "xlmr-logits", "token-logits"):
                want = np.concatenate([np.ravel(r) for r in ref])
                got = np.asarray(ours["values"], np.float64)
                diff = float(np.max(np.abs(got - want)))
                verdict(label, dtype, cosines(got[None], want[None]), f", max |diff| {diff:.2e}")
            elif ref_head == "splade":
                offs = ours["row_offsets"]
                got = [dense_vocab(ours["indices"][offs[i]:offs[i + 1]], ours["values"][offs[i]:offs[i + 1]], vocab) for i in range(len(ref))]
                want = [dense_vocab(r["indices"], r["values"], vocab) for r in ref]
                verdict(label, dtype, cosines(got, want))
            elif ref_head == "colbert":
                verdict(label, dtype, cosines(rows(ours), np.concatenate([np.asarray(r) for r in ref])))
            elif ref_head == "bge-m3":
                parts = ours["parts"]
                verdict(label + " dense", dtype, cosines(rows(parts["dense"]), [r["dense"] for r in ref]))
                mv = rows(parts["multivector"])
                verdict(label + " multivector", dtype, cosines(mv, np.concatenate([np.asarray(r["multivector"]) for r in ref])))
                # Per-token sparse weights -> max per token id without specials, as lib/ does.
                weights = np.asarray(parts["sparse"]["values"], np.float64)
                at, got, want = 0, [], []
                for seq, r in zip(ids, ref):
                    best = {}
                    for tid, w in zip(seq, weights[at:at + len(seq)]):
                        if tid in (0, 1, 2, 3) or w <= 0:
                            continue
                        best[tid] = max(best.get(tid, 0.0), w)
                    at += len(seq)
                    got.append(dense_vocab(list(best), list(best.values()), vocab))
                    want.append(dense_vocab(r["sparse"]["indices"], r["sparse"]["values"], vocab))
                verdict(label + " sparse", dtype, cosines(got, want))


# The shaped checkpoints: name, make_checkpoint.py kind and arguments, pooling, XLM-R ids.
SHAPED = [
    ("minilm-shaped", "dense-mean", ["--hidden", "384", "--layers", "6", "--heads", "12", "--inter", "1536"], "mean", False),
    ("bge-base-shaped", "dense-cls", ["--hidden", "768", "--layers", "12", "--heads", "12", "--inter", "3072"], "cls", False),
    ("bge-m3-shaped", "xlmr-dense", ["--hidden", "1024", "--layers", "24", "--heads", "16", "--inter", "4096", "--max-len", "8192"], "cls", True),
]


def shaped_parity():
    import torch
    from transformers import AutoModel
    rng = np.random.default_rng(7)
    shapes = SHAPED
    torch_device = "cuda" if torch.cuda.is_available() else "cpu"
    for name, kind, args, pooling, xlmr in shapes:
        if name not in SHAPES:
            continue
        model_dir = make(kind, name, *args)
        config = json.load(open(os.path.join(model_dir, "config.json")))
        vocab = config["vocab_size"]
        lengths = list(np.exp(rng.uniform(math.log(2), math.log(510), 48)).astype(int) + 2)
        if xlmr:
            lengths.append(8192)
        cls_id, sep_id, low = (0, 2, 4) if xlmr else (101, 102, 1000)
        seqs = [[cls_id] + rng.integers(low, vocab, n - 2).tolist() + [sep_id] for n in lengths]
        tokens = os.path.join(WORK, name + ".tokens.json")
        json.dump({"sequences": seqs}, open(tokens, "w"))
        model = AutoModel.from_pretrained(model_dir, dtype=torch.float64).to(torch_device).eval()
        want = []
        with torch.no_grad():
            for seq in seqs:
                ids = torch.tensor([seq], device=torch_device)
                h = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
                v = h.mean(0) if pooling == "mean" else h[0]
                want.append(torch.nn.functional.normalize(v, dim=0).cpu().numpy())
        del model
        if torch_device == "cuda":
            torch.cuda.empty_cache()
        for dtype in DTYPES:
            ours = run_ours(model_dir, tokens, dtype, "--head", "pooled", "--pooling", pooling)
            verdict(f"{name} vs transformers float64 ({len(seqs)} seqs, max {max(lengths)})", dtype, cosines(rows(ours), want))


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if "--make-only" in sys.argv:
        names = sys.argv[sys.argv.index("--make-only") + 1:]
        for name, kind, args, _, _ in SHAPED:
            if name in names:
                print(make(kind, name, *args))
        sys.exit(0)
    head_parity()
    shaped_parity()
    print(f"parity: {len(failures)} failed" + (": " + ", ".join(failures) if failures else ""))
    sys.exit(1 if failures else 0)
