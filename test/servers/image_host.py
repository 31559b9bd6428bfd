#!/usr/bin/python3
"""Small image host that behaves like real ones, for sxengine tests.

Usage:
    /usr/bin/python3 image_host.py --port 0 --portfile FILE --dir DIR \\
        [--max-bytes 33554432] [--max-dim 20000] [--max-inflight 4] \\
        [--retry-after 1] [--api-key KEY] [--field file] [--delay 0] \\
        [--max-seconds 900]

Threaded HTTP/1.1 (keep-alive) server on 127.0.0.1; port 0 = any free port,
written to --portfile (atomically) before serving.

  POST /upload        multipart/form-data, image in field --field (default
                      "file").  Needs Content-Length (411 otherwise, e.g.
                      chunked).  With --api-key: header "X-API-Key: KEY" or
                      form field key=KEY, else 401.  More than --max-inflight
                      uploads at once: 429 + "Retry-After" + {"error":"rate
                      limited"}.  Body > --max-bytes: 413.  Not decodable by
                      PIL: 400 {"error":"not an image"}.  Width or height >
                      --max-dim: 400.  Otherwise the image is re-encoded
                      LOSSLESSLY like hosts do (same mode, PNG, optimize=True,
                      no ancillary chunks except tRNS when the source had
                      transparency) to DIR/<16 hex>.png and the answer is
                      200 {"success":true,"data":{"url":"http://127.0.0.1:PORT/i/<name>.png",
                                                  "delete_url":"http://127.0.0.1:PORT/d/<token>"}}
  POST /upload-text   same, but answers text/plain: the image URL only.
  GET|HEAD /i/<name>.png   the stored file (image/png, Content-Length).
  GET /d/<token>, DELETE /i/<name>.png   delete (DELETE needs the key if
                      --api-key is set).
  GET /_stats         JSON counters (uploads, rejected_429, stored, ...).

--delay S sleeps S seconds while holding an upload slot (makes 429s easy to
provoke).  Exits by itself after --max-seconds; SIGTERM/SIGINT exit cleanly.
Standard library + PIL only.
"""

import argparse
import email.message
import email.utils
import http.server
import io
import json
import os
import re
import secrets
import signal
import sys
import threading
import time

from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # we enforce --max-dim ourselves, before load()

NAME_RE = re.compile(r"^/i/([0-9a-f]{16})\.png$")
TOKEN_RE = re.compile(r"^/d/([0-9a-f]{32})$")
PNG_MODES = {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}


