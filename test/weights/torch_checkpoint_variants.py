"""Re-saves a model's pytorch_model.bin in the layouts real hub checkpoints use, for
test/torch-checkpoints.test.ts. Needs torch and safetensors (the .venv-peers venv).

usage: torch_checkpoint_variants.py MODEL_DIR OUT_DIR
Writes OUT_DIR/<variant>/ weight files only (the test copies the rest of the model):
  strided/pytorch_model.bin        every 2-D weight saved as a transposed view (non-contiguous strides)
  shared-storage/pytorch_model.bin all tensors are views into one storage at different offsets
  fp16/pytorch_model.bin           float16 tensors
  bf16/pytorch_model.bin           bfloat16 tensors
  sharded-bin/pytorch_model-0000{1,2}-of-00002.bin + pytorch_model.bin.index.json
  sharded-safetensors/model-0000{1,2}-of-00002.safetensors + model.safetensors.index.json
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    state = torch.load(os.path.join(model_dir, "pytorch_model.bin"), weights_only=True)

    def target(name):
        path = os.path.join(out, name)
        os.makedirs(path, exist_ok=True)
        return path

    strided = {k: (v.t().contiguous().t() if v.dim() == 2 else v) for k, v in state.items()}
    assert any(not v.is_contiguous() for v in strided.values())
    torch.save(strided, os.path.join(target("strided"), "pytorch_model.bin"))

    flat = torch.cat([v.reshape(-1) for v in state.values()])
    shared, at = {}, 0
    for k, v in state.items():
        shared[k] = flat[at : at + v.numel()].view(v.shape)
        at += v.numel()
    torch.save(shared, os.path.join(target("shared-storage"), "pytorch_model.bin"))

    torch.save({k: v.half() for k, v in state.items()}, os.path.join(target("fp16"), "pytorch_model.bin"))
    torch.save({k: v.bfloat16() for k, v in state.items()}, os.path.join(target("bf16"), "pytorch_model.bin"))

    names = list(state.keys())
    halves = [names[: len(names) // 2], names[len(names) // 2 :]]
    for kind, ext, index in [("sharded-bin", "bin", "pytorch_model.bin.index.json"), ("sharded-safetensors", "safetensors", "model.safetensors.index.json")]:
        path = target(kind)
        weight_map = {}
        for i, part in enumerate(halves):
            stem = "pytorch_model" if ext == "bin" else "model"
            file = f"{stem}-{i + 1:05d}-of-00002.{ext}"
            tensors = {k: state[k].contiguous() for k in part}
            if ext == "bin":
                torch.save(tensors, os.path.join(path, file))
            else:
                save_file(tensors, os.path.join(path, file), metadata={"format": "pt"})
            weight_map.update({k: file for k in part})
        total = sum(v.numel() * v.element_size() for v in state.values())
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, open(os.path.join(path, index), "w"), indent=2)


if __name__ == "__main__":
    main()
