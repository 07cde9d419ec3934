#!/usr/bin/env python3
"""ModernBERT reranker and ColBERT checkpoints with seeded weights, made by transformers itself
(save_pretrained, the exact Hugging Face layout), and their float64 outputs from transformers:
the independent truth for test/modernbert-variants.test.ts.

  reranker-cls   ModernBertForSequenceClassification, 1 label, classifier_pooling cls, no norm bias
  reranker-mean  the same with classifier_pooling mean, norm_bias and classifier_bias on
  colbert        ModernBertModel + PyLate's Dense projection (1_Dense, no bias), no prefixes

Small shapes (hidden 64, 3 layers: layer 0 global, 1-2 sliding with a window of 8 tokens), so
inputs longer than the window exercise the local mask. Token ids come from the same
tokenizer.json through the Rust tokenizers library the engine's tokenizer is built on; one pair
and one text run past 512 tokens and are truncated as sentence-transformers truncates them.
usage: modernbert_variants.py TOKENIZER_DIR OUT_DIR TEXTS.json PAIRS.json > references.json
"""
import json, os, shutil, sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import ModernBertConfig, ModernBertForSequenceClassification, ModernBertModel

tok_dir, out, texts_path, pairs_path = sys.argv[1:5]
texts = json.load(open(texts_path))
pairs = json.load(open(pairs_path))


def config(**extra):
    return ModernBertConfig(vocab_size=50368, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96,
                            max_position_embeddings=512, global_attn_every_n_layers=3, local_attention=8,
                            pad_token_id=50283, bos_token_id=50281, eos_token_id=50282, cls_token_id=50281, sep_token_id=50282,
                            attn_implementation="eager", **extra)


def seeded(model, seed):
    # HF's init leaves norms at one and biases at zero: perturb everything so every tensor matters.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.05)
    return model.eval()


def save(model, name):
    path = os.path.join(out, name)
    model.save_pretrained(path, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(tok_dir, f), path)
    return path


def ids_of(*parts):
    return torch.tensor([truncating.encode(*parts).ids])


# Inputs stop at 512 tokens (max_position_embeddings; sentence_bert_config's max_seq_length for
# ColBERT), longest-first for pairs, as sentence-transformers and the engine truncate them.
truncating = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
truncating.enable_truncation(512, strategy="longest_first")
truncating.no_padding()


refs = {}
for name, pooling, biases, seed in (("reranker-cls", "cls", False, 1), ("reranker-mean", "mean", True, 2)):
    model = seeded(ModernBertForSequenceClassification(config(num_labels=1, classifier_pooling=pooling, norm_bias=biases,
                                                                classifier_bias=biases)), seed)
    save(model, name)
    model = model.double()
    with torch.no_grad():
        logits = [model(input_ids=ids_of(p[0], p[1])).logits[0, 0].item() for p in pairs]
    refs[name] = logits

encoder = seeded(ModernBertModel(config()), 3)
path = save(encoder, "colbert")
projection = torch.randn(16, 64, generator=torch.Generator().manual_seed(4), dtype=torch.float32) * 0.2
os.makedirs(os.path.join(path, "1_Dense"), exist_ok=True)
save_file({"linear.weight": projection}, os.path.join(path, "1_Dense", "model.safetensors"))
json.dump({"in_features": 64, "out_features": 16, "bias": False, "activation_function": "torch.nn.modules.linear.Identity"},
          open(os.path.join(path, "1_Dense", "config.json"), "w"))
json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
           {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}], open(os.path.join(path, "modules.json"), "w"))
json.dump({"max_seq_length": 512}, open(os.path.join(path, "sentence_bert_config.json"), "w"))
encoder = encoder.double()
with torch.no_grad():
    vectors = []
    for text in texts:
        h = encoder(input_ids=ids_of(text)).last_hidden_state[0]
        v = h @ projection.double().T
        vectors.append(torch.nn.functional.normalize(v, dim=-1).tolist())
refs["colbert"] = vectors
refs["colbert_lengths"] = [len(truncating.encode(t).ids) for t in texts]
json.dump(refs, sys.stdout)
