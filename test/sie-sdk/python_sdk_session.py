"""SIE's official Python SDK (../shared/sie-sdk/python, unmodified) against a running sie-server.

Run by test/sie-sdk-python.test.ts with the server's URL; prints one JSON document of what the
SDK returned (types included), which the TypeScript test checks against the references.
"""
import json
import sys

import numpy as np

url = sys.argv[1]
out = {}

# The migration guide's "after" snippet, word for word.
from sie_sdk import SIEClient
from sie_sdk.types import Item
sie = SIEClient("http://localhost:8080")
sie = SIEClient(url)  # the same client, pointed at this test's port
result = sie.encode("BAAI/bge-small-en-v1.5", Item(text="..."))

out["snippet"] = {"type": type(result["dense"]).__name__, "dtype": str(result["dense"].dtype), "shape": list(result["dense"].shape)}

from sie_sdk.client.errors import ModelLoadFailedError, RequestError, ServerError, SIEError

texts = json.loads(sys.argv[2])
dense = sie.encode("BAAI/bge-small-en-v1.5", [Item(text=t, id=f"d{i}") for i, t in enumerate(texts)])
out["dense"] = [{"id": r.get("id"), "values": r["dense"].tolist(), "dtype": str(r["dense"].dtype)} for r in dense]
no_id = sie.encode("BAAI/bge-small-en-v1.5", {"text": texts[0]})
out["no_id_keys"] = sorted(k for k in no_id.keys() if k != "timing")
out["timing_keys"] = sorted(no_id.get("timing", {}).keys())

out["dtypes"] = {}
for dtype in ["float32", "float16", "int8", "uint8", "binary", "ubinary"]:
    r = sie.encode("BAAI/bge-small-en-v1.5", {"text": texts[0]}, output_dtype=dtype)
    out["dtypes"][dtype] = {"numpy_dtype": str(r["dense"].dtype), "shape": list(r["dense"].shape), "values": r["dense"].astype(np.float64).tolist()}

sparse = sie.encode("tiny-splade", [{"text": t} for t in texts], output_types=["sparse"])
out["sparse"] = [{"indices": r["sparse"]["indices"].tolist(), "values": r["sparse"]["values"].tolist(), "index_dtype": str(r["sparse"]["indices"].dtype)} for r in sparse]

multi = sie.encode("tiny-colbert", [{"text": t} for t in texts], output_types=["multivector"])
out["multivector"] = [{"shape": list(r["multivector"].shape), "values": r["multivector"].tolist()} for r in multi]
multi16 = sie.encode("tiny-colbert", {"text": texts[0]}, output_types=["multivector"], output_dtype="float16")
out["multivector_f16"] = {"dtype": str(multi16["multivector"].dtype), "shape": list(multi16["multivector"].shape)}

pairs = json.loads(sys.argv[3])
scored = sie.score("tiny-cross-encoder", {"text": pairs["query"]}, [{"text": d} for d in pairs["documents"]])
out["score"] = [{"item_id": s["item_id"], "score": s["score"], "rank": s["rank"]} for s in scored["scores"]]

entities = sie.extract("tiny-token-classifier", [{"text": t} for t in texts[:3]])
out["extract"] = [{"id": e.get("id"), "entities": e.get("entities", [])} for e in entities]
classes = sie.extract("tiny-classifier", {"text": texts[0]})
out["classify"] = classes.get("classifications", [])


def failure(call):
    try:
        call()
    except SIEError as e:
        return {"class": type(e).__name__, "code": getattr(e, "code", None), "status": getattr(e, "status_code", None),
                "permanent": getattr(e, "permanent", None), "error_class": getattr(e, "error_class", None)}
    return {"class": None}

out["unknown_model"] = failure(lambda: sie.encode("no-org/no-such-model", {"text": "x"}))
out["load_failure"] = failure(lambda: sie.encode("broken-weights", {"text": "x"}))
out["load_failure_again"] = failure(lambda: sie.encode("broken-weights", {"text": "x"}))
out["empty_items"] = failure(lambda: sie.encode("BAAI/bge-small-en-v1.5", []))
out["wrong_type"] = failure(lambda: sie.encode("BAAI/bge-small-en-v1.5", {"text": 123}))
out["wrong_output_type"] = failure(lambda: sie.encode("BAAI/bge-small-en-v1.5", {"text": "x"}, output_types=["sparse"]))
out["huge_text"] = sie.encode("BAAI/bge-small-en-v1.5", {"text": "word " * 20000})["dense"].shape[0]
out["still_serving"] = sie.encode("BAAI/bge-small-en-v1.5", {"text": texts[0]})["dense"].tolist()

models = sie.list_models()
out["models"] = {m["name"]: {"state": m.get("state"), "outputs": m["outputs"], "dims": m["dims"], "max_sequence_length": m.get("max_sequence_length"), "last_error": m.get("last_error")} for m in models}
out["get_model"] = sie.get_model("BAAI/bge-small-en-v1.5")

print(json.dumps(out))
