# A key from a stranger is only data (docs/SECURITY.md §Keys from strangers),
# against a real nginx on 127.0.0.1, the local store and the gateway: an http
# key whose manifest names file:// pieces reads, deletes and repairs nothing
# of them; a key on a public address cannot make sxengine reach loopback (by
# literal address or by a name that resolves there); the gateway's errors
# carry no byte of what a key pointed at; the key can come from a file, stdin
# or SXENGINE_KEY instead of argv; one directory given twice is one backend.

if [ -z "${SX_KEYTRUST_BOUNDED:-}" ]; then
  SX_KEYTRUST_BOUNDED=1 exec timeout -k 10 170 bash "$0" "$@"
fi

source "$(dirname "$0")/lib.sh"
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac
need /usr/bin/python3 timeout curl ip
export XDG_STATE_HOME="$WORK/xdg-state"
trap 'echo "FAIL: key_trust_test ran out of time" >&2; exit 1' TERM
start_nginx
ALOG="$NGINX_DIR/access.log"
sx() { timeout --foreground -k 5 40 "$SX" "$@"; }
tree_sum() { find "$1" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum; }

random_file "$WORK/a.bin" $((3 << 20))
NKEY=$(sx push -q --piece-size 512K --backend "${NGINX_URL}inner/" "$WORK/a.bin") || { fail "push to nginx"; finish; }

# ---- 1. An http key whose manifest names file:// pieces --------------------------------

