#!/usr/bin/python3
"""Fault-injecting HTTP reverse proxy for sxengine tests.

Usage:
    /usr/bin/python3 fault_proxy.py --upstream http://127.0.0.1:PORT --port 0 \\
        --portfile FILE [--seed N] [--fault-rate 0.1] \\
        [--faults 503,500,429,reset,truncate,slow,corrupt] [--max-faults N] \\
        [--retry-after 1] [--max-seconds 600] [--fault-on-path-substring S]

Listens on 127.0.0.1 (port 0 = any free port; the chosen port number is written
to --portfile, atomically, before serving).  Threaded, HTTP/1.1 keep-alive.
Forwards GET/PUT/DELETE/HEAD/POST (method, path, headers incl. Host, body) to
the upstream and relays the answer.  With probability --fault-rate per request
(seeded RNG, under a lock), and until --max-faults faults have been injected,
one fault from --faults is injected instead:

  503, 500   answer that status with a short body; request not forwarded
  429        answer 429 with "Retry-After: <--retry-after>"; not forwarded
  reset      GET: forward, send status line, headers and half the body, then
             close with SO_LINGER 0 (TCP RST).  Other methods: the request is
             read but NOT forwarded, the socket is closed with RST, no answer.
  truncate   forward, send the full Content-Length but only half the body, close
  slow       forward, trickle the body at 1 KiB every 0.5 s for at most
             --slow-seconds (default 4) seconds, then close
  corrupt    forward; for a GET answered 200 with a non-empty body, flip one
             byte (xor 0xff) in the middle of the body.  Otherwise pass through
             (logged as fault=none, not counted).  Likewise truncate/slow on a
             HEAD or an empty-bodied answer pass through as fault=none.

Each request logs one line to stderr: "fault=<kind|none> METHOD PATH".
Exits by itself after --max-seconds; SIGTERM/SIGINT exit cleanly.
Standard library only.
"""

import argparse
import http.client
import http.server
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse

ALL_FAULTS = ("503", "500", "429", "reset", "truncate", "slow", "corrupt")
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding",
    "upgrade", "expect", "content-length",
}


def log(msg):
    try:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()
    except Exception:
        pass


