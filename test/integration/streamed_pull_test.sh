# Pull reads each piece as its bytes arrive (codec/piece_stream): against a
# real nginx, pieces that a host re-encoded still pull (declined at their
# head: one GET), stored blocks with a filter midway are refused on the way
# and fetched again whole (two GETs), and damaged or truncated pieces fail
# with their own message after the refetches (three GETs), writing nothing.
source "$(dirname "$0")/lib.sh"
need curl
start_nginx
PY=/usr/bin/python3
"$PY" -c 'import PIL' 2>/dev/null || { echo "SKIP: Pillow missing"; [ -n "${CI:-}" ] && exit 1; exit 77; }

cat > "$WORK/reshape.py" <<'EOF'
# reshape.py deflate|filtered|flip|truncate PNG: rewrites a piece image in place.
import struct, sys, zlib
from PIL import Image
how, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
if how == 'deflate':      # what a re-encoding host hands back: real deflate, any filters
    Image.open(path).save(path, 'PNG', compress_level=6)
elif how == 'filtered':   # stored blocks (zlib level 0), filter 0 but Up on row 3
    img = Image.open(path).convert('RGB')
    w, h = img.size
    px = img.tobytes()
    row = 3 * w
    raw = bytearray()
    for r in range(h):
        line = px[r * row:(r + 1) * row]
        if r == 3:
            prev = px[(r - 1) * row:r * row]
            raw += b'\x02' + bytes((a - b) & 0xff for a, b in zip(line, prev))
        else:
            raw += b'\x00' + line
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
                           chunk(b'IDAT', zlib.compress(bytes(raw), 0)) + chunk(b'IEND', b''))
elif how == 'flip':       # one byte in the middle (pixel data of the payload)
    b = bytearray(data)
    b[len(b) // 2] ^= 0x10
    open(path, 'wb').write(bytes(b))
elif how == 'truncate':
    open(path, 'wb').write(data[:len(data) * 2 // 3])
EOF

# fresh NAME [PUSH-ARGS]: a 700 KB file in one piece under NAME/; sets KEY, PIECE (its path in nginx's data).
fresh() {
  local name=$1; shift
  random_file "$WORK/$name.bin" 700000
  KEY=$("$SX" push -q --backend "$NGINX_URL$name/" "$@" "$WORK/$name.bin") || { fail "$name: push"; return 1; }
  local manifest=${KEY%%#*}
  manifest=${manifest##*/}
  PIECE=$(find "$NGINX_DIR/data/$name" -type f ! -name "$manifest")
  [ "$(printf '%s\n' "$PIECE" | wc -l)" -eq 1 ] || { fail "$name: expected one data piece"; return 1; }
}
# gets PATH: the GETs nginx logged for PATH so far.
gets() { grep -c "\"GET /${1#"$NGINX_DIR/data/"} " "$NGINX_DIR/access.log"; }

# reshaped HOW WHAT EXPECTED_GETS: after reshaping, the pull is exact.
reshaped() {
  local how=$1 what=$2 expected=$3
  fresh "$how" || return
  "$PY" "$WORK/reshape.py" "$how" "$PIECE"
  if "$SX" pull -q "$KEY" "$WORK/$how.out"; then
    same_file "$WORK/$how.bin" "$WORK/$how.out" "$what"
  else
    fail "$what: pull"
  fi
  local n; n=$(gets "$PIECE")
  [ "$n" -eq "$expected" ] && pass "$what: $n GET(s) of the piece" || fail "$what: $n GETs of the piece, expected $expected"
}
reshaped deflate "a piece re-encoded with real deflate pulls exact (declined at its head)" 1
reshaped filtered "a stored-block piece with a filter midway pulls exact (refused on the way, fetched whole)" 2

# damaged HOW WHAT MESSAGE [PUSH-ARGS]: the pull fails with status 4 naming the piece, writes nothing.
damaged() {
  local how=$1 what=$2 message=$3; shift 3
  CASES=$((CASES + 1))
  fresh "$how$CASES" "$@" || return
  "$PY" "$WORK/reshape.py" "$how" "$PIECE"
  expect_line 4 "$what" "piece 0" "$SX" pull -q "$KEY" "$WORK/$how.out"
  grep -q -- "$message" "$WORK/line.err" && pass "$what: says \"$message\"" ||
    fail "$what: message was: $(shown "$WORK/line.err")"
  [ -z "$(find "$WORK" -maxdepth 1 -name "*$how.out*")" ] && pass "$what: nothing written" ||
    fail "$what: left $(find "$WORK" -maxdepth 1 -name "*$how.out*")"
  local n; n=$(gets "$PIECE")
  [ "$n" -eq 3 ] && pass "$what: fetched 3 times before giving up" || fail "$what: $n GETs, expected 3"
}
CASES=0
damaged flip "a flipped byte in an encrypted piece" "decryption failed"
damaged flip "a flipped byte in a plain piece" "payload checksum" --no-encrypt
damaged truncate "a truncated piece" "piece"

finish
