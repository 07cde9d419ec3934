"""sentence-transformers' embeddings of a corpus, the ground truth of the real-weights tests.

usage: st_reference.py MODEL_DIR CORPUS.json OUT.f32  -> writes float32 rows, prints {"rows", "dims"}
"""
import json
import sys

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(2)
model_dir, corpus_file, out_file = sys.argv[1:4]
texts = json.load(open(corpus_file, encoding="utf-8"))
model = SentenceTransformer(model_dir, device="cpu")
embeddings = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False).astype(np.float32)
embeddings.tofile(out_file)
print(json.dumps({"rows": int(embeddings.shape[0]), "dims": int(embeddings.shape[1]), "max_seq_length": model.max_seq_length}))
