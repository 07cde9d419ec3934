"""sentence-transformers' embeddings of texts under each prompt choice, the truth for
test/prompts.test.ts.

usage: st_prompts.py MODEL_DIR TEXTS.json INSTRUCTION -> prints JSON
{"query": [[...]], "document": [[...]], "plain": [[...]], "instructed": [[...]]}
  query / document: model.encode(texts, prompt_name=...)
  plain:            model.encode(texts)  (default_prompt_name applies, if any)
  instructed:       model.encode([f"{instruction} {t}" ...])  (SIE's fallback without a prompt)
"""
import json
import sys

import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(2)
model_dir, texts_file, instruction = sys.argv[1:4]
texts = json.load(open(texts_file, encoding="utf-8"))
model = SentenceTransformer(model_dir, device="cpu")
out = {}
for name in ("query", "document"):
    if name in model.prompts:
        out[name] = model.encode(texts, prompt_name=name).tolist()
out["plain"] = model.encode(texts).tolist()
out["instructed"] = model.encode([f"{instruction} {t}" for t in texts]).tolist()
out["prompts"] = model.prompts
out["default_prompt_name"] = model.default_prompt_name
print(json.dumps(out))
