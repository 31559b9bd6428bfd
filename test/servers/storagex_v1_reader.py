#!/usr/bin/python3
"""Independent, strict reader of the 2017 storagex v1 format (for write-compatibility tests).

Usage:
    /usr/bin/python3 storagex_v1_reader.py KEY OUT

Does what storagex 0.3's download did, with Pillow alone: KEY (a file:// URL)
is the meta image; its pixel bytes (row-major R,G,B) are a little-endian u32
length, that many bytes of UTF-8 JSON, then zero padding. The JSON is
{"piece_width", "protocol_version": 1.0, "pieces": [{"seq", "key", "offset",
"size", "checksum": ""}], "piece_height", "filename"}; every piece image is
decoded the same way and the payloads joined in seq order into OUT.

Strict about what storagex wrote, so a writer that strays fails here: every
image is exactly piece_width x piece_height RGB, its length header fits,
padding is zero, every chunk but the last is width * height * 3 - 4 bytes,
seq counts from 0, offsets are contiguous, and the JSON is byte-for-byte
json.dumps of the parsed dict in storagex's key order. Exit 1 with one line
on stderr otherwise. Standard library + PIL only.
"""

import json
import struct
import sys
import urllib.parse

from PIL import Image


class FormatError(Exception):
    pass


def path_of(key):
    url = urllib.parse.urlparse(key)
    if url.scheme != "file":
        raise FormatError("not a file:// key: %s" % key)
    return urllib.parse.unquote(url.path)


def payload_of(key, width=None, height=None):
    image = Image.open(path_of(key))
    if image.format != "PNG" or image.mode != "RGB":
        raise FormatError("%s: %s %s, expected an RGB PNG" % (key, image.format, image.mode))
    if width is not None and image.size != (width, height):
        raise FormatError("%s: %dx%d, expected %dx%d" % ((key,) + image.size + (width, height)))
    data = image.tobytes()
    (length,) = struct.unpack("<I", data[:4])
    if length > len(data) - 4:
        raise FormatError("%s: length %d exceeds the image" % (key, length))
    if data[4 + length:].strip(b"\0"):
        raise FormatError("%s: padding after the payload is not zero" % key)
    return data[4:4 + length], image.size


def main():
    key, out = sys.argv[1], sys.argv[2]
    blob, (w, h) = payload_of(key)
    meta = json.loads(blob.decode("utf-8"))
    keys = list(meta)
    if keys != ["piece_width", "protocol_version", "pieces", "piece_height", "filename"]:
        raise FormatError("meta keys %s are not storagex's" % keys)
    if json.dumps(meta).encode("utf-8") != blob:
        raise FormatError("meta JSON is not what json.dumps writes: %r" % blob[:200])
    if meta["protocol_version"] != 1.0 or (meta["piece_width"], meta["piece_height"]) != (w, h):
        raise FormatError("meta header %r does not match its %dx%d image" % (blob[:120], w, h))
    chunk = w * h * 3 - 4
    parts, offset = [], 0
    for i, piece in enumerate(meta["pieces"]):
        if list(piece) != ["seq", "key", "offset", "size", "checksum"] or piece["checksum"] != "":
            raise FormatError("piece entry %r is not storagex's" % piece)
        if piece["seq"] != i or piece["offset"] != offset:
            raise FormatError("piece %d: seq %d, offset %d (expected %d)" % (i, piece["seq"], piece["offset"], offset))
        last = i == len(meta["pieces"]) - 1
        if piece["size"] > chunk or (not last and piece["size"] != chunk) or piece["size"] == 0:
            raise FormatError("piece %d: size %d with chunks of %d" % (i, piece["size"], chunk))
        data, _ = payload_of(piece["key"], w, h)
        if len(data) != piece["size"]:
            raise FormatError("piece %d: %d bytes, the meta says %d" % (i, len(data), piece["size"]))
        parts.append(data)
        offset += len(data)
    with open(out, "wb") as f:
        f.write(b"".join(parts))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FormatError, OSError, ValueError, KeyError) as error:
        sys.stderr.write("storagex_v1_reader: %s\n" % error)
        sys.exit(1)
