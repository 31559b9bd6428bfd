# Encryption by default: the key's #k= fragment, passphrases (#s=), what
# happens without or with a wrong key, that no plaintext and no key reaches a
# server, compression, and durability of pulls that are interrupted.
source "$(dirname "$0")/lib.sh"
need curl
SX=$(cd "$(dirname "$SX")" && pwd)/$(basename "$SX")

MARKER="sxengine-plaintext-marker-$RANDOM$RANDOM"
{ for i in $(seq 1 20000); do echo "$MARKER line $i"; done; } > "$WORK/text.txt"
random_file "$WORK/rand.bin" 3000000

# Default: encrypted, key carries #k=, info says so, pull rebuilds.
key=$("$SX" push -q --piece-size 256K "$WORK/rand.bin")
case "$key" in file://*.png'#k='*) pass "default push gives a #k= key" ;; *) fail "key without #k=: $key" ;; esac
"$SX" info "$key" | grep -q "aes-256-gcm" && pass "info says aes-256-gcm" || fail "info encryption"
"$SX" pull -q "$key" "$WORK/rand.out" && same_file "$WORK/rand.bin" "$WORK/rand.out" "encrypted round trip"

# Without the fragment, or with another file's key: clear error, nothing written.
mkdir -p "$WORK/o"
expect_fail "pull without the key fragment" "encrypted" "$SX" pull -q "${key%%#*}" "$WORK/o/nokey"
[ ! -e "$WORK/o/nokey" ] && [ -z "$(ls -A "$WORK/o")" ] && pass "nothing written without the key" || fail "left $(ls -A "$WORK/o")"
other=$("$SX" push -q "$WORK/text.txt")
expect_fail "pull with another file's key" "wrong key" "$SX" pull -q "${key%%#*}#${other#*#}" "$WORK/o/wrong"
[ -z "$(ls -A "$WORK/o")" ] && pass "nothing written with a wrong key" || fail "left $(ls -A "$WORK/o")"
expect_fail "a damaged fragment" "fragment" "$SX" pull -q "${key%%#*}#k=abc" "$WORK/o/bad"

# No plaintext in the store when encrypted (stored deflate would show it).
store="$XDG_DATA_HOME/sxengine/store"
grep -rqa "$MARKER" "$store" && fail "plaintext marker found in the encrypted store" || pass "no plaintext in the encrypted store"
plainkey=$("$SX" push -q --no-encrypt --compress none "$WORK/text.txt")
case "$plainkey" in *'#'*) fail "--no-encrypt key has a fragment: $plainkey" ;; *) pass "--no-encrypt key is a plain URL" ;; esac
grep -rqa "$MARKER" "$store" && pass "--no-encrypt pieces hold the plaintext (the control)" || fail "control: marker not found"
"$SX" info "$plainkey" | grep -q "none (public pieces)" && pass "info says public" || fail "info of a public file"

# Passphrase: the key holds only a salt.
skey=$(SXENGINE_PASSPHRASE="tr0ub4dor&3" "$SX" push -q --piece-size 256K "$WORK/rand.bin")
case "$skey" in *'#s='*) pass "passphrase key carries #s=" ;; *) fail "passphrase key: $skey" ;; esac
SXENGINE_PASSPHRASE="tr0ub4dor&3" "$SX" pull -q "$skey" "$WORK/pp.out" && same_file "$WORK/rand.bin" "$WORK/pp.out" "passphrase round trip"
"$SX" pull -q --passphrase "tr0ub4dor&3" --force "$skey" "$WORK/pp.out" && pass "--passphrase works too" || fail "--passphrase"
expect_fail "passphrase key without a passphrase" "passphrase" "$SX" pull -q "$skey" "$WORK/o/pp"
expect_fail "wrong passphrase" "wrong key" env SXENGINE_PASSPHRASE=wrong "$SX" pull -q "$skey" "$WORK/o/pp"

# Compression: text shrinks in the store and comes back identical.
rm -rf "$store"
ckey=$("$SX" push -q "$WORK/text.txt")
stored=$(du -sb "$store" | cut -f1)
[ "$stored" -lt $(($(stat -c %s "$WORK/text.txt") / 3)) ] && pass "auto compression: $stored stored bytes for $(stat -c %s "$WORK/text.txt")" ||
  fail "auto compression: $stored stored bytes"
