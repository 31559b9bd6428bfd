"""Redirecting HTTP(S) server for tests: every GET is answered with a 302.

  /usr/bin/python3 redirect_server.py --port 0 --portfile FILE --mode loop|to URL
      [--tls CERT KEY] [--max-seconds 300]

--mode loop     redirects each GET to itself with a counter (an endless chain)
--mode to URL   redirects every GET to URL + the request path (e.g. https -> http)
Binds 127.0.0.1 only and exits by itself after --max-seconds.
"""
import argparse
import http.server
import os
import ssl
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--portfile', required=True)
    ap.add_argument('--mode', choices=['loop', 'to'], default='loop')
    ap.add_argument('--target', default='')
    ap.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    ap.add_argument('--max-seconds', type=float, default=300)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_GET(self):
            if args.mode == 'loop':
                n = int(self.path.rsplit('/', 1)[-1]) + 1 if self.path.rsplit('/', 1)[-1].isdigit() else 1
                location = '/r/%d' % n
            else:
                location = args.target.rstrip('/') + self.path
            self.send_response(302)
            self.send_header('Location', location)
            self.send_header('Content-Length', '0')
            self.end_headers()

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    tmp = args.portfile + '.tmp'
    with open(tmp, 'w') as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.portfile)
    threading.Timer(args.max_seconds, server.shutdown).start()
    server.serve_forever()


if __name__ == '__main__':
    main()
