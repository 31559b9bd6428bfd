#!/usr/bin/python3
"""Reads an unencrypted, uncompressed sxengine manifest piece (push
--no-encrypt --compress none) independently of sxengine, as docs/FORMAT.md
§2-§4 describe it, and prints one line per piece:
  data INDEX STRIPE SLOT NAME      or      parity INDEX STRIPE SLOT NAME
SLOT is the backend (1-based, push's --backend order) of §10's layout.

usage: plain_manifest.py PIECE.png
"""
import json
import struct
import sys
import zlib


def pixels(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, width = 8, b"", 0
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind = png[at + 4:at + 8]
        body = png[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", body[:4])[0]
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    row = 1 + 3 * width
    out = bytearray()
    for r in range(0, len(raw), row):
        assert raw[r] == 0, "filtered row: not sxengine's fast path"
        out += raw[r + 1:r + row]
    return bytes(out)


def main():
    data = pixels(open(sys.argv[1], "rb").read())
    assert data[:4] == b"SXPC" and data[4] == 2, "not an sxengine v2 piece"
    flags = data[5]
    assert flags & 1 and not flags & 0x0C, "not a plain manifest piece"
    (n,) = struct.unpack("<Q", data[16:24])
    manifest = json.loads(data[32:32 + n])
    d, k = manifest["stripe"]["data"], manifest["stripe"]["parity"]
    b = d + k
    for p in manifest["pieces"]:
        s, pos = divmod(p["index"], d)
        print("data", p["index"], s, (s + pos) % b + 1, p["key"].rsplit("/", 1)[1])
    for p in manifest.get("parity_pieces", []):
        s, j = divmod(p["index"], k)
        print("parity", p["index"], s, (s + d + j) % b + 1, p["key"].rsplit("/", 1)[1])


main()
