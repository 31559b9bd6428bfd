# The HTTP backend through fault_proxy.py in front of nginx: mixed faults are
# retried to a byte-identical result, slow and stalled transfers are aborted and
# retried, corrupt pieces and permanent 503s fail cleanly (exit 1, one clear
# line, no partial output), resets on PUT are retried. Every sxengine run that
# goes through a proxy is bounded by `timeout`.
source "$(dirname "$0")/lib.sh"
need curl
start_nginx

PIECE=256K
random_file "$WORK/big" $((8 << 20))

# proxy NAME ARGS...: fault_proxy.py in front of nginx; sets PROXY_URL and
# PROXY_PID, the log is $WORK/NAME.log.
proxy() {
  local name=$1 var; shift
  start_py_server "$name" fault_proxy.py --upstream "$NGINX_URL" --max-seconds 300 "$@"
  PROXY_PID=$!
  var=${name}_PORT
  PROXY_URL="http://127.0.0.1:${!var}/"
}

events() { grep -c "\"event\":\"$2\"" "$1"; }                      # events FILE KIND
key_of() { tail -1 "$1" | sed -n 's/^{"event":"key","key":"\([^"]*\)"}$/\1/p'; }
summary_retries() { grep '"event":"summary"' "$1" | sed -n 's/.*"retries":\([0-9]*\).*/\1/p'; }
empty_dir() {  # empty_dir DIR WHAT: nothing left behind, not even a .*.sxpart-* file
  if [ -z "$(ls -A "$1")" ]; then pass "$2: nothing left in the output dir"; else fail "$2: left $(ls -A "$1" | tr '\n' ' ')"; fi
}

# A piece object name of $WORK/big at $PIECE (names are content addressed):
# push straight to nginx once and take any object but the manifest.
probe_key=$("$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${NGINX_URL}probe/" "$WORK/big")
PIECE_NAME=$(cd "$NGINX_DIR/data/probe" && ls | grep -v -x "${probe_key##*/}" | head -1)
PIECE_NAME=${PIECE_NAME%.png}
[ -n "$PIECE_NAME" ] || { echo "FAIL: no piece object found" >&2; exit 1; }

# 1. ~20% faults of every non-slow kind, on PUT and GET: retried, identical bytes.
proxy mixed --seed 5 --fault-rate 0.2 --faults 503,500,429,reset,truncate,corrupt --retry-after 1
start=$SECONDS
timeout 120 "$SX" push --json --no-encrypt --compress none --retries 8 --piece-size $PIECE --backend "${PROXY_URL}mixed/" "$WORK/big" \
  > "$WORK/mixed.push.json" 2>"$WORK/mixed.push.err" || fail "mixed faults: push exit $? ($(tail -1 "$WORK/mixed.push.err"))"
key=$(key_of "$WORK/mixed.push.json")
timeout 120 "$SX" pull --json --retries 8 "$key" "$WORK/mixed.out" \
  > "$WORK/mixed.pull.json" 2>"$WORK/mixed.pull.err" || fail "mixed faults: pull exit $? ($(tail -1 "$WORK/mixed.pull.err"))"
same_file "$WORK/big" "$WORK/mixed.out" "mixed faults: 8 MiB round trip in $((SECONDS - start)) s"
n_push=$(events "$WORK/mixed.push.json" retry) n_pull=$(events "$WORK/mixed.pull.json" retry)
[ "$n_push" -gt 0 ] && [ "$n_pull" -gt 0 ] && pass "mixed faults: retries reported (push $n_push, pull $n_pull)" ||
  fail "mixed faults: retry events push $n_push, pull $n_pull"
# (the fault sequence is fixed by the seed; seed 5 injects every kind)
kinds=$(grep -o '^fault=[a-z0-9]* [A-Z]*' "$WORK/mixed.log" | grep -v none | sort | uniq -c | tr -s ' \n' ' ')
n_kinds=$(grep -o '^fault=[a-z0-9]*' "$WORK/mixed.log" | grep -v none | sort -u | wc -l)
[ "$n_kinds" -eq 6 ] && pass "mixed faults: all 6 kinds injected:$kinds" || fail "mixed faults: only $n_kinds kinds injected:$kinds"

# 2a. The slow fault (trickle, then the proxy hangs up): pull completes, bounded.
proxy slow --seed 5 --fault-rate 0.25 --faults slow
key=$(timeout 120 "$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${PROXY_URL}slow/" "$WORK/big") || fail "slow: push"
start=$SECONDS
if timeout 120 "$SX" pull --json --stall-timeout 2 --retries 8 "$key" "$WORK/slow.out" > "$WORK/slow.json" 2>"$WORK/slow.err"; then
  same_file "$WORK/big" "$WORK/slow.out" "slow: pull completes in $((SECONDS - start)) s"
  [ $((SECONDS - start)) -le 60 ] || fail "slow: took $((SECONDS - start)) s"
  [ "$(events "$WORK/slow.json" retry)" -gt 0 ] && pass "slow: slow transfers retried" || fail "slow: no retry event"
