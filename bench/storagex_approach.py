#!/usr/bin/python3
"""Push speed against the storagex approach, on the same nginx.

storagex (2017) cut a file into chunks of width*height*3-4 bytes, made each a
PNG with Pillow (little-endian u32 length, the chunk, zero padding; Pillow's
default compression) and uploaded them one after another, then the meta. This
does the same with Pillow and http.client PUTs against nginx, and alternates it
with `sxengine push` (default settings) of the same file; each round's ratio is
storagex's time over sxengine's, and the median is printed.

    bench/storagex_approach.py [SIZE_MIB] [ROUNDS]     (defaults 32, 5)
"""
import http.client
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SX = os.environ.get("SX", os.path.join(HERE, "build", "sxengine"))
FIXTURE = os.path.join(HERE, "test", "servers", "nginx_fixture.sh")
WIDTH, HEIGHT = 1024, 768  # the seed's defaults


def storagex_push(path, base_url, run):
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    chunk_bytes = WIDTH * HEIGHT * 3 - 4
    pieces = []

    def put(name, body):
        conn.request("PUT", f"{url.path}sx{run}/{name}", body=body)
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 201, 204):
            sys.exit(f"storagex_approach: PUT {name} answered {response.status}")
        return f"{base_url}sx{run}/{name}"

    def png_of(data):
        pixels = struct.pack("<I", len(data)) + data
        pixels += bytes(WIDTH * HEIGHT * 3 - len(pixels))
        out = io.BytesIO()
        Image.frombytes("RGB", (WIDTH, HEIGHT), pixels).save(out, "PNG")
        return out.getvalue()

    with open(path, "rb") as f:
        offset = 0
        while True:
            data = f.read(chunk_bytes)
            if not data:
                break
            key = put(f"{len(pieces)}.png", png_of(data))
            pieces.append({"seq": len(pieces), "key": key, "offset": offset, "size": len(data),
                           "checksum": ""})
            offset += len(data)
    meta = {"piece_width": WIDTH, "piece_height": HEIGHT, "protocol_version": 1.0,
            "pieces": pieces, "filename": os.path.basename(path)}
    put("meta.png", png_of(json.dumps(meta).encode()))
    conn.close()


def main():
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory(prefix="sxstoragex.") as work:
        nginx = os.path.join(work, "nginx")
        base = subprocess.run([FIXTURE, "start", nginx], check=True, capture_output=True,
                              text=True).stdout.strip()
        try:
            path = os.path.join(work, "file.bin")
            with open(path, "wb") as f:
                f.write(os.urandom(size_mib << 20))
            sx_times, storagex_times, ratios = [], [], []
            for run in range(rounds):
                t0 = time.perf_counter()
                subprocess.run([SX, "push", "-q", "--backend", f"{base}p{run}/", path], check=True,
                               stdout=subprocess.DEVNULL)
                t1 = time.perf_counter()
                storagex_push(path, base, run)
                t2 = time.perf_counter()
                sx_times.append(t1 - t0)
                storagex_times.append(t2 - t1)
                ratios.append((t2 - t1) / (t1 - t0))
        finally:
            subprocess.run([FIXTURE, "stop", nginx], capture_output=True)
    mb = (size_mib << 20) / 1e6
    print(f"push of {size_mib} MiB to nginx on loopback, {rounds} alternating rounds (median)")
    print(f"sxengine push (default: encrypted)            {mb / statistics.median(sx_times):7.1f} MB/s")
    print(f"storagex approach (Pillow PNG, PUT after PUT) {mb / statistics.median(storagex_times):7.1f} MB/s"
          f"   sxengine = {statistics.median(ratios):.1f} x")


if __name__ == "__main__":
    main()
