"""Writes hostile and broken torch checkpoints next to each other, derived from a real torch.save
file, for test/torch-checkpoints.test.ts. Only the standard library: no torch, no pickle loads.

usage: hostile_torch_checkpoints.py SOURCE.bin OUT_DIR
Each output is named for what is wrong with it; the test expects every one refused with
BAD_WEIGHTS and a message naming the problem.
"""
import io
import os
import sys
import zipfile


def read_entries(path):
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info.filename)) for info in z.infolist()]


def write(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=compression)


def replace_pickle(entries, transform):
    return [(n, transform(d) if n.endswith("/data.pkl") else d) for n, d in entries]


def main():
    source, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    entries = read_entries(source)
    prefix = next(n for n, _ in entries if n.endswith("/data.pkl"))[: -len("data.pkl")]
    raw = open(source, "rb").read()

    def save(name, data):
        open(os.path.join(out, name), "wb").write(data)

    def save_zip(name, items, compression=zipfile.ZIP_STORED):
        buf = io.BytesIO()
        write(buf, items, compression)
        save(name, buf.getvalue())

    # Cut short: the end of the central directory is gone.
    save("truncated-zip.bin", raw[: len(raw) * 3 // 5])
    # Cut inside the data: the directory is intact but an entry runs past the end of the file.
    central = raw.rfind(b"PK\x01\x02")
    save("entry-past-end.bin", raw[:1000] + raw[central:])
    # A pickle that would run a shell command under a plain pickle.load.
    save_zip("forbidden-global.bin", replace_pickle(entries, lambda _: b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."))
    # The same through STACK_GLOBAL (protocol 4 style), and builtins.eval.
    save_zip("forbidden-stack-global.bin", replace_pickle(entries, lambda _: b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93X\x01\x00\x00\x001\x85R."))
    # A storage whose entry holds half the bytes its element count needs.
    first_storage = prefix + "data/0"
    save_zip("short-storage.bin", [(n, d[: len(d) // 2] if n == first_storage else d) for n, d in entries])
    # Storage types that disagree with the bytes: float32 data declared as int64 / float16.
    save_zip("dtype-long.bin", replace_pickle(entries, lambda d: d.replace(b"torch\nFloatStorage", b"torch\nLongStorage")))
    save_zip("dtype-half.bin", replace_pickle(entries, lambda d: d.replace(b"torch\nFloatStorage", b"torch\nHalfStorage")))
    # A storage key that names no entry.
    save_zip("missing-storage.bin", [(n, d) for n, d in entries if n != first_storage])
    # Compressed entries (torch never writes them; mapping them in place is impossible).
    save_zip("compressed.bin", entries, zipfile.ZIP_DEFLATED)
    # An opcode outside the allowed subset (INST, protocol 0's class instantiation).
    save_zip("forbidden-opcode.bin", replace_pickle(entries, lambda _: b"(ios\nsystem\nS'true'\no."))
    # A pickle that ends before STOP.
    save_zip("unterminated-pickle.bin", replace_pickle(entries, lambda d: d[: len(d) // 2]))
    # The pre-1.6 format: a bare pickle stream, not a zip.
    save("legacy-format.bin", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")
    # Two data.pkl files: which one is the state dict is ambiguous.
    save_zip("two-pickles.bin", entries + [("other/data.pkl", next(d for n, d in entries if n.endswith("/data.pkl")))])


if __name__ == "__main__":
    main()
