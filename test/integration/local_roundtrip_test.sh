# Round trips through the local store (the embedded default): sizes at the
# piece edges, many pieces, a large random file, text, names with spaces and
# UTF-8, stdin, pieces that pass pngcheck.
source "$(dirname "$0")/lib.sh"

piece=65536
for size in 0 1 $((piece - 1)) $piece $((piece + 1)) $((piece * 37 + 5)); do
  random_file "$WORK/in.$size" "$size"
  key=$("$SX" push -q --piece-size $piece "$WORK/in.$size") || { fail "push of $size bytes"; continue; }
  case "$key" in file://*) ;; *) fail "key of $size bytes is not a file:// URL: $key" ;; esac
  "$SX" pull -q "$key" "$WORK/out.$size" && same_file "$WORK/in.$size" "$WORK/out.$size" "round trip of $size bytes"
done

# The default piece size and a 200 MB random file.
random_file "$WORK/big" 200000000
key=$("$SX" push -q "$WORK/big") && "$SX" pull -q "$key" "$WORK/big.out" && same_file "$WORK/big" "$WORK/big.out" "200 MB random file"
rm -f "$WORK/big" "$WORK/big.out"

# Text, and a file name with spaces and UTF-8: pull with no OUT uses the stored name.
mkdir -p "$WORK/src" "$WORK/dst"
seq 1 200000 > "$WORK/src/naïve file ☃.txt"
key=$("$SX" push -q --sha256 "$WORK/src/naïve file ☃.txt")
(cd "$WORK/dst" && "$SX" pull -q "$key") && same_file "$WORK/src/naïve file ☃.txt" "$WORK/dst/naïve file ☃.txt" "UTF-8 name with spaces, text"
"$SX" info "$key" | grep -q "naïve file ☃.txt" && pass "info shows the name" || fail "info shows the name"
sha=$(sha256sum < "$WORK/src/naïve file ☃.txt" | cut -d' ' -f1)
"$SX" info --json "$key" | grep -q "\"sha256\":\"$sha\"" && pass "push --sha256: info sha256 agrees with sha256sum" || fail "info sha256"
# Without --sha256 nothing is recorded, and verify --sha256 computes the same digest.
key2=$("$SX" push -q "$WORK/src/naïve file ☃.txt")
"$SX" info --json "$key2" | grep -q '"sha256":"","digest":"aead"' && pass "an encrypted push records the aead digest, no sha256" ||
  fail "info of a default push: $("$SX" info --json "$key2")"
"$SX" verify -q --sha256 "$key2" | grep -q "sha256 $sha" && pass "verify --sha256 agrees with sha256sum" || fail "verify --sha256"

# An existing file is not overwritten without --force; with it, it is.
expect_fail "pull refuses to overwrite" "exists" "$SX" pull -q "$key" "$WORK/dst/naïve file ☃.txt"
"$SX" pull -q --force "$key" "$WORK/dst/naïve file ☃.txt" && pass "pull --force overwrites" || fail "pull --force"

# stdin, with --name.
head -c 300000 /dev/urandom > "$WORK/stdin.bin"
key=$("$SX" push -q --piece-size 100000 --name from-stdin.bin - < "$WORK/stdin.bin")
(cd "$WORK/dst" && "$SX" pull -q "$key") && same_file "$WORK/stdin.bin" "$WORK/dst/from-stdin.bin" "push from stdin with --name"

# Explicit --width/--height as storagex had them.
key=$("$SX" push -q --width 600 --height 600 "$WORK/stdin.bin") && "$SX" pull -q "$key" "$WORK/wh.out" &&
  same_file "$WORK/stdin.bin" "$WORK/wh.out" "--width 600 --height 600"
"$SX" info "$key" | grep -q "600x600" && pass "info shows 600x600" || fail "info geometry"

# Thousands of pieces: the manifest spills over several manifest pieces.
random_file "$WORK/many" 3000000
key=$("$SX" push -q --piece-size 1K "$WORK/many")
levels=$("$SX" info --json "$key" | sed 's/.*"manifest_levels":\([0-9]*\).*/\1/')
[ "$levels" -ge 2 ] && pass "3000 pieces: manifest split over $levels levels" || fail "manifest not split ($levels)"
"$SX" pull -q "$key" "$WORK/many.out" && same_file "$WORK/many" "$WORK/many.out" "3000-piece round trip"

# Every piece in the store is a PNG that pngcheck accepts.
if command -v pngcheck >/dev/null; then
  bad=0
  while IFS= read -r -d '' png; do pngcheck -q "$png" >/dev/null || { bad=1; echo "pngcheck: $png" >&2; }; done \
    < <(find "$XDG_DATA_HOME/sxengine/store" -name '*.png' -print0 | head -z -n 300)
  [ $bad -eq 0 ] && pass "pieces pass pngcheck" || fail "pngcheck rejected a piece"
else
  need pngcheck
fi

finish
