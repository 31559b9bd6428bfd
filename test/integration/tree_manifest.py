#!/usr/bin/python3
"""Rewrites the tree of an unencrypted, uncompressed sxengine manifest piece
(push --no-encrypt --compress none of a directory), as a hostile key's author
would: the pieces stay, the entries change. docs/FORMAT.md §2-§4, §11.

usage: tree_manifest.py IN.png OUT.png CASE
CASE: dotdot | absolute | link-then-child | duplicate | file-then-child |
      outside-stream
"""
import json
import struct
import sys
import zlib

from PIL import Image

HDR = 32


def read_manifest(path):
    data = Image.open(path).convert("RGB").tobytes()
    magic, ver, flags, hsize, index, n, pcrc, hcrc = struct.unpack("<4sBBHQQII", data[:HDR])
    assert magic == b"SXPC" and flags & 1 and not flags & 0x0C, "not a plain manifest piece"
    return json.loads(data[hsize:hsize + n])


def write_manifest(path, manifest):
    payload = json.dumps(manifest, separators=(",", ":")).encode()
    h = struct.pack("<4sBBHQQI", b"SXPC", 2, 1, HDR, 0, len(payload), zlib.crc32(payload))
    data = h + struct.pack("<I", zlib.crc32(h)) + payload
    width = 256
    rows = -(-len(data) // (3 * width))
    data += b"\0" * (rows * width * 3 - len(data))
    Image.frombytes("RGB", (width, rows), data).save(path, "PNG")


def renumber(tree):
    """File offsets back to back in tree order, as the format requires, so
    that only the rule a case breaks is broken."""
    at = 0
    for e in tree:
        if e["type"] == "file":
            e["offset"] = at
            at += e["size"]


def first(tree, kind):
    return next(e for e in tree if e["type"] == kind)


def main():
    src, out, case = sys.argv[1:4]
    m = read_manifest(src)
    tree = m["tree"]
    top = tree[0]["path"]
    f = first(tree, "file")
    if case == "dotdot":
        f["path"] = top + "/../../escaped"
    elif case == "absolute":
        f["path"] = "/tmp/escaped"
    elif case == "link-then-child":
        # a -> the victim, then a/x: the file would land in what the link names
        link = {"type": "link", "path": top + "/a", "mode": 511, "mtime_ns": 0, "target": sys.argv[4]}
        f["path"] = top + "/a/x"
        tree.remove(f)
        tree.append(link)
        tree.append(f)
        tree.sort(key=lambda e: e["path"].encode())
        renumber(tree)
    elif case == "duplicate":
        tree.insert(tree.index(f) + 1, dict(f))
    elif case == "file-then-child":
        # a directory entry turned into a file of the same name, its children kept
        d = next(e for e in tree if e["type"] == "dir" and e["path"] != top)
        d.update({"type": "file", "size": 0, "offset": 0})
        renumber(tree)
    elif case == "outside-stream":
        f["size"] = m["size"] + 1
    else:
        raise SystemExit("unknown case " + case)
    write_manifest(out, m)


main()
