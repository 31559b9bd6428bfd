#!/usr/bin/python3
"""HTTP clients for serve_test.sh, standard library only.

  serve_client.py ranges URL SOURCE COUNT SEED
      COUNT concurrent GETs of random ranges (one connection each); each body
      must equal the bytes of SOURCE at that range and each answer be a 206
      with the right Content-Range. Prints "ok COUNT"; exits 1 on a mismatch.
  serve_client.py disconnect URL BYTES
      GETs URL, reads BYTES of the body, then closes the socket mid-body.
  serve_client.py stall URL COUNT
      COUNT connections GET URL and read 64 KiB each, then stop reading;
      prints "stalled COUNT" and holds them open until stdin closes.
"""
import http.client
import os
import random
import sys
import threading
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = u.path + ("?" + u.query if u.query else "")
    return conn, path


def ranges(url, source, count, seed):
    size = os.path.getsize(source)
    rng = random.Random(seed)
    wanted = []
    for _ in range(count):
        first = rng.randrange(size)
        last = min(size - 1, first + rng.randrange(1, 3 << 20))
        wanted.append((first, last))
    errors = []

    def one(first, last):
        try:
            conn, path = connect(url)
            conn.request("GET", path, headers={"Range": "bytes=%d-%d" % (first, last)})
            resp = conn.getresponse()
            body = resp.read()
            want_cr = "bytes %d-%d/%d" % (first, last, size)
            if resp.status != 206 or resp.getheader("Content-Range") != want_cr:
                errors.append("range %d-%d: status %d, Content-Range %r" % (first, last, resp.status,
                                                                          resp.getheader("Content-Range")))
                return
            with open(source, "rb") as f:
                f.seek(first)
                expected = f.read(last - first + 1)
            if body != expected:
                errors.append("range %d-%d: body differs (%d bytes)" % (first, last, len(body)))
            conn.close()
        except Exception as e:  # reported, never a hang: the socket has a timeout
            errors.append("range %d-%d: %r" % (first, last, e))

    threads = [threading.Thread(target=one, args=w) for w in wanted]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print("ok %d" % count)
    return 0


def disconnect(url, nbytes):
    conn, path = connect(url)
    conn.request("GET", path)
    resp = conn.getresponse()
    got = resp.read(nbytes)
    # Close the socket itself, with a reset, while the body is still coming.
    sock = conn.sock
    import socket
    import struct
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    resp.close()  # the socket's file object holds the descriptor too
    conn.close()
    sock.close()
    print("read %d of %s" % (len(got), resp.getheader("Content-Length")))
    return 0 if resp.status == 200 and len(got) == nbytes else 1


def stall(url, count):
    held = []
    for _ in range(count):
        conn, path = connect(url)
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read(65536)
        held.append((conn, resp))
    print("stalled %d" % count, flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "stall":
        sys.exit(stall(sys.argv[2], int(sys.argv[3])))
    if sys.argv[1] == "ranges":
        sys.exit(ranges(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    if sys.argv[1] == "disconnect":
        sys.exit(disconnect(sys.argv[2], int(sys.argv[3])))
    sys.exit("unknown command " + sys.argv[1])
