#!/usr/bin/python3
"""Independent writer of the 2017 storagex v1 format (for read-compatibility tests).

Usage:
    /usr/bin/python3 storagex_v1_writer.py INPUT OUTDIR [--width 1024] [--height 768]
                                           [--base-url URL]

INPUT is split into pieces of width*height*3-4 bytes.  Each piece becomes an RGB
PNG of width x height whose pixel bytes (row-major R,G,B) are: the payload length
as a little-endian u32, the payload, then zero padding.  It is saved with
PIL's defaults, Image.frombytes('RGB', (w, h), data).save(path, 'PNG'), as
OUTDIR/piece-<seq>.png (seq from 0; an empty INPUT gives no pieces).

Then the meta image OUTDIR/meta.png is encoded the same way from the UTF-8 bytes
of json.dumps({"piece_width": W, "protocol_version": 1.0,
               "pieces": [{"seq": i, "key": KEY_i, "offset": off, "size": n,
                           "checksum": ""}, ...],
               "piece_height": H, "filename": basename(INPUT)})
(a meta too big for one image is an error, exit status 2).
KEY_i = URL + "piece-<seq>.png", where URL is --base-url used verbatim
(default "file://" + absolute OUTDIR + "/").  Prints URL + "meta.png" on stdout.
Standard library + PIL only.
"""

import argparse
import json
import os
import struct
import sys

from PIL import Image


def encode_image(payload, w, h, path):
    cap = w * h * 3 - 4
    if len(payload) > cap:
        raise ValueError("payload of %d bytes exceeds image capacity %d" % (len(payload), cap))
    data = struct.pack("<I", len(payload)) + payload
    data += b"\0" * (w * h * 3 - len(data))
    Image.frombytes("RGB", (w, h), data).save(path, "PNG")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("outdir")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--base-url", default=None)
    args = ap.parse_args()

    w, h = args.width, args.height
    cap = w * h * 3 - 4
    if w <= 0 or h <= 0 or cap <= 0:
        ap.error("width*height*3 must exceed 4")
    os.makedirs(args.outdir, exist_ok=True)
    base = args.base_url
    if base is None:
        base = "file://" + os.path.abspath(args.outdir) + "/"

    pieces = []
    off = 0
    seq = 0
    with open(args.input, "rb") as f:
        while True:
            chunk = f.read(cap)
            if not chunk:
                break
            name = "piece-%d.png" % seq
            encode_image(chunk, w, h, os.path.join(args.outdir, name))
            pieces.append({"seq": seq, "key": base + name, "offset": off,
                           "size": len(chunk), "checksum": ""})
            off += len(chunk)
            seq += 1

    meta = {"piece_width": w, "protocol_version": 1.0, "pieces": pieces,
            "piece_height": h, "filename": os.path.basename(args.input)}
    blob = json.dumps(meta).encode("utf-8")
    if len(blob) > cap:
        sys.stderr.write("storagex_v1_writer: meta JSON is %d bytes, more than one "
                         "%dx%d image holds (%d)\n" % (len(blob), w, h, cap))
        return 2
    encode_image(blob, w, h, os.path.join(args.outdir, "meta.png"))
    print(base + "meta.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
