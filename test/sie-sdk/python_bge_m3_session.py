"""SIE's official Python SDK (unmodified) asking sie-server for bge-m3's three outputs in one call,
for both weight formats, and for an XLM-R reranker's scores. Run by test/sie-sdk-bge-m3.test.ts;
prints one JSON document that the test checks against ../shared/reference.
"""
import json
import sys

from sie_sdk import SIEClient
from sie_sdk.types import Item

url, texts, pairs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sie = SIEClient(url)
out = {}
for model in ["BAAI/bge-m3", "BAAI/bge-m3-bin"]:
    results = sie.encode(model, [Item(text=t) for t in texts], output_types=["dense", "sparse", "multivector"])
    out[model] = [
        {
            "keys": sorted(k for k in r.keys() if k not in ("timing", "id")),
            "dense": r["dense"].tolist(),
            "dense_dtype": str(r["dense"].dtype),
            "sparse": {"indices": r["sparse"]["indices"].tolist(), "values": r["sparse"]["values"].tolist()},
            "multivector": r["multivector"].tolist(),
            "multivector_shape": list(r["multivector"].shape),
        }
        for r in results
    ]
only_sparse = sie.encode("BAAI/bge-m3", Item(text=texts[0]), output_types=["sparse"])
out["only_sparse_keys"] = sorted(k for k in only_sparse.keys() if k not in ("timing", "id"))
scored = sie.score("BAAI/bge-reranker-v2-m3", Item(text=pairs["query"]), [Item(text=d) for d in pairs["documents"]])
out["scores"] = [{"item_id": s["item_id"], "score": float(s["score"]), "rank": s["rank"]} for s in scored["scores"]]
info = sie.get_model("BAAI/bge-m3")
out["model"] = {"outputs": list(info["outputs"]), "dims": dict(info["dims"])} if isinstance(info, dict) else str(info)
print(json.dumps(out))
