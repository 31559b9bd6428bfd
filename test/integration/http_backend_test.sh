# The plain HTTP backend against a real nginx (PUT/GET): round trips at several
# sizes and parallelism, where the objects land, pulling with no configuration,
# info, clear errors for a 404 key and a server that is not listening, --json.
source "$(dirname "$0")/lib.sh"
need curl
start_nginx

# key_in_prefix KEY PREFIX WHAT: the key is under NGINX_URL/PREFIX/ and the
# store holds exactly the manifest plus one object per data piece, all PNGs.
key_in_prefix() {
  local key=$1 prefix=$2 what=$3 dir="$NGINX_DIR/data/$2" pieces objects f bad=0
  # Encrypted by default: the key is the manifest URL plus a #k= fragment.
  case "$key" in "$NGINX_URL$prefix/"*.png'#k='*) ;; *) fail "$what: key $key is not under $NGINX_URL$prefix/ with #k="; return ;; esac
  local url=${key%%#*}
  [ -f "$dir/${url##*/}" ] || { fail "$what: manifest ${url##*/} is not in $dir"; return; }
  pieces=$("$SX" info --json "$key" | sed -n 's/.*"pieces":\([0-9]*\).*/\1/p')
  objects=$(find "$dir" -type f | wc -l)
  [ -n "$pieces" ] && [ "$objects" -eq $((pieces + 1)) ] ||
    { fail "$what: $objects objects in $dir, expected $pieces pieces + 1 manifest"; return; }
  for f in "$dir"/*; do
    [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || bad=1
  done
  [ $bad -eq 0 ] && pass "$what: key under the prefix, $pieces piece(s) + manifest stored as PNGs" ||
    fail "$what: a stored object is not a PNG"
}

# roundtrip SIZE PREFIX WHAT PUSH/PULL-ARGS...
roundtrip() {
  local size=$1 prefix=$2 what=$3 key; shift 3
  random_file "$WORK/in.$prefix" "$size"
  key=$("$SX" push -q --backend "$NGINX_URL$prefix/" "$@" "$WORK/in.$prefix") || { fail "$what: push"; return; }
  key_in_prefix "$key" "$prefix" "$what"
  local pull_args=() a
  for a in "$@"; do case "$a" in --piece-size|256K) ;; *) pull_args+=("$a") ;; esac; done
  if "$SX" pull -q "${pull_args[@]}" "$key" "$WORK/out.$prefix"; then
    same_file "$WORK/in.$prefix" "$WORK/out.$prefix" "$what: round trip"
  else
    fail "$what: pull"
  fi
  rm -f "$WORK/in.$prefix" "$WORK/out.$prefix"
}

roundtrip 0 empty "0 bytes"
roundtrip 1 one "1 byte"
roundtrip $((1048576 + 3)) mib3 "1 MiB+3, 256K pieces" --piece-size 256K
roundtrip $((64 << 20)) big16 "64 MiB, --parallel 16" --parallel 16
roundtrip $((64 << 20)) big1 "64 MiB, --parallel 1" --parallel 1

# A key is all a puller needs: another directory, no config, no data dir, no
# environment beyond PATH; the stored name is used when OUT is omitted.
random_file "$WORK/report.bin" 700000
key=$("$SX" push -q --piece-size 256K --backend "${NGINX_URL}shared/" "$WORK/report.bin")
mkdir -p "$WORK/elsewhere" "$WORK/emptyhome"
sx_abs=$(readlink -f "$SX")
if (cd "$WORK/elsewhere" && env -i PATH=/usr/bin:/bin HOME="$WORK/emptyhome" "$sx_abs" pull -q "$key"); then
  same_file "$WORK/report.bin" "$WORK/elsewhere/report.bin" "pull from another dir with no configuration"
else
  fail "pull from another dir with no configuration"
fi
info=$("$SX" info "$key")
if grep -q "report.bin" <<<"$info" && grep -q "700000" <<<"$info"; then pass "info on an http key"; else fail "info on an http key: $info"; fi
sha=$(sha256sum < "$WORK/report.bin" | cut -d' ' -f1)
"$SX" verify -q --sha256 --json "$key" | grep -q "\"sha256\":\"$sha\"" && pass "verify --sha256 --json on an http key: sha256sum agrees" ||
  fail "verify --sha256 --json on an http key"

# A key that 404s: a clear one-line error, exit 1, no output file.
mkdir -p "$WORK/o404"
expect_fail "pull of a 404 key" "404" "$SX" pull -q "${NGINX_URL}shared/0123456789abcdef0123456789abcdef.png" "$WORK/o404/out"
[ -z "$(ls -A "$WORK/o404")" ] && pass "404 pull leaves no file" || fail "404 pull left: $(ls -A "$WORK/o404")"

# Push to a port nobody listens on: fails quickly with a clear error.
port=$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
start=$SECONDS
expect_fail "push to a closed port" "onnect" timeout 60 "$SX" push -q --retries 2 --backend "http://127.0.0.1:$port/x/" "$WORK/report.bin"
[ $((SECONDS - start)) -le 30 ] && pass "closed port: failed in $((SECONDS - start)) s" || fail "closed port: took $((SECONDS - start)) s"
err=$(timeout 60 "$SX" push --retries 2 --backend "http://127.0.0.1:$port/x/" "$WORK/report.bin" 2>&1 >/dev/null | tail -1)
case "$err" in "sxengine: error: "*) pass "closed port: last stderr line is the error" ;; *) fail "closed port: last line: $err" ;; esac

# --json: valid NDJSON, one summary with bytes and seconds, the key last.
random_file "$WORK/j.bin" 1500000
"$SX" push --json --piece-size 256K --backend "${NGINX_URL}json/" "$WORK/j.bin" > "$WORK/push.json" 2>"$WORK/push.err" ||
  fail "push --json: exit $? ($(tail -1 "$WORK/push.err"))"
if "$PY" -c 'import json,sys; [json.loads(l) for l in sys.stdin]' < "$WORK/push.json"; then
  pass "push --json is valid NDJSON"
else
  fail "push --json is not valid NDJSON: $(head -3 "$WORK/push.json")"
fi
key=$("$PY" -c 'import json,sys; e=json.loads(sys.stdin.read().splitlines()[-1]); print(e.get("key", "") if e.get("event") == "key" else "")' < "$WORK/push.json")
case "$key" in "${NGINX_URL}json/"*.png'#k='*) pass "push --json: last event carries the key" ;; *) fail "push --json: last line: $(tail -1 "$WORK/push.json")" ;; esac
"$PY" - "$WORK/push.json" 1500000 <<'EOF' && pass "push --json: one summary with bytes and seconds" || fail "push --json: summary"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = [e for e in ev if e.get("event") == "summary"]
assert len(s) == 1, s
assert s[0]["bytes"] == int(sys.argv[2]), s
assert isinstance(s[0]["seconds"], (int, float)) and s[0]["seconds"] >= 0, s
assert ev[0]["event"] == "start", ev[0]
assert sum(1 for e in ev if e.get("event") == "piece") == 6, ev
EOF
"$SX" pull -q "$key" "$WORK/j.out" && same_file "$WORK/j.bin" "$WORK/j.out" "the --json key pulls"
"$SX" pull --json "$key" "$WORK/j2.out" > "$WORK/pull.json" 2>/dev/null &&
  "$PY" -c 'import json,sys; ev=[json.loads(l) for l in sys.stdin]; assert ev[-1]["event"] == "written", ev[-1]' < "$WORK/pull.json" &&
  pass "pull --json: valid NDJSON ending in written" || fail "pull --json: $(tail -1 "$WORK/pull.json")"

# Without --json (and without -q) stdout is exactly the key, progress goes to stderr.
"$SX" push --piece-size 256K --backend "${NGINX_URL}plain/" "$WORK/j.bin" > "$WORK/plain.out" 2>/dev/null
if [ "$(wc -l < "$WORK/plain.out")" -eq 1 ] && grep -qx "${NGINX_URL}plain/[0-9a-f]*\.png#k=[A-Za-z0-9_-]*" "$WORK/plain.out"; then
  pass "plain push: stdout is one line, the key"
else
  fail "plain push stdout: $(head -3 "$WORK/plain.out")"
fi

# Hostile server answers for a piece: an endless body is cut at what the
# piece can be; an HTML page or a JPEG in its place fails, naming the piece.
random_file "$WORK/h.bin" 700000
hkey=$("$SX" push -q --piece-size 256K --backend "${NGINX_URL}hostile/" "$WORK/h.bin")
victim=$(ls -S "$NGINX_DIR/data/hostile/" | head -1)   # the largest object: a full data piece
cp "$NGINX_DIR/data/hostile/$victim" "$WORK/victim.png"
head -c 300000000 /dev/zero > "$NGINX_DIR/data/hostile/$victim"
mkdir -p "$WORK/hostile"
start=$SECONDS
expect_fail "a 300 MB body for a 256K piece is refused" "larger than a piece" \
  timeout 60 "$SX" pull -q "$hkey" "$WORK/hostile/out"
[ $((SECONDS - start)) -lt 20 ] && pass "refused in $((SECONDS - start)) s" || fail "took $((SECONDS - start)) s"
printf '<html><body>Not found</body></html>' > "$NGINX_DIR/data/hostile/$victim"
expect_fail "an HTML page in place of a piece" "piece [0-9]" "$SX" pull -q "$hkey" "$WORK/hostile/out"
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00' > "$NGINX_DIR/data/hostile/$victim"
expect_fail "a JPEG in place of a piece" "not a PNG" "$SX" pull -q "$hkey" "$WORK/hostile/out"
[ -z "$(ls -A "$WORK/hostile")" ] && pass "hostile answers leave nothing behind" || fail "left: $(ls -A "$WORK/hostile")"
cp "$WORK/victim.png" "$NGINX_DIR/data/hostile/$victim"
"$SX" pull -q "$hkey" "$WORK/hostile/out" && same_file "$WORK/h.bin" "$WORK/hostile/out" "restored piece pulls again"
rm -f "$WORK/hostile/out"

# The manifest itself: junk is judged by its first bytes (not a PNG), in
# bounded memory and at once, not read to the manifest's 256 MiB bound; a
# Content-Length past that bound is refused before a byte is read.
manifest_object=${hkey%%#*}
manifest_object=${manifest_object##*/}
cp "$NGINX_DIR/data/hostile/$manifest_object" "$WORK/manifest.png"
head -c 200000000 /dev/zero > "$NGINX_DIR/data/hostile/$manifest_object"
start=$(date +%s%N)
expect_exit 4 "200 MB of junk as the manifest: refused by its first bytes" "not a PNG" \
  /usr/bin/time -f '%M' -o "$WORK/junk.rss" "$SX" pull -q "$hkey" "$WORK/hostile/out"
ms=$((($(date +%s%N) - start) / 1000000)); rss=$(tail -1 "$WORK/junk.rss")
[ "$ms" -lt 1000 ] && [ "$rss" -lt 65536 ] && pass "junk manifest refused in $ms ms, peak RSS $rss KiB" ||
  fail "junk manifest: $ms ms, peak RSS $rss KiB (goal < 1 s, < 64 MiB)"
truncate -s 300000000 "$NGINX_DIR/data/hostile/$manifest_object"
expect_exit 4 "a 300 MB Content-Length for a manifest is refused" "larger than" "$SX" pull -q "$hkey" "$WORK/hostile/out"
cp "$WORK/manifest.png" "$NGINX_DIR/data/hostile/$manifest_object"
[ -z "$(ls -A "$WORK/hostile")" ] && pass "hostile manifests leave nothing behind" || fail "left: $(ls -A "$WORK/hostile")"

finish