"$SX" pull -q "$ckey" "$WORK/text.out" && same_file "$WORK/text.txt" "$WORK/text.out" "compressed + encrypted round trip"
zkey=$("$SX" push -q --compress zstd --piece-size 256K "$WORK/rand.bin") && "$SX" pull -q "$zkey" "$WORK/z.out" &&
  same_file "$WORK/rand.bin" "$WORK/z.out" "--compress zstd on random data"

# Over HTTP the fragment never reaches the server.
start_nginx
hkey=$("$SX" push -q --piece-size 256K --backend "${NGINX_URL}enc/" "$WORK/rand.bin")
"$SX" pull -q "$hkey" "$WORK/h.out" && same_file "$WORK/rand.bin" "$WORK/h.out" "encrypted round trip over HTTP"
frag=${hkey#*#k=}
if grep -q -- "$frag" "$NGINX_DIR/access.log" || grep -q '#k=' "$NGINX_DIR/access.log"; then
  fail "the key fragment reached the server's log"
else
  pass "the server never saw the key ($(wc -l < "$NGINX_DIR/access.log") requests logged)"
fi
"$SX" push --json --piece-size 256K --backend "${NGINX_URL}enc2/" "$WORK/rand.bin" 2>"$WORK/json.err" > "$WORK/json.out"
grep -v '"event":"key"' "$WORK/json.out" | grep -q '#k=' && fail "--json events other than the key carry it" || pass "only the key event carries the key"

# A pull killed with SIGKILL leaves its temp file; the next pull removes it.
random_file "$WORK/big.bin" 200000000
bkey=$("$SX" push -q "$WORK/big.bin")
mkdir -p "$WORK/k"
echo old > "$WORK/k/big.bin"
"$SX" pull -q --force "$bkey" "$WORK/k/big.bin" & pid=$!
for _ in $(seq 1 100); do [ -n "$(find "$WORK/k" -name '.big.bin.sxpart-*' -size +1M)" ] && break; sleep 0.02; done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
[ "$(cat "$WORK/k/big.bin")" = old ] && pass "SIGKILL mid-pull left the old file untouched" || fail "old file changed"
[ -n "$(find "$WORK/k" -name '.big.bin.sxpart-*')" ] && pass "SIGKILL left a temp file (as it must)" || echo "note: pull finished before the kill"
"$SX" pull -q --force "$bkey" "$WORK/k/big.bin" && same_file "$WORK/big.bin" "$WORK/k/big.bin" "the next pull succeeds"
[ -z "$(find "$WORK/k" -name '.big.bin.sxpart-*')" ] && pass "the next pull removed the stale temp file" || fail "stale temp file remains"

# Ctrl-C stops promptly, exits 130 with a message, keeps the old file. The
# signal is sent once the pull's temp file exists (it is mid-flight); a pull
# that still finished first is tried again, and never counts as a pass.
echo old > "$WORK/k/big.bin"
rc=0
for attempt in 1 2 3 4 5; do
  "$SX" pull -q --force --workers 1 "$bkey" "$WORK/k/big.bin" 2>"$WORK/int.err" & pid=$!
  for ((i = 0; i < 500; i++)); do
    [ -n "$(find "$WORK/k" -maxdepth 1 -name '.big.bin.sxpart-*' -print -quit)" ] && break
    sleep 0.01
  done
  start=$(date +%s%N); kill -INT $pid; rc=0; wait $pid || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  [ $rc -ne 0 ] && break
  echo old > "$WORK/k/big.bin"  # it finished first: restore and try again
done
if [ $rc -eq 130 ] && grep -q "interrupted" "$WORK/int.err"; then pass "SIGINT: exit 130 in $ms ms with a message"
else fail "SIGINT: exit $rc after $attempt attempts, stderr: $(cat "$WORK/int.err")"; fi
if [ "$(head -c 3 "$WORK/k/big.bin")" = old ]; then pass "interrupted pull kept the old file"
else fail "interrupted pull changed the file"; fi
# An interrupted pull keeps its hidden temp file for a resume; the next run
# completes it and leaves nothing else.
"$SX" pull -q --force "$bkey" "$WORK/k/big.bin" && same_file "$WORK/big.bin" "$WORK/k/big.bin" "the interrupted pull resumes"
[ -z "$(find "$WORK/k" -name '.big.bin.sx*')" ] && pass "the resumed pull left no temp file or journal" || fail "temp file after the resume"

finish