class FaultState:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.rate = args.fault_rate
        self.faults = args.faults
        self.max_faults = args.max_faults
        self.substr = args.fault_on_path_substring
        self.injected = 0
        self.requests = 0
        self.by_kind = {}

    def decide(self, path):
        """Returns a fault kind or None.  Draws the same number of random
        values for every request so a seed gives a reproducible sequence."""
        with self.lock:
            self.requests += 1
            r = self.rng.random()
            kind = self.rng.choice(self.faults) if self.faults else None
            if kind is None or r >= self.rate:
                return None
            if self.substr is not None and self.substr not in path:
                return None
            if self.max_faults is not None and self.injected >= self.max_faults:
                return None
            self.injected += 1
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            return kind

    def uncount(self, kind):
        with self.lock:
            self.injected -= 1
            self.by_kind[kind] -= 1
            if not self.by_kind[kind]:
                del self.by_kind[kind]


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_proxy/1"
    timeout = 300  # idle keep-alive connections

    # set in main()
    state = None
    cfg = None

    def log_message(self, fmt, *a):  # silence default access log
        pass

    # ---- upstream connection (one per client connection) ----
    def _upstream(self, fresh=False):
        conn = getattr(self, "_up", None)
        if conn is not None and not fresh:
            return conn, True
        if conn is not None:
            conn.close()
        u = self.cfg.up
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = cls(u.hostname, u.port, timeout=self.cfg.upstream_timeout)
        self._up = conn
        return conn, False

    def finish(self):
        try:
            super().finish()
        finally:
            conn = getattr(self, "_up", None)
            if conn is not None:
                conn.close()

    # ---- request body ----
    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionError("eof in chunked body")
                parts.append(data)
                self.rfile.readline(3)
            return b"".join(parts)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return None
        n = int(cl)
        data = self.rfile.read(n) if n > 0 else b""
        if len(data) != n:
            raise ConnectionError("short request body")
        return data

    # ---- forwarding ----
    def _forward(self, body):
        headers = []
        for k, v in self.headers.items():
            if k.lower() in HOP_BY_HOP:
                continue
            headers.append((k, v))
        path = self.cfg.prefix + self.path if self.cfg.prefix else self.path
        last_err = None
        for attempt in range(2):
            conn, reused = self._upstream(fresh=attempt > 0)
            try:
                conn.putrequest(self.command, path, skip_host=True,
                                skip_accept_encoding=True)
                has_host = False
                for k, v in headers:
                    if k.lower() == "host":
                        has_host = True
                    conn.putheader(k, v)
                if not has_host:
                    conn.putheader("Host", self.cfg.up.netloc)
                if body is not None or self.command in ("PUT", "POST"):
                    conn.putheader("Content-Length", str(len(body or b"")))
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.reason, resp.getheaders(), data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                last_err = e
                conn.close()
                self._up = None
                if not reused:
                    break
            except Exception as e:
                last_err = e
                conn.close()
                self._up = None
                break
        raise ConnectionError("upstream: %r" % (last_err,))

    def _send_head(self, status, reason, headers, length):
        self.send_response_only(status, reason)
        for k, v in headers:
            if k.lower() in HOP_BY_HOP:
                continue
            self.send_header(k, v)
        if self.command == "HEAD":
            # no body was read; relay the upstream's Content-Length as is
            for k, v in headers:
                if k.lower() == "content-length":
                    self.send_header(k, v)
                    break
        elif not (100 <= status < 200 or status in (204, 304)):
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _simple(self, status, msg, extra=()):
        body = msg.encode()
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _rst(self):
        """Close the client socket abruptly (RST)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()  # drop makefile's io ref so close() is real
        except Exception:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def _handle(self):
        method, path = self.command, self.path
        try:
            body = self._read_body()
        except (ValueError, ConnectionError):
            log("fault=none %s %s (bad request body)" % (method, path))
            self.close_connection = True
            self._simple(400, "bad request body\n")
            return
        kind = self.state.decide(path)

        if kind in ("503", "500", "429"):
            log("fault=%s %s %s" % (kind, method, path))
            extra = [("Retry-After", str(self.cfg.retry_after))] if kind == "429" else []
            self._simple(int(kind), "injected fault %s\n" % kind, extra)
            return
        if kind == "reset" and method != "GET":
            log("fault=reset %s %s" % (method, path))
            self._rst()
            return

        try:
            status, reason, headers, data = self._forward(body)
        except ConnectionError as e:
            log("fault=none %s %s (upstream error: %s)" % (method, path, e))
            self.close_connection = True
            self._simple(502, "bad gateway: %s\n" % e)
            return

        if (kind == "corrupt" and not (method == "GET" and status == 200 and data)) or \
                (kind in ("truncate", "slow") and (method == "HEAD" or not data)):
            self.state.uncount(kind)
            kind = None
        log("fault=%s %s %s" % (kind or "none", method, path))
        send_body = method != "HEAD"

        if kind is None:
            self._send_head(status, reason, headers, len(data))
            if send_body:
                self.wfile.write(data)
        elif kind == "corrupt":
            b = bytearray(data)
            b[len(b) // 2] ^= 0xFF
            self._send_head(status, reason, headers, len(b))
            self.wfile.write(bytes(b))
        elif kind == "reset":  # GET
            self._send_head(status, reason, headers, len(data))
            self.wfile.write(data[: len(data) // 2])
            self._rst()
        elif kind == "truncate":
            self.close_connection = True
            self._send_head(status, reason, headers, len(data))
            if send_body:
                self.wfile.write(data[: len(data) // 2])
        elif kind == "slow":
            self.close_connection = True
            self._send_head(status, reason, headers, len(data))
            if send_body:
                deadline = time.monotonic() + self.cfg.slow_seconds
                off = 0
                while off < len(data) and time.monotonic() < deadline:
                    self.wfile.write(data[off:off + 1024])
                    off += 1024
                    if off < len(data):
                        time.sleep(0.5)

    def _safe(self):
        try:
            self._handle()
        except (OSError, ValueError):
            self.close_connection = True

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _safe
    do_OPTIONS = do_PATCH = _safe


class Cfg:
    pass


def write_portfile(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--fault-rate", type=float, default=0.1)
    ap.add_argument("--faults", default=",".join(ALL_FAULTS))
    ap.add_argument("--max-faults", type=int, default=None)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--slow-seconds", type=float, default=4.0)
    ap.add_argument("--upstream-timeout", type=float, default=120.0)
    ap.add_argument("--fault-on-path-substring", default=None)
    args = ap.parse_args()

    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    bad = [f for f in faults if f not in ALL_FAULTS]
    if bad:
        ap.error("unknown fault kind(s): %s" % ",".join(bad))
    args.faults = faults

    cfg = Cfg()
    cfg.up = urllib.parse.urlsplit(args.upstream)
    if cfg.up.scheme not in ("http", "https") or not cfg.up.hostname:
        ap.error("--upstream must be http://host:port[/prefix]")
    cfg.prefix = cfg.up.path.rstrip("/")
    cfg.retry_after = args.retry_after
    cfg.slow_seconds = args.slow_seconds
    cfg.upstream_timeout = args.upstream_timeout
    Handler.cfg = cfg
    Handler.state = state = FaultState(args)

    srv = Proxy(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    if args.portfile:
        write_portfile(args.portfile, port)
    log("fault_proxy: listening on http://127.0.0.1:%d/ -> %s (rate=%g faults=%s seed=%s)"
        % (port, args.upstream, args.fault_rate, ",".join(faults), args.seed))

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
        log("fault_proxy: exiting; %d requests, %d faults injected %s"
            % (state.requests, state.injected, state.by_kind))
    return 0


if __name__ == "__main__":
    sys.exit(main())
