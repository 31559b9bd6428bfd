# `sxengine serve`, the HTTP gateway, with real clients against a real nginx
# backend on 127.0.0.1: curl (whole, ranges, HEAD, 416, If-Range), aria2c with
# 8 connections, 16 concurrent random ranges from Python, a 1 MB range that
# costs at most 2 piece GETs at nginx, a client that leaves mid-body, hostile
# keys, error statuses, --token, uploads, file:// keys off loopback, and the
# key's fragment never in the gateway's output.

# Bounded in time: re-run under timeout(1), which signals the whole group.
if [ -z "${SX_SERVE_BOUNDED:-}" ]; then
  SX_SERVE_BOUNDED=1 exec timeout -k 10 280 bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac
need /usr/bin/python3 curl aria2c cmp
trap 'echo "FAIL: serve_test ran out of time" >&2; exit 1' TERM
start_nginx
ALOG="$NGINX_DIR/access.log"
CLIENT="$ROOT/test/integration/serve_client.py"

enc() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# start_serve NAME ARGS...: runs `sxengine serve --listen 127.0.0.1:0 ARGS`,
# waits (bounded) for the URL it prints; sets NAME_URL and NAME_PID.
start_serve() {
  local name=$1 i; shift
  setsid "$SX" serve "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!; track $pid
  for ((i = 0; i < 100; i++)); do
    [ -s "$WORK/$name.out" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$WORK/$name.out" ] || { echo "FAIL: serve $name did not start: $(shown "$WORK/$name.err")" >&2; exit 1; }
  printf -v "${name}_URL" '%s' "$(head -1 "$WORK/$name.out")"
  printf -v "${name}_PID" '%s' "$pid"
}

# stop_serve NAME [SIGNAL]: SIGTERM (or SIGNAL), then it must exit 0 within 10 s.
stop_serve() {
  local pidvar=${1}_PID i rc=0 sig=${2:-TERM}
  local pid=${!pidvar}
  kill -"$sig" "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then fail "serve $1 still runs 10 s after SIGTERM"; kill -KILL "$pid"; fi
  wait "$pid" 2>/dev/null || rc=$?
  untrack "$pid"
  [ "$rc" -eq 0 ] && pass "serve $1 stops cleanly on SIG$sig" || fail "serve $1 exit $rc after SIG$sig"
}

# status URL [CURL ARGS...]: the HTTP status of a GET (000: no answer).
status() { local u=$1; shift; curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@" "$u"; }
expect_status() {  # expect_status WANT WHAT URL [CURL ARGS...]
  local want=$1 what=$2 got; shift 2
  got=$(status "$@")
  [ "$got" = "$want" ] && pass "$what: $got" || fail "$what: status $got, expected $want"
}
# piece_gets PREFIX: GETs nginx logged so far under /PREFIX/ (pieces and manifests).
piece_gets() { grep -c "\"GET /$1/" "$ALOG" 2>/dev/null || true; }
slice() { dd if="$1" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }  # slice FILE FIRST LENGTH

# The files: a small one of many 1 MiB pieces (ranges cross boundaries), and
# one of 200 MiB at the default 8 MiB pieces for aria2c and the 1 MB range.
random_file "$WORK/notes.txt" $((20 * 1048576 + 12345))
random_file "$WORK/big.bin" $((200 * 1048576))
SMALL_KEY=$("$SX" push -q --piece-size 1M --backend "${NGINX_URL}small/" "$WORK/notes.txt") || { echo "FAIL: push small" >&2; exit 1; }
BIG_KEY=$("$SX" push -q --backend "${NGINX_URL}big/" "$WORK/big.bin") || { echo "FAIL: push big" >&2; exit 1; }
SMALL_SIZE=$(stat -c %s "$WORK/notes.txt")

"$SX" serve --help | grep -q -- "--listen TEXT=127.0.0.1:8340" && pass "serve listens on 127.0.0.1:8340 by default" ||
  fail "serve's default --listen is not 127.0.0.1:8340"
start_serve gw --listen 127.0.0.1:0
[[ "$gw_URL" =~ ^http://127\.0\.0\.1:[0-9]+/$ ]] && pass "serve prints its URL: $gw_URL" || fail "serve printed '$gw_URL'"
expect_status 200 "GET /healthz" "${gw_URL}healthz"
S="${gw_URL}file/notes.txt?key=$(enc "$SMALL_KEY")"

# --- whole file, headers, HEAD
curl -s -D "$WORK/h.whole" -o "$WORK/got.whole" --max-time 60 "$S"
same_file "$WORK/notes.txt" "$WORK/got.whole" "GET the whole file (20 MiB, 1 MiB pieces)"
h() { grep -i "^$1:" "$2" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
[ "$(h Content-Length "$WORK/h.whole")" = "$SMALL_SIZE" ] && pass "Content-Length" || fail "Content-Length: $(h Content-Length "$WORK/h.whole")"
[ "$(h Content-Type "$WORK/h.whole")" = "text/plain; charset=utf-8" ] && pass "Content-Type from the name" || fail "Content-Type: $(h Content-Type "$WORK/h.whole")"
case "$(h Content-Disposition "$WORK/h.whole")" in *'filename="notes.txt"'*) pass "Content-Disposition names the file" ;; *) fail "Content-Disposition: $(h Content-Disposition "$WORK/h.whole")" ;; esac
[ "$(h Accept-Ranges "$WORK/h.whole")" = bytes ] && pass "Accept-Ranges: bytes" || fail "Accept-Ranges"
ETAG=$(h ETag "$WORK/h.whole")
[[ "$ETAG" =~ ^\"[a-z]+-[0-9a-f]{32,64}\"$ ]] && pass "ETag from the digest: $ETAG" || fail "ETag '$ETAG'"
curl -s -I --max-time 30 "$S" > "$WORK/h.head"
if grep -q "^HTTP/1.1 200" "$WORK/h.head" && [ "$(h Content-Length "$WORK/h.head")" = "$SMALL_SIZE" ] &&
   [ "$(h ETag "$WORK/h.head")" = "$ETAG" ]; then pass "HEAD: 200, same Content-Length and ETag"; else fail "HEAD: $(shown "$WORK/h.head")"; fi
[ "$(curl -s -X HEAD --max-time 10 "$S" 2>/dev/null | wc -c)" -eq 0 ] && pass "HEAD has no body" || fail "HEAD sent a body"

# --- ranges: a-b across a piece boundary, a-, -n, 416, If-Range, multi-range
range_case() {  # range_case WHAT RANGE FIRST LENGTH
  local what=$1 r=$2 first=$3 len=$4 last
  last=$((first + len - 1))
  curl -s -D "$WORK/h.r" -o "$WORK/got.r" --max-time 30 -H "Range: bytes=$r" "$S"
  slice "$WORK/notes.txt" "$first" "$len" > "$WORK/want.r"
  if grep -q "^HTTP/1.1 206" "$WORK/h.r" && [ "$(h Content-Range "$WORK/h.r")" = "bytes $first-$last/$SMALL_SIZE" ] &&
     cmp -s "$WORK/got.r" "$WORK/want.r"; then pass "Range $what: 206, Content-Range, bytes equal"
  else fail "Range $what: $(shown "$WORK/h.r")"; fi
}
range_case "a-b across pieces" "1048000-3146000" 1048000 2098001
range_case "a-" "20971000-" 20971000 $((SMALL_SIZE - 20971000))
range_case "-n" "-5000" $((SMALL_SIZE - 5000)) 5000
range_case "last-pos past the end" "100-999999999" 100 $((SMALL_SIZE - 100))
curl -s -D "$WORK/h.416" -o /dev/null --max-time 30 -H "Range: bytes=$SMALL_SIZE-" "$S"
grep -q "^HTTP/1.1 416" "$WORK/h.416" && [ "$(h Content-Range "$WORK/h.416")" = "bytes */$SMALL_SIZE" ] &&
  pass "unsatisfiable range: 416 with Content-Range */size" || fail "416: $(shown "$WORK/h.416")"
expect_status 206 "If-Range with the ETag: the range" "$S" -H "Range: bytes=0-9" -H "If-Range: $ETAG"
expect_status 200 "If-Range with another ETag: the whole file" "$S" -H "Range: bytes=0-9" -H 'If-Range: "other"'
curl -s -o "$WORK/got.multi" -w '%{http_code}' --max-time 30 -H "Range: bytes=0-9,100-199" "$S" > "$WORK/code.multi"
[ "$(cat "$WORK/code.multi")" = 200 ] && cmp -s "$WORK/got.multi" "$WORK/notes.txt" &&
  pass "multi-range: the whole file, 200 (documented)" || fail "multi-range: $(cat "$WORK/code.multi")"
expect_status 200 "a malformed Range is ignored" "$S" -H "Range: bytes=9-1"
expect_status 200 "a GET with a body (discarded)" "$S" -X GET --data-binary @"$WORK/notes.txt" -o /dev/null
expect_status 405 "POST /file" "$S" -X POST -d x

# --- a 1 MB range of the big file: at most 2 piece GETs at nginx
B="${gw_URL}file?key=$(enc "$BIG_KEY")"
expect_status 200 "HEAD of the big file (fetches its manifest)" "$B" -I
before=$(piece_gets big)
curl -s -o "$WORK/got.1mb" --max-time 30 -H "Range: bytes=8000000-8999999" "$B"
after=$(piece_gets big)
slice "$WORK/big.bin" 8000000 1000000 | cmp -s - "$WORK/got.1mb" || fail "1 MB range: bytes differ"
[ $((after - before)) -ge 1 ] && [ $((after - before)) -le 2 ] &&
  pass "1 MB range across a piece boundary: $((after - before)) piece GETs at nginx" ||
  fail "1 MB range cost $((after - before)) piece GETs"
before=$(piece_gets big)
curl -s -o /dev/null --max-time 30 -H "Range: bytes=110000000-110999999" "$B"
after=$(piece_gets big)
[ $((after - before)) -eq 1 ] && pass "1 MB range inside a piece: 1 piece GET" || fail "1 MB range in one piece cost $((after - before)) GETs"

# --- 16 concurrent random ranges from Python
"$PY" "$CLIENT" ranges "$S" "$WORK/notes.txt" 16 1 > "$WORK/py.out" 2>&1 &&
  pass "16 concurrent random ranges (Python http.client): $(cat "$WORK/py.out")" || fail "Python ranges: $(shown "$WORK/py.out")"
"$PY" "$CLIENT" ranges "$B" "$WORK/big.bin" 16 2 > "$WORK/py.out" 2>&1 &&
  pass "16 concurrent random ranges of the big file: $(cat "$WORK/py.out")" || fail "Python ranges (big): $(shown "$WORK/py.out")"

# --- aria2c, 8 connections, the 200 MiB file
mkdir -p "$WORK/aria"
if timeout 120 aria2c -q -x 8 -s 8 -k 1M --file-allocation=none --allow-overwrite=true -d "$WORK/aria" -o big.bin "$B" \
   > "$WORK/aria.log" 2>&1; then same_file "$WORK/big.bin" "$WORK/aria/big.bin" "aria2c -x 8 -s 8, 200 MiB"
else fail "aria2c: $(shown "$WORK/aria.log")"; fi

# --- a client that leaves mid-body: the gateway stays healthy
"$PY" "$CLIENT" disconnect "$B" 3000000 > "$WORK/disc.out" 2>&1 || fail "disconnect client: $(shown "$WORK/disc.out")"
expect_status 200 "healthy after a client left mid-body" "${gw_URL}healthz"
for ((i = 0; i < 100; i++)); do grep -q "cut short" "$WORK/gw.err" && break; sleep 0.05; done
grep -q "GET /file 200 .*(cut short)" "$WORK/gw.err" && pass "the cut response is logged as cut short" || fail "no cut-short line: $(tail -3 "$WORK/gw.err")"
curl -s -o "$WORK/got.after" --max-time 60 "$B"
same_file "$WORK/big.bin" "$WORK/got.after" "a whole GET after the disconnect"

# --- two readers of one fresh file: its pieces are fetched once for both, and
# the one that leaves early does not cancel what the other still needs
random_file "$WORK/shared.bin" $((48 * 1048576 + 5))
SHARED_KEY=$("$SX" push -q --backend "${NGINX_URL}shared/" "$WORK/shared.bin")
SH="${gw_URL}file?key=$(enc "$SHARED_KEY")"
before=$(piece_gets shared)
curl -s -o "$WORK/got.shared" --max-time 60 --limit-rate 24M "$SH" & slow_pid=$!; track $slow_pid
"$PY" "$CLIENT" disconnect "$SH" 2000000 > "$WORK/disc2.out" 2>&1 || fail "second disconnect: $(shown "$WORK/disc2.out")"
wait $slow_pid; untrack $slow_pid
same_file "$WORK/shared.bin" "$WORK/got.shared" "a reader is unharmed by another leaving the same file"
gets=$(( $(piece_gets shared) - before ))
[ "$gets" -le 8 ] && pass "two readers of 7 pieces: $gets GETs at nginx (manifest + each piece once)" ||
  fail "two readers of 7 pieces cost $gets GETs"

# --- a reader that leaves stops the fetching: a fresh 200 MiB file, 1 MB read
random_file "$WORK/lone.bin" $((200 * 1048576))
LONE_KEY=$("$SX" push -q --backend "${NGINX_URL}lone/" "$WORK/lone.bin")
rm -f "$WORK/lone.bin"
before=$(piece_gets lone)
"$PY" "$CLIENT" disconnect "${gw_URL}file?key=$(enc "$LONE_KEY")" 1000000 > "$WORK/disc3.out" 2>&1 || fail "third disconnect"
for ((i = 0; i < 100; i++)); do [ "$(grep -c "cut short" "$WORK/gw.err")" -ge 3 ] && break; sleep 0.05; done
expect_status 200 "healthy after a reader left" "${gw_URL}healthz"
gets=$(( $(piece_gets lone) - before ))
[ "$gets" -le 4 ] && pass "a reader that left after 1 MB of 200 MiB: $gets GETs at nginx, not 26" ||
  fail "a reader that left after 1 MB still cost $gets GETs"

# --- slow clients do not stall the others: 8 connections stop reading
exec {stall_in}> >("$PY" "$CLIENT" stall "$B" 8 > "$WORK/stall.out" 2>&1)
for ((i = 0; i < 200; i++)); do grep -q stalled "$WORK/stall.out" 2>/dev/null && break; sleep 0.05; done
grep -q "stalled 8" "$WORK/stall.out" || fail "stall client: $(shown "$WORK/stall.out")"
curl -s -o "$WORK/got.meanwhile" --max-time 30 "$SH"
same_file "$WORK/shared.bin" "$WORK/got.meanwhile" "a whole GET while 8 clients stall"
"$PY" "$CLIENT" ranges "$S" "$WORK/notes.txt" 16 3 > "$WORK/py.out" 2>&1 &&
  pass "16 ranges while 8 clients stall" || fail "ranges while clients stall: $(shown "$WORK/py.out")"
exec {stall_in}>&-

# --- errors: statuses with short plain-text reasons
expect_status 400 "no key" "${gw_URL}file"
expect_status 400 "a key that is not a URL" "${gw_URL}file?key=garbage"
expect_status 400 "ftp:// key" "${gw_URL}file?key=$(enc ftp://example.com/x.png)"
expect_status 400 "damaged #k= fragment" "${gw_URL}file?key=$(enc "${SMALL_KEY%%#*}#k=zz")"
expect_status 400 "unknown fragment" "${gw_URL}file?key=$(enc "${SMALL_KEY%%#*}#q=1")"
expect_status 400 "a NUL byte" "${gw_URL}file?key=http%3A%2F%2F127.0.0.1%2F%00x"
expect_status 400 "a 10000-byte key" "${gw_URL}file?key=http%3A%2F%2F$(head -c 10000 /dev/zero | tr '\0' a)"
long=$(head -c 60000 /dev/zero | tr '\0' a)
code=$(status "${gw_URL}file?key=$long")
[[ "$code" =~ ^4[0-9][0-9]$ ]] && pass "a 60000-byte request line: $code" || fail "a 60000-byte request line: $code"
expect_status 404 "a manifest that does not exist" "${gw_URL}file?key=$(enc "${NGINX_URL}small/0000000000000000.png")"
expect_status 502 "a backend that answers 403 (a directory, autoindex off)" "${gw_URL}file?key=$(enc "${NGINX_URL}small/")"
expect_status 502 "a backend that is down" "${gw_URL}file?key=$(enc http://127.0.0.1:1/x.png)" --max-time 60
expect_status 403 "no content key for an encrypted file" "${gw_URL}file?key=$(enc "${SMALL_KEY%%#*}")"
expect_status 403 "the wrong content key" "${gw_URL}file?key=$(enc "${SMALL_KEY%%#*}#${BIG_KEY#*#}")"
expect_status 404 "an unknown path" "${gw_URL}nothing"
expect_status 403 "uploads off by default" "${gw_URL}upload/x" -T "$WORK/notes.txt"
curl -s --max-time 10 "${gw_URL}file?key=garbage" > "$WORK/reason"
[ "$(wc -l < "$WORK/reason")" -eq 1 ] && pass "the reason is one line: $(cat "$WORK/reason")" || fail "reason: $(shown "$WORK/reason")"
expect_status 200 "healthy after the hostile keys" "${gw_URL}healthz"

# --- file:// keys: served on loopback, refused beyond it unless allowed
LOCAL_KEY=$("$SX" push -q --backend "dir:$WORK/store" "$WORK/notes.txt")
expect_status 200 "a file:// key on loopback" "${gw_URL}file?key=$(enc "$LOCAL_KEY")"
start_serve wide --listen 0.0.0.0:0
wide_port=${wide_URL##*:}; wide_port=${wide_port%/}
expect_status 403 "a file:// key off loopback" "http://127.0.0.1:$wide_port/file?key=$(enc "$LOCAL_KEY")"
# Off loopback the gateway reaches no internal address (nginx is on 127.0.0.1) unless allowed.
expect_status 403 "an http key on an internal address, off loopback" "http://127.0.0.1:$wide_port/file?key=$(enc "$SMALL_KEY")"
# A manifest served over http that names file:// pieces (the local push's
# manifest, copied to nginx): off loopback the gateway reads none of them.
local_manifest=${LOCAL_KEY%%#*}; local_manifest=${local_manifest#file://}
cp "$local_manifest" "$NGINX_DIR/data/local-manifest.png"
HOSTILE_KEY="${NGINX_URL}local-manifest.png#${LOCAL_KEY#*#}"
curl -s -o "$WORK/got.hostile" --max-time 30 "http://127.0.0.1:$wide_port/file?key=$(enc "$HOSTILE_KEY")"
! cmp -s "$WORK/got.hostile" "$WORK/notes.txt" && [ "$(stat -c %s "$WORK/got.hostile")" -lt "$(stat -c %s "$WORK/notes.txt")" ] &&
  pass "an http manifest naming file:// pieces: none read off loopback" ||
  fail "the gateway served file:// pieces named by an http manifest"
# An http key may never name file:// pieces (docs/SECURITY.md), on loopback too.
expect_status 403 "the same manifest on loopback: an http key naming file:// pieces is refused" \
  "${gw_URL}file?key=$(enc "$HOSTILE_KEY")"
stop_serve wide
start_serve widefile --listen 0.0.0.0:0 --allow-file-keys --allow-private-addresses
wide_port=${widefile_URL##*:}; wide_port=${wide_port%/}
expect_status 200 "a file:// key off loopback with --allow-file-keys" "http://127.0.0.1:$wide_port/file?key=$(enc "$LOCAL_KEY")"
expect_status 200 "an http key on 127.0.0.1 off loopback with --allow-private-addresses" \
  "http://127.0.0.1:$wide_port/file?key=$(enc "$SMALL_KEY")"
stop_serve widefile INT
start_serve v6 --listen '[::1]:0'
if [[ "$v6_URL" =~ ^http://\[::1\]:[0-9]+/$ ]]; then
  curl -s -o "$WORK/got.v6" --max-time 30 "${v6_URL}file?key=$(enc "$SMALL_KEY")"
  same_file "$WORK/notes.txt" "$WORK/got.v6" "serve on [::1]"
else fail "serve on [::1] printed '$v6_URL'"; fi
stop_serve v6

# --- --token and uploads
start_serve up --listen 127.0.0.1:0 --token s3cret --allow-upload --backend "${NGINX_URL}up/"
expect_status 401 "--token: none given" "${up_URL}file?key=$(enc "$SMALL_KEY")"
expect_status 401 "--token: a wrong one" "${up_URL}file?key=$(enc "$SMALL_KEY")" -H "Authorization: Bearer nope"
expect_status 200 "--token: the right one" "${up_URL}file?key=$(enc "$SMALL_KEY")" -H "Authorization: Bearer s3cret"
expect_status 200 "--token: /healthz needs none" "${up_URL}healthz"
expect_status 401 "--token: an upload without it" "${up_URL}upload/x.bin" -T "$WORK/notes.txt"
random_file "$WORK/up.bin" $((9 * 1048576 + 7))
UP_KEY=$(curl -s --fail --max-time 60 -H "Authorization: Bearer s3cret" -T "$WORK/up.bin" "${up_URL}upload/up.bin") || fail "upload with curl -T"
if "$SX" pull -q "$UP_KEY" "$WORK/up.pulled"; then same_file "$WORK/up.bin" "$WORK/up.pulled" "upload (curl -T, Content-Length) then pull"; else fail "pull of the uploaded key"; fi
UP_KEY2=$(cat "$WORK/up.bin" | curl -s --fail --max-time 60 -H "Authorization: Bearer s3cret" -T - "${up_URL}upload/piped.bin") || fail "upload of a pipe"
if "$SX" pull -q "$UP_KEY2" "$WORK/up2.pulled"; then same_file "$WORK/up.bin" "$WORK/up2.pulled" "upload of unknown size (chunked) then pull"; else fail "pull of the piped upload"; fi
expect_status 400 "upload name with a control byte" "${up_URL}upload/a%01b" -H "Authorization: Bearer s3cret" -T "$WORK/up.bin"
stop_serve up

# --- the path form /k/KEY/: listings and files of a tree, read by wget -r and rclone
need wget rclone
T="$WORK/tree/set"
mkdir -p "$T/docs/deep" "$T/media"
for i in $(seq 1 40); do random_file "$T/docs/f$i.txt" $((i * 997)); done
random_file "$T/docs/deep/name with space & <b>.txt" 5000
random_file "$T/media/clip.bin" $((3 * 1048576 + 7))
printf '' > "$T/docs/empty.txt"
TREE_KEY=$("$SX" push -q --piece-size 1M --backend "${NGINX_URL}tree/" "$T") || fail "push the tree"
"$SX" url --gateway "$gw_URL" "$TREE_KEY" > "$WORK/urls"
P=$(sed -n 2p "$WORK/urls")
[ "$(wc -l < "$WORK/urls")" -eq 2 ] && [[ "$(sed -n 1p "$WORK/urls")" == "${gw_URL}file?key=$(enc "$TREE_KEY")" ]] &&
  [[ "$P" =~ ^${gw_URL}k/[A-Za-z0-9_-]+/$ ]] && pass "sxengine url: the query form and the path form" ||
  fail "sxengine url printed: $(shown "$WORK/urls")"
curl -s -o "$WORK/list.html" --max-time 30 "${P}set/docs/"
grep -q '<a href="f7.txt">f7.txt</a>' "$WORK/list.html" && grep -q '<a href="deep/">deep/</a>' "$WORK/list.html" &&
  grep -q '<a href="../">../</a>' "$WORK/list.html" && pass "a directory's listing links its files and directories" ||
  fail "listing: $(shown "$WORK/list.html")"
curl -s --max-time 30 "${P}set/docs/deep/" | grep -qF 'href="name%20with%20space%20%26%20%3Cb%3E.txt">name with space &amp; &lt;b&gt;.txt</a>' &&
  pass "names percent-encoded in links, escaped in text" || fail "a name with space, & and < is not encoded"
expect_status 301 "a directory without its /: redirected" "${P}set/docs"
[ "$(curl -s -o /dev/null -w '%{redirect_url}' --max-time 30 "${P%/}")" = "$P" ] && pass "/k/KEY redirects to /k/KEY/" ||
  fail "/k/KEY did not redirect to /k/KEY/"
expect_status 404 "a path the tree does not hold" "${P}set/nothing.txt"
expect_status 404 "a file asked for as a directory" "${P}set/media/clip.bin/"
expect_status 404 ".. finds nothing" "${P}set/docs/../media/clip.bin" --path-as-is
expect_status 400 "a key part that is not base64url" "${gw_URL}k/not*base64/"
before=$(piece_gets tree)
curl -s -D "$WORK/h.tf" -o "$WORK/got.tf" --max-time 30 -r 1000-2999 "${P}set/media/clip.bin"
after=$(piece_gets tree)
slice "$T/media/clip.bin" 1000 2000 | cmp -s - "$WORK/got.tf" && grep -q "^HTTP/1.1 206" "$WORK/h.tf" &&
  [ "$(h Content-Range "$WORK/h.tf")" = "bytes 1000-2999/$((3 * 1048576 + 7))" ] &&
  pass "a range of a tree's file: 206, its own Content-Range, bytes equal" || fail "tree file range: $(shown "$WORK/h.tf")"
[ $((after - before)) -le 2 ] && pass "that range cost $((after - before)) piece GETs at nginx" ||
  fail "a 2 KB range of a tree's file cost $((after - before)) GETs"
curl -s -I --max-time 30 "${P}set/docs/f3.txt" > "$WORK/h.tf3"
[ "$(h Last-Modified "$WORK/h.tf3")" = "$(TZ=GMT LC_ALL=C date -r "$T/docs/f3.txt" '+%a, %d %b %Y %H:%M:%S GMT')" ] &&
  [ "$(h Content-Length "$WORK/h.tf3")" = $((3 * 997)) ] && pass "HEAD of a tree's file: its size and Last-Modified (its mtime)" ||
  fail "HEAD of a tree's file: $(shown "$WORK/h.tf3")"
expect_status 200 "the path form of a file key: /k/KEY/NAME" "$(sed -n 2p < <("$SX" url --gateway "$gw_URL" "$SMALL_KEY"))notes.txt"
(cd "$WORK" && rm -rf wget.out && mkdir wget.out && cd wget.out &&
  timeout 120 wget -q -r -np -nH -e robots=off -R "index.html*" "${P}set/") ; got_dir=$(find "$WORK/wget.out" -type d -name set | head -1)
if [ -n "$got_dir" ] && diff -r "$T" "$got_dir" > "$WORK/wget.diff" 2>&1; then pass "wget -r: the whole tree, bytes equal (diff -r)"
else fail "wget -r: $(shown "$WORK/wget.diff")"; fi
rm -rf "$WORK/rclone.out"
timeout 120 rclone copy --config /dev/null --http-url "$P" :http: "$WORK/rclone.out" > "$WORK/rclone.log" 2>&1 &&
  diff -r "$WORK/tree" "$WORK/rclone.out" > "$WORK/rclone.diff" 2>&1 && pass "rclone copy from the http backend: the whole tree, bytes equal" ||
  fail "rclone: $(shown "$WORK/rclone.log") $(shown "$WORK/rclone.diff")"
grep -qF "$(sed -n 2p "$WORK/urls" | sed 's|.*/k/\([^/]*\)/|\1|')" "$WORK/gw.err" && fail "the path form's key shows in the log" ||
  pass "the log shows /k/…/, never the key"

# --- the key's fragment never shows in the gateway's output
secrets_leaked=0
for k in "$SMALL_KEY" "$BIG_KEY" "$LOCAL_KEY" "$UP_KEY" "$UP_KEY2" "$TREE_KEY"; do
  frag=${k#*#k=}
  grep -rqF -- "$frag" "$WORK"/gw.* "$WORK"/wide.* "$WORK"/widefile.* "$WORK"/up.err && secrets_leaked=1
done
[ $secrets_leaked -eq 0 ] && pass "no content key in the gateway's output or log" || fail "a content key shows in the gateway's output"
grep -q "GET /file" "$WORK/gw.err" && pass "the gateway logs requests (method, path, status)" || fail "no access log lines"

stop_serve gw
finish
