"""SIE's official Python SDK (unmodified) sending images to sie-server's CLIP model.

Run by test/sie-sdk-clip.test.ts with the server's URL and image files; prints JSON: the dense
vectors the SDK returned for each file sent as bytes (passed through as-is), as a PIL image (the
SDK re-encodes it as JPEG, quality 95), and for a text item.
"""
import json
import sys

from PIL import Image
from sie_sdk import SIEClient
from sie_sdk.types import Item

url, files, text = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
sie = SIEClient(url)
as_bytes = sie.encode("tiny-clip", [Item(images=[open(f, "rb").read()], id=f"b{i}") for i, f in enumerate(files)])
as_pil = sie.encode("tiny-clip", [Item(images=[Image.open(files[0])])])
as_text = sie.encode("tiny-clip", Item(text=text))
print(json.dumps({
    "bytes": [{"id": r.get("id"), "dense": r["dense"].tolist()} for r in as_bytes],
    "pil": as_pil[0]["dense"].tolist(),
    "text": as_text["dense"].tolist(),
}))