else
  fail "slow: pull exit $? after $((SECONDS - start)) s ($(tail -1 "$WORK/slow.err"))"
fi

# 2b. A real stall (headers and 100 bytes, then silence for 60 s) on the first
# three GETs: --stall-timeout 2 aborts each and the retry completes.
cat > "$WORK/stall_server.py" <<'EOF'
import http.server, os, sys, threading, time, urllib.error, urllib.request
upstream, portfile, stalls = sys.argv[1], sys.argv[2], int(sys.argv[3])
lock, count = threading.Lock(), [0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, status, data=b""):
        self.send_response(status); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = urllib.request.Request(upstream + self.path.lstrip("/"), data=body, method="PUT")
        try:
            with urllib.request.urlopen(req) as r: self.answer(r.status)
        except urllib.error.HTTPError as e: self.answer(e.code)
    def do_GET(self):
        try:
            with urllib.request.urlopen(upstream + self.path.lstrip("/")) as r: data = r.read()
        except urllib.error.HTTPError as e: return self.answer(e.code)
        with lock:
            count[0] += 1
            stall = count[0] <= stalls
        if not stall: return self.answer(200, data)
        sys.stderr.write("stall GET %s\n" % self.path); sys.stderr.flush()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data[:100]); self.wfile.flush()
        time.sleep(60)
        self.close_connection = True
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
threading.Timer(300, lambda: os._exit(0)).start()
with open(portfile + ".tmp", "w") as f: f.write("%d\n" % srv.server_address[1])
os.replace(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
setsid "$PY" "$WORK/stall_server.py" "$NGINX_URL" "$WORK/stall.port" 3 > "$WORK/stall.log" 2>&1 &
stall_pid=$!
on_exit "kill -TERM $stall_pid 2>/dev/null; wait $stall_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -s "$WORK/stall.port" ] && break; sleep 0.1; done
stall_url="http://127.0.0.1:$(cat "$WORK/stall.port")/"
key=$(timeout 60 "$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${stall_url}stall/" "$WORK/big") || fail "stall: push"
start=$SECONDS
if timeout 60 "$SX" pull --json --stall-timeout 2 --retries 4 "$key" "$WORK/stall.out" > "$WORK/stall.json" 2>"$WORK/stall.err"; then
  same_file "$WORK/big" "$WORK/stall.out" "stall: pull completes in $((SECONDS - start)) s"
  [ $((SECONDS - start)) -le 30 ] || fail "stall: took $((SECONDS - start)) s with --stall-timeout 2"
  n=$(events "$WORK/stall.json" retry)
  [ "$n" -ge 3 ] && pass "stall: $n stalled transfers aborted and retried" || fail "stall: $n retry events, expected 3"
else
  fail "stall: pull exit $? after $((SECONDS - start)) s ($(tail -1 "$WORK/stall.err"))"
fi

# 3. Corruption. A piece whose every GET is corrupt: exit 1, the error names
# the piece, nothing is left under the output name, no temporary file.
proxy corrupt --fault-rate 1.0 --faults corrupt --max-faults 1000000 --fault-on-path-substring "$PIECE_NAME"
key=$(timeout 60 "$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${PROXY_URL}corrupt/" "$WORK/big") || fail "corrupt: push"
mkdir -p "$WORK/c1"
expect_fail "corrupt piece on every GET: pull fails naming the piece" "piece" \
  timeout 120 "$SX" pull -q --retries 8 "$key" "$WORK/c1/out.bin"
empty_dir "$WORK/c1" "corrupt piece"

# Every GET corrupt, the manifest included: a clean failure too.
proxy corruptall --fault-rate 1.0 --faults corrupt --max-faults 1000000
mkdir -p "$WORK/c2"
expect_fail "corrupt manifest on every GET: pull fails" "manifest" \
  timeout 120 "$SX" pull -q --retries 8 "${PROXY_URL}probe/${probe_key##*/}" "$WORK/c2/out.bin"
empty_dir "$WORK/c2" "corrupt manifest"

# One corrupt answer is a flaky proxy, not a broken object: refetched, counted.
proxy corruptonce --fault-rate 1.0 --faults corrupt --max-faults 1 --fault-on-path-substring "$PIECE_NAME"
key=$(timeout 60 "$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${PROXY_URL}once/" "$WORK/big") || fail "corrupt once: push"
if timeout 60 "$SX" pull --json "$key" "$WORK/once.out" > "$WORK/once.json" 2>"$WORK/once.err"; then
  same_file "$WORK/big" "$WORK/once.out" "one corrupt piece answer: refetched"
  n=$(events "$WORK/once.json" retry) s=$(summary_retries "$WORK/once.json")
  [ "$n" -eq 1 ] && [ "$s" = 1 ] && pass "one corrupt piece answer: 1 retry event, summary retries 1" ||
    fail "one corrupt piece answer: $n retry event(s), but summary says retries=$s"
else
  fail "one corrupt piece answer: pull exit $? ($(tail -1 "$WORK/once.err"))"
fi
proxy corruptmanifest --fault-rate 1.0 --faults corrupt --max-faults 1
mkdir -p "$WORK/c3"
if timeout 60 "$SX" pull -q "${PROXY_URL}probe/${probe_key##*/}" "$WORK/c3/out.bin" 2>"$WORK/c3.err"; then
  same_file "$WORK/big" "$WORK/c3/out.bin" "one corrupt manifest answer: refetched"
else
  fail "one corrupt manifest answer is not refetched: exit $? ($(tail -1 "$WORK/c3.err"))"
fi

# 4. Every request answered 503: push and pull give up after --retries 3 with
# a clear error, quickly, and leave nothing behind.
proxy down --fault-rate 1.0 --faults 503
start=$SECONDS
expect_fail "503 always: push fails" "503" \
  timeout 60 "$SX" push -q --no-encrypt --compress none --retries 3 --piece-size $PIECE --backend "${PROXY_URL}down/" "$WORK/big"
[ $((SECONDS - start)) -le 30 ] && pass "503 always: push gave up in $((SECONDS - start)) s" || fail "503 always: push took $((SECONDS - start)) s"
mkdir -p "$WORK/d1"
start=$SECONDS
expect_fail "503 always: pull fails" "503" \
  timeout 60 "$SX" pull -q --retries 3 "${PROXY_URL}probe/${probe_key##*/}" "$WORK/d1/out.bin"
[ $((SECONDS - start)) -le 30 ] && pass "503 always: pull gave up in $((SECONDS - start)) s" || fail "503 always: pull took $((SECONDS - start)) s"
empty_dir "$WORK/d1" "503 always"

# The same for a data piece: piece URLs in the manifest are absolute, so push
# through a clean proxy, then put a 503-only proxy on the same port.
proxy relay --fault-rate 0
key=$(timeout 60 "$SX" push -q --no-encrypt --compress none --piece-size $PIECE --backend "${PROXY_URL}relay/" "$WORK/big") || fail "relay: push"
relay_port=$relay_PORT
kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null
proxy relaydown --port "$relay_port" --fault-rate 1.0 --faults 503 --fault-on-path-substring "$PIECE_NAME"
if [ "$relaydown_PORT" = "$relay_port" ]; then
  mkdir -p "$WORK/d2"
  expect_fail "503 always on one piece: pull fails naming the piece" "piece.*503" \
    timeout 60 "$SX" pull -q --retries 3 "$key" "$WORK/d2/out.bin"
  # A network failure keeps what was written for a resume (hidden), never a file under the final name.
  left=$(ls -A "$WORK/d2" | tr '\n' ' ')
  case "$left" in
    ".out.bin.sxjournal-r"*" .out.bin.sxpart-r"*" ") pass "503 on one piece: only the hidden temp file and journal kept for a resume" ;;
    *) fail "503 on one piece: left $left" ;;
  esac
  rm -f "$WORK"/d2/.out.bin.sx*
else
  fail "could not restart the proxy on port $relay_port"
fi

# 5. Resets (RST before any answer) on PUTs, and mid-body on GETs: retried.
proxy reset --seed 7 --fault-rate 0.3 --faults reset
timeout 120 "$SX" push --json --no-encrypt --compress none --retries 8 --piece-size $PIECE --backend "${PROXY_URL}reset/" "$WORK/big" \
  > "$WORK/reset.json" 2>"$WORK/reset.err" || fail "reset: push exit $? ($(tail -1 "$WORK/reset.err"))"
resets=$(grep -c '^fault=reset PUT' "$WORK/reset.log")
[ "$resets" -gt 0 ] && [ "$(events "$WORK/reset.json" retry)" -gt 0 ] && pass "reset: $resets PUTs reset and retried" ||
  fail "reset: $resets PUT resets, $(events "$WORK/reset.json" retry) retry events"
key=$(key_of "$WORK/reset.json")
timeout 120 "$SX" pull -q --retries 8 "$key" "$WORK/reset.out" 2>"$WORK/reset.pull.err" &&
  same_file "$WORK/big" "$WORK/reset.out" "reset: round trip" || fail "reset: pull ($(tail -1 "$WORK/reset.pull.err"))"

finish