STORE="$WORK/victim-store"
LKEY=$(sx push -q --piece-size 512K --backend "dir:$STORE" "$WORK/a.bin") || { fail "local push"; finish; }
lurl=${LKEY%%#*}
cp "${lurl#file://}" "$NGINX_DIR/data/stranger.png"
HKEY="${NGINX_URL}stranger.png#${LKEY#*#}"
before=$(tree_sum "$STORE")
expect_exit 5 "rm of an http key naming file:// pieces is refused" "names a local file .* but the key is not a local one" \
  sx rm "$HKEY"
expect_exit 5 "pull of it is refused" "names a local file" sx pull -q "$HKEY" "$WORK/h.out"
[ "$(tree_sum "$STORE")" = "$before" ] && [ ! -e "$WORK/h.out" ] && pass "the local store is untouched" ||
  fail "the local store changed"
# The same with parity: repair would write into the directories the manifest names.
for s in 1 2 3; do mkdir -p "$WORK/par$s"; done
PKEY=$(sx push -q --piece-size 256K --parity 1 --backend "dir:$WORK/par1" --backend "dir:$WORK/par2" \
  --backend "dir:$WORK/par3" "$WORK/a.bin") || fail "striped local push"
purl=${PKEY%%#*}
cp "${purl#file://}" "$NGINX_DIR/data/stranger-par.png"
# The stranger's key: the manifest on nginx, no &m= copies.
frag=${PKEY#*#}; frag=${frag%%&*}
SPKEY="${NGINX_URL}stranger-par.png#$frag"
victim=$(find "$WORK/par2" -name '*.png' -size +100k | head -1); rm -f "$victim"
before=$(tree_sum "$WORK/par1")$(tree_sum "$WORK/par2")$(tree_sum "$WORK/par3")
expect_exit 5 "repair of an http key naming file:// pieces is refused" "names a local file" sx repair "$SPKEY"
[ "$(tree_sum "$WORK/par1")$(tree_sum "$WORK/par2")$(tree_sum "$WORK/par3")" = "$before" ] &&
  pass "repair wrote nothing into the directories the manifest names" || fail "repair wrote into the victim's directories"

# A file:// key may name only objects of its own store.
mkdir -p "$WORK/other/ab"; cp "${lurl#file://}" "$WORK/other/ab/${lurl##*/}"
OKEY="file://$WORK/other/ab/${lurl##*/}#${LKEY#*#}"
expect_exit 5 "a file:// key naming another store's files is refused" "outside the store its key lives in" \
  sx pull -q "$OKEY" "$WORK/o.out"

# ---- 2. A key on a public address cannot make sxengine reach loopback -------------------

PUBLIC=198.51.100.7   # TEST-NET-2: not internal; put on lo for this test, removed at exit
if ip addr add "$PUBLIC/32" dev lo 2>/dev/null; then
  on_exit "ip addr del $PUBLIC/32 dev lo"
  mkdir -p "$WORK/public"
  cat > "$WORK/serve_public.py" <<'PY'
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
server = http.server.ThreadingHTTPServer((sys.argv[1], 0), handler)
open(sys.argv[3], "w").write(str(server.server_address[1]))
server.serve_forever()
PY
  setsid "$PY" "$WORK/serve_public.py" "$PUBLIC" "$WORK/public" "$WORK/public.port" >"$WORK/public.log" 2>&1 &
  ppid=$!; on_exit "kill $ppid 2>/dev/null"
  for ((i = 0; i < 100; i++)); do [ -s "$WORK/public.port" ] && break; sleep 0.05; done
  PORT=$(cat "$WORK/public.port")
  # Pieces on nginx at 127.0.0.1, the manifest on the "public" server.
  nurl=${NKEY%%#*}; cp "$NGINX_DIR/data/inner/${nurl##*/}" "$WORK/public/m.png"
  PUBKEY="http://$PUBLIC:$PORT/m.png#${NKEY#*#}"
  mark=$(wc -l < "$ALOG")
  expect_exit 5 "a public key naming 127.0.0.1 pieces is refused" "names an internal address" sx pull -q "$PUBKEY" "$WORK/p.out"
  [ "$(tail -n +$((mark + 1)) "$ALOG" | grep -c 'GET /inner/')" -eq 0 ] && pass "no request reached the internal server" ||
    fail "requests reached 127.0.0.1 for a public key"
  sx pull -q --allow-private-addresses "$PUBKEY" "$WORK/p.out" && same_file "$WORK/a.bin" "$WORK/p.out" \
    "--allow-private-addresses lets it pull (LAN setups)" || fail "--allow-private-addresses"
  # A name that is no literal (127.1 resolves to 127.0.0.1): refused when connecting.
  port=${NGINX_URL##*:}; port=${port%/}
  AKEY=$(sx push -q --piece-size 512K --backend "http://127.1:$port/alias/" "$WORK/a.bin") || fail "push via 127.1"
  aurl=${AKEY%%#*}; cp "$NGINX_DIR/data/alias/${aurl##*/}" "$WORK/public/alias.png"
  mark=$(wc -l < "$ALOG")
  expect_exit 5 "pieces at a name resolving to loopback: refused on connect" "refused to connect to the internal address 127.0.0.1" \
    sx pull -q "http://$PUBLIC:$PORT/alias.png#${AKEY#*#}" "$WORK/alias.out"
  [ "$(tail -n +$((mark + 1)) "$ALOG" | grep -c 'GET /alias/')" -eq 0 ] && pass "no request reached 127.0.0.1 through the name" ||
    fail "a request reached 127.0.0.1 through 127.1"
elif [ "${CI:-}" = true ]; then
  fail "cannot add $PUBLIC to lo (root is needed): the public-key tests did not run"
else
  echo "skip: public-key tests need root (ip addr add)" >&2
fi

# ---- 3. The gateway's errors carry no byte of what a key pointed at ---------------------

setsid "$SX" serve --listen 127.0.0.1:0 > "$WORK/gw.out" 2>"$WORK/gw.err" &
gpid=$!; on_exit "kill $gpid 2>/dev/null; wait $gpid 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -s "$WORK/gw.out" ] && break; sleep 0.05; done
GW=$(head -1 "$WORK/gw.out")
enc() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
printf 'TOPSECRET-%s\n' "$RANDOM$RANDOM" > "$WORK/secret.txt"; secret=$(cat "$WORK/secret.txt")
cp "$WORK/secret.txt" "$NGINX_DIR/data/secret.txt"
FRAG=${NKEY#*#}
for target in "file://$WORK/secret.txt" "${NGINX_URL}secret.txt"; do
  body=$(curl -s --max-time 20 "${GW}file?key=$(enc "$target#$FRAG")")
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "${GW}file?key=$(enc "$target#$FRAG")")
  [[ "$status" =~ ^(4|5) ]] && [[ "$body" != *TOPSECRET* ]] && [[ "$body" != *"${secret:10:6}"* ]] &&
    pass "the gateway's $status for a non-PNG ${target%%:*} target holds none of its bytes ($body)" ||
    fail "the gateway relayed the target's bytes: $status $body"
done
rc=0; "$SX" pull -q "${NGINX_URL}secret.txt#$FRAG" "$WORK/s.out" 2>"$WORK/s.err" || rc=$?
! grep -q TOPSECRET "$WORK/s.err" && [ "$rc" -ne 0 ] && pass "the CLI's error names the URL, not the bytes" ||
  fail "the CLI showed the target's bytes: $(shown "$WORK/s.err")"

# ---- 4. The key off the command line -----------------------------------------------------

printf '%s\n' "$NKEY" > "$WORK/key.txt"; chmod 600 "$WORK/key.txt"
sx pull -q --key-file "$WORK/key.txt" "$WORK/kf.out" && same_file "$WORK/a.bin" "$WORK/kf.out" "pull --key-file FILE OUT" ||
  fail "pull --key-file"
sx pull -q --key-file - "$WORK/stdin.out" < "$WORK/key.txt" && same_file "$WORK/a.bin" "$WORK/stdin.out" "pull --key-file - (stdin)" ||
  fail "pull --key-file -"
SXENGINE_KEY="$NKEY" sx pull -q "$WORK/env.out" && same_file "$WORK/a.bin" "$WORK/env.out" "pull with SXENGINE_KEY" ||
  fail "pull with SXENGINE_KEY"
SXENGINE_KEY="$NKEY" sx info --json > "$WORK/info.json" && grep -q '"name":"a.bin"' "$WORK/info.json" &&
  pass "info with SXENGINE_KEY" || fail "info with SXENGINE_KEY"
sx verify -q --key-file "$WORK/key.txt" >/dev/null && pass "verify --key-file" || fail "verify --key-file"
expect_exit 2 "KEY and --key-file together" "not both" sx info --key-file "$WORK/key.txt" "$NKEY"
expect_exit 2 "no key at all" "a download key is required" env -u SXENGINE_KEY "$SX" info
# While it runs, the key is in no process's argv.
SXENGINE_KEY="$NKEY" "$SX" pull -q --bwlimit 1M "$WORK/slow.out" 2>/dev/null &
spid=$!
sleep 0.3
! tr '\0' ' ' < "/proc/$spid/cmdline" | grep -q "${FRAG:2:20}" && pass "the key is not in ps" || fail "the key shows in argv"
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null

# ---- 5. One directory given twice is one backend -----------------------------------------

mkdir -p "$WORK/x"
expect_exit 2 "dir:/x and file:///x are one backend" "are the same place" \
  sx push -q --parity 1 --backend "dir:$WORK/x" --backend "file://$WORK/x" --backend "dir:$WORK/par3" "$WORK/a.bin"
expect_exit 2 "dir:/x and dir:/x/ are one backend" "are the same place" \
  sx push -q --parity 1 --backend "dir:$WORK/x" --backend "dir:$WORK/x/" --backend "dir:$WORK/par3" "$WORK/a.bin"
expect_exit 2 "http://HOST/p/ and HTTP://host:80/p are one backend" "are the same place" \
  sx push -q --parity 1 --backend "${NGINX_URL}p/" --backend "${NGINX_URL}p" --backend "dir:$WORK/par3" "$WORK/a.bin"
sx push --parity 1 --backend "${NGINX_URL}s1/" --backend "${NGINX_URL}s2/" --backend "dir:$WORK/par3" "$WORK/a.bin" \
  >/dev/null 2>"$WORK/host.err"
grep -q "are on one host" "$WORK/host.err" && pass "two prefixes on one host: warned" || fail "no warning: $(shown "$WORK/host.err")"

finish