def log(msg):
    try:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def jdump(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class HttpError(Exception):
    def __init__(self, status, msg, close=False, headers=()):
        super().__init__(msg)
        self.status, self.msg, self.close, self.headers = status, msg, close, list(headers)


def parse_multipart(body, content_type):
    """Returns {name: (filename or None, bytes)}.  Raises HttpError(400)."""
    m = email.message.Message()
    m["Content-Type"] = content_type
    if m.get_content_type() != "multipart/form-data":
        raise HttpError(400, "expected multipart/form-data")
    boundary = m.get_param("boundary")
    if not boundary:
        raise HttpError(400, "no multipart boundary")
    delim = b"--" + boundary.encode("latin-1")
    data = b"\r\n" + body
    sep = b"\r\n" + delim
    chunks = data.split(sep)
    # chunks[0] is the preamble; the last one starts with "--" (close delimiter)
    if len(chunks) < 2:
        raise HttpError(400, "malformed multipart body")
    fields = {}
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        # skip transport padding then CRLF after the delimiter
        nl = chunk.find(b"\r\n")
        if nl < 0 or chunk[:nl].strip(b" \t"):
            raise HttpError(400, "malformed multipart delimiter line")
        part = chunk[nl + 2:]
        hend = part.find(b"\r\n\r\n")
        if hend < 0:
            if part.startswith(b"\r\n"):
                head, content = b"", part[2:]
            else:
                raise HttpError(400, "malformed multipart part headers")
        else:
            head, content = part[:hend], part[hend + 4:]
        pm = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                pm[k.strip()] = v.strip()
        if pm.get("Content-Disposition") is None:
            continue
        name = pm.get_param("name", header="content-disposition")
        filename = pm.get_param("filename", header="content-disposition")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
        if name is None:
            continue
        fields.setdefault(name, (filename, content))
    if not closed:
        raise HttpError(400, "multipart body not terminated")
    return fields


def reencode(data, max_dim):
    """Decode with PIL and re-encode losslessly as a minimal PNG (bytes)."""
    try:
        im = Image.open(io.BytesIO(data))
        w, h = im.size
    except Exception:
        raise HttpError(400, "not an image")
    if w > max_dim or h > max_dim:
        raise HttpError(400, "image too large: %dx%d > %d" % (w, h, max_dim))
    try:
        im.load()
    except Exception:
        raise HttpError(400, "not an image")
    params = {"optimize": True}
    trns = im.info.get("transparency")
    if im.mode not in PNG_MODES:
        im = im.convert("RGBA" if "A" in im.mode or trns is not None else "RGB")
        trns = None
    if trns is not None and im.mode in ("P", "L", "RGB", "1", "I", "I;16"):
        params["transparency"] = trns
    out = io.BytesIO()
    # no pnginfo / icc_profile / dpi / exif: only IHDR, (PLTE, tRNS), IDAT, IEND
    im.save(out, "PNG", **params)
    return out.getvalue()


class Store:
    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.tokens = {}  # token -> name
        self.inflight = 0
        self.stats = {"uploads": 0, "rejected_429": 0, "rejected_other": 0,
                      "deleted": 0, "gets": 0, "max_inflight_seen": 0}

    def bump(self, k, n=1):
        with self.lock:
            self.stats[k] += n

    def acquire(self, limit):
        with self.lock:
            if self.inflight >= limit:
                self.stats["rejected_429"] += 1
                return False
            self.inflight += 1
            self.stats["max_inflight_seen"] = max(self.stats["max_inflight_seen"], self.inflight)
            return True

    def release(self):
        with self.lock:
            self.inflight -= 1

    def save(self, png):
        name = secrets.token_hex(8)
        token = secrets.token_hex(16)
        path = os.path.join(self.dir, name + ".png")
        tmp = os.path.join(self.dir, ".tmp-%s" % token)
        with open(tmp, "wb") as f:
            f.write(png)
        os.replace(tmp, path)
        with self.lock:
            self.tokens[token] = name
            self.stats["uploads"] += 1
        return name, token

    def delete_name(self, name):
        try:
            os.unlink(os.path.join(self.dir, name + ".png"))
        except FileNotFoundError:
            return False
        with self.lock:
            for t, n in list(self.tokens.items()):
                if n == name:
                    del self.tokens[t]
            self.stats["deleted"] += 1
        return True

    def delete_token(self, token):
        with self.lock:
            name = self.tokens.get(token)
        if name is None:
            return False
        return self.delete_name(name)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "image_host/1"
    timeout = 300
    cfg = None
    store = None

    def log_message(self, fmt, *a):
        pass

    def log_request(self, code="-", size="-"):
        log("%s %s -> %s" % (self.command, self.path, code))

    # -- helpers --
    def _send(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, e):
        if e.close:
            self.close_connection = True
        self._send(e.status, jdump({"error": e.msg}), headers=e.headers)

    def _base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def _key_ok_header(self):
        k = self.cfg.api_key
        return k is None or self.headers.get("X-API-Key") == k

    def _upload_path(self):
        return self.path.split("?", 1)[0] in ("/upload", "/upload-text")

    def _content_length(self):
        """Returns int or raises HttpError (411/413/400)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() \
                or self.headers.get("Content-Length") is None:
            raise HttpError(411, "length required", close=True)
        try:
            n = int(self.headers["Content-Length"])
            if n < 0:
                raise ValueError
        except ValueError:
            raise HttpError(400, "bad content-length", close=True)
        if n > self.cfg.max_bytes:
            raise HttpError(413, "payload too large", close=True)
        return n

    def handle_expect_100(self):
        # like real servers: refuse before the body is sent when we already know
        if self.command == "POST" and self._upload_path():
            try:
                self._content_length()
            except HttpError as e:
                self.store.bump("rejected_other")
                self._error(e)
                return False
        return super().handle_expect_100()

    def _drain(self, n):
        while n > 0:
            got = self.rfile.read(min(n, 1 << 20))
            if not got:
                raise ConnectionError("eof")
            n -= len(got)

    # -- upload --
    def _upload(self, text):
        try:
            n = self._content_length()
        except HttpError as e:
            self.store.bump("rejected_other")
            return self._error(e)
        if not self.store.acquire(self.cfg.max_inflight):
            self._drain(n)
            return self._error(HttpError(429, "rate limited",
                                         headers=[("Retry-After", str(self.cfg.retry_after))]))
        try:
            body = self.rfile.read(n) if n else b""
            if len(body) != n:
                self.close_connection = True
                return
            try:
                if self.cfg.delay:
                    time.sleep(self.cfg.delay)
                fields = parse_multipart(body, self.headers.get("Content-Type", ""))
                if self.cfg.api_key is not None and not self._key_ok_header():
                    key = fields.get("key")
                    if key is None or key[1].decode("utf-8", "replace") != self.cfg.api_key:
                        raise HttpError(401, "invalid or missing api key")
                f = fields.get(self.cfg.field)
                if f is None:
                    raise HttpError(400, "no '%s' field in form" % self.cfg.field)
                png = reencode(f[1], self.cfg.max_dim)
                name, token = self.store.save(png)
            except HttpError as e:
                self.store.bump("rejected_other")
                return self._error(e)
        finally:
            self.store.release()
        url = "%s/i/%s.png" % (self._base(), name)
        if text:
            self._send(200, (url + "\n").encode(), "text/plain; charset=utf-8")
        else:
            self._send(200, jdump({"success": True, "data": {
                "url": url, "delete_url": "%s/d/%s" % (self._base(), token)}}))

    # -- methods --
    def do_POST(self):
        p = self.path.split("?", 1)[0]
        if p in ("/upload", "/upload-text"):
            return self._upload(p == "/upload-text")
        self._discard_body_or_close()
        self._error(HttpError(404, "not found"))

    def _discard_body_or_close(self):
        cl = self.headers.get("Content-Length")
        if cl is not None and "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            try:
                self._drain(int(cl))
                return
            except (ValueError, ConnectionError):
                pass
        if cl is not None or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def do_GET(self):
        p = self.path.split("?", 1)[0]
        m = NAME_RE.match(p)
        if m:
            path = os.path.join(self.cfg.dir, m.group(1) + ".png")
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                return self._error(HttpError(404, "not found"))
            self.store.bump("gets")
            return self._send(200, data, "image/png")
        m = TOKEN_RE.match(p)
        if m and self.command == "GET":
            if self.store.delete_token(m.group(1)):
                return self._send(200, jdump({"success": True}))
            return self._error(HttpError(404, "not found"))
        if p == "/_stats":
            with self.store.lock:
                s = dict(self.store.stats, inflight=self.store.inflight)
            s["stored"] = sum(1 for x in os.listdir(self.cfg.dir) if x.endswith(".png"))
            return self._send(200, jdump(s))
        self._error(HttpError(404, "not found"))

    do_HEAD = do_GET

    def do_DELETE(self):
        self._discard_body_or_close()
        m = NAME_RE.match(self.path.split("?", 1)[0])
        if not m:
            return self._error(HttpError(404, "not found"))
        if not self._key_ok_header():
            return self._error(HttpError(401, "invalid or missing api key"))
        if self.store.delete_name(m.group(1)):
            return self._send(200, jdump({"success": True}))
        self._error(HttpError(404, "not found"))

    def do_PUT(self):
        self._discard_body_or_close()
        self._error(HttpError(405, "method not allowed"))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, OSError, ValueError):
            self.close_connection = True


class Cfg:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--max-bytes", type=int, default=33554432)
    ap.add_argument("--max-dim", type=int, default=20000)
    ap.add_argument("--max-inflight", type=int, default=4)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--field", default="file")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    cfg = Cfg()
    cfg.dir = os.path.abspath(args.dir)
    for k in ("max_bytes", "max_dim", "max_inflight", "retry_after", "api_key",
              "field", "delay"):
        setattr(cfg, k, getattr(args, k))
    Handler.cfg = cfg
    Handler.store = Store(cfg.dir)

    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    if args.portfile:
        tmp = "%s.tmp.%d" % (args.portfile, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.portfile)
    log("image_host: listening on http://127.0.0.1:%d/ dir=%s" % (port, cfg.dir))

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        srv.server_close()
        log("image_host: exiting; %s" % json.dumps(Handler.store.stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
