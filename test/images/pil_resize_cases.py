#!/usr/bin/env python3
"""Pillow's own BICUBIC resizes of seeded random RGB images, the truth for the native resampler
(test/images-preprocess.test.ts): shrinking by large and small factors (antialiasing widens the
kernel), enlarging, one axis only, odd sizes, 1-pixel sides. Raw RGB bytes in and out, base64.
usage: pil_resize_cases.py > cases.json
"""
import base64, json, random
from PIL import Image

rng = random.Random(11)
sizes = [((640, 480), (64, 48)), ((17, 33), (64, 124)), ((300, 200), (96, 64)), ((513, 257), (129, 64)),
         ((224, 224), (224, 224)), ((224, 224), (224, 100)), ((100, 224), (37, 224)), ((1, 1), (5, 3)),
         ((7, 1), (3, 1)), ((1000, 3), (250, 9)), ((333, 777), (224, 522)), ((64, 64), (63, 65))]
cases = []
for (w, h), (ow, oh) in sizes:
    # Smooth regions and hard edges both: noise over a gradient, with a bright bar.
    data = bytearray()
    for y in range(h):
        for x in range(w):
            base = (x * 255 // max(1, w - 1) + y * 97 // max(1, h - 1)) % 256
            bar = 255 if (x // 5) % 7 == 0 else 0
            for c in range(3):
                data.append(max(0, min(255, (base + bar * (c == 1) + rng.randint(-40, 40)) % 256)))
    image = Image.frombytes("RGB", (w, h), bytes(data))
    out = image.resize((ow, oh), resample=Image.BICUBIC)
    cases.append({"width": w, "height": h, "out_width": ow, "out_height": oh,
                  "rgb": base64.b64encode(bytes(data)).decode(), "expected": base64.b64encode(out.tobytes()).decode()})
print(json.dumps(cases))
