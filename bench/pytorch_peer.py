"""PyTorch on the CPU as a speed peer: what SIE and Infinity run for a sentence-transformers model.

Reads a JSON job on stdin: {"model": dir, "threads": n, "seconds": s, "dtype": "fp32"|"bf16",
"batches": [[[ids...], ...], ...]} (each sequence already framed [CLS] ... [SEP]) and prints one
JSON line: {"tokens_per_sec", "ms_per_call", "calls"}. It computes what sentence-transformers
computes for a mean-pooled, normalised BERT model: the batch padded to its longest sequence with
an attention mask, the encoder, masked mean pooling, L2 normalisation. bf16 is PyTorch's own
CPU path, torch.autocast("cpu", dtype=torch.bfloat16), which runs the Linear layers through
oneDNN (AMX tiles where the CPU has them). One warm-up call, then calls for `seconds`; throughput
counts real (unpadded) tokens, as the Node side does.

The process stays up between jobs (one JSON job per line) so model load and oneDNN's first-call
kernel generation are paid once.
"""
import contextlib
import json
import sys
import time

import torch
from transformers import AutoModel


def padded(batch):
    longest = max(len(s) for s in batch)
    ids = torch.zeros((len(batch), longest), dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def embed(model, ids, mask, dtype):
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if dtype == "bf16" else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)


def main():
    models = {}
    for line in sys.stdin:
        job = json.loads(line)
        torch.set_num_threads(int(job["threads"]))
        if job["model"] not in models:
            models[job["model"]] = AutoModel.from_pretrained(job["model"], attn_implementation="sdpa").eval()
        model = models[job["model"]]
        feeds = [padded(b) for b in job["batches"]]
        real = [sum(len(s) for s in b) for b in job["batches"]]
        embed(model, *feeds[0], job["dtype"])
        calls = tokens = 0
        started = time.perf_counter()
        while True:
            at = calls % len(feeds)
            embed(model, *feeds[at], job["dtype"])
            tokens += real[at]
            calls += 1
            elapsed = time.perf_counter() - started
            if elapsed >= float(job["seconds"]):
                break
        print(json.dumps({"tokens_per_sec": tokens / elapsed, "ms_per_call": elapsed * 1000 / calls, "calls": calls}), flush=True)


if __name__ == "__main__":
    main()
