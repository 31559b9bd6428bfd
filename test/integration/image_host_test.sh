# The image-host backend against test/servers/image_host.py (multipart POST,
# lossless re-encoding): round trips through hosts.json profiles, inline
# profiles and ShareX .sxcu files, with JSON and plain-text answers; an API key
# taken from the environment that never leaks; pieces sized to the host's
# limits, and clear 413/400 errors without them; 429 + Retry-After absorbed,
# with 100 pushes in a row that lose nothing; an answer without the URL.
source "$(dirname "$0")/lib.sh"
need "$PY"
if ! "$PY" -c 'import PIL' 2>/dev/null; then
  [ "${CI:-}" = true ] && { echo "FAIL: PIL is missing in CI" >&2; exit 1; }
  echo "skip: PIL not installed" >&2; exit 77
fi

# start_host NAME ARGS...: an image host storing under $WORK/NAME-store; sets NAME_PORT.
start_host() {
  local name=$1; shift
  start_py_server "$name" image_host.py --dir "$WORK/$name-store" --max-seconds 600 "$@"
}

# host_stat PORT FIELD: one counter of the host's /_stats ("stored", "rejected_429", ...).
host_stat() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(json.load(opener.open("http://127.0.0.1:%s/_stats" % sys.argv[1], timeout=10))[sys.argv[2]])
EOF
}

info_field() {  # info_field KEY FIELD: a number from `info --json`
  "$SX" info --json "$1" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

last_key() {  # last_key NDJSON-FILE: the key of the final event
  "$PY" -c 'import json,sys; e=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(e.get("key","") if e.get("event")=="key" else "")' "$1" 2>/dev/null
}

# roundtrip WHAT PORT SIZE BACKEND PUSH-ARGS...: push through the host on PORT;
# the key is one of its image URLs, exactly pieces + 1 manifest were stored
# (nothing lost, nothing uploaded twice) and the pull is byte-identical.
roundtrip() {
  local what=$1 port=$2 size=$3 backend=$4 key before after pieces; shift 4
  random_file "$WORK/rt.in" "$size"
  rm -f "$WORK/rt.out"
  before=$(host_stat "$port" stored)
  key=$(timeout 120 "$SX" push -q --backend "$backend" "$@" "$WORK/rt.in" 2>"$WORK/rt.err") ||
    { fail "$what: push exit $? ($(tail -1 "$WORK/rt.err"))"; return; }
  # Encrypted by default: the manifest's URL on the host plus a #k= fragment.
  if ! [[ $key =~ ^http://127\.0\.0\.1:$port/i/[0-9a-f]{16}\.png#k=[A-Za-z0-9_-]+$ ]]; then
    fail "$what: key '$key' is not an image URL of the host with #k="; return
  fi
  if ! timeout 120 "$SX" pull -q "$key" "$WORK/rt.out" 2>"$WORK/rt.err"; then fail "$what: pull ($(tail -1 "$WORK/rt.err"))"; return; fi
  same_file "$WORK/rt.in" "$WORK/rt.out" "$what: round trip"
  pieces=$(info_field "$key" pieces)
  after=$(host_stat "$port" stored)
  if [ -n "$pieces" ] && [ $((after - before)) -eq $((pieces + 1)) ]; then
    pass "$what: $pieces piece(s) + manifest stored, no duplicates"
  else
    fail "$what: the host stored $((after - before)) images for ${pieces:-?} pieces + 1 manifest"
  fi
}

SECRET="sk-sxtest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_host main --max-inflight 16
start_host keyed --api-key "$SECRET"
start_host limited --max-bytes 300000 --max-dim 400
start_host busy --max-inflight 2 --delay 0.2
# The 100-push run: 429s on every push, but Retry-After: 0 and a short delay
# so that 400 uploads in a row fit in well under a minute.
start_host many --max-inflight 2 --delay 0.05 --retry-after 0

# Profiles: @PORT@ placeholders are filled in, ${...} is left for sxengine.
fill() { sed -e "s/@MAIN@/$main_PORT/g" -e "s/@KEYED@/$keyed_PORT/g" -e "s/@LIMITED@/$limited_PORT/g"; }
mkdir -p "$XDG_CONFIG_HOME/sxengine"
fill > "$XDG_CONFIG_HOME/sxengine/hosts.json" <<'EOF'
{
  "main": {"url": "http://127.0.0.1:@MAIN@/upload", "field": "file", "fields": {"album": "sxengine-test"},
           "response_url": "/data/url"},
  "text": {"url": "http://127.0.0.1:@MAIN@/upload-text", "response_pattern": "(http://[^ ]+[.]png)"},
  "keyed": {"url": "http://127.0.0.1:@KEYED@/upload", "headers": {"X-API-Key": "${SX_IMGHOST_KEY}"},
            "response_url": "/data/url"},
  "limited": {"url": "http://127.0.0.1:@LIMITED@/upload", "response_url": "/data/url",
              "max_bytes": 300000, "max_width": 400, "max_height": 400}
}
EOF
fill > "$WORK/curly.sxcu" <<'EOF'
{"Version": "14.1.0", "Name": "curly", "DestinationType": "ImageUploader, FileUploader",
 "RequestMethod": "POST", "RequestURL": "http://127.0.0.1:@MAIN@/upload", "Body": "MultipartFormData",
 "FileFormName": "file", "Arguments": {"title": "piece"}, "Headers": {"X-Client": "sxengine-test"},
 "URL": "{json:data.url}"}
EOF
fill > "$WORK/dollar.sxcu" <<'EOF'
{"Version": "14.1.0", "Name": "dollar", "DestinationType": "ImageUploader, FileUploader",
 "RequestMethod": "POST", "RequestURL": "http://127.0.0.1:@MAIN@/upload", "Body": "MultipartFormData",
 "FileFormName": "file", "URL": "$json:data.url$"}
EOF
fill > "$WORK/response.sxcu" <<'EOF'
{"Version": "14.1.0", "Name": "response", "DestinationType": "ImageUploader", "RequestMethod": "POST",
 "RequestURL": "http://127.0.0.1:@MAIN@/upload-text", "Body": "MultipartFormData", "FileFormName": "file",
 "URL": "{response}"}
EOF
fill > "$WORK/regex.sxcu" <<'EOF'
{"Version": "14.1.0", "Name": "regex", "DestinationType": "ImageUploader", "RequestMethod": "POST",
 "RequestURL": "http://127.0.0.1:@MAIN@/upload-text", "Body": "MultipartFormData", "FileFormName": "file",
 "URL": "{regex:(http://[^ ]+[.]png)}"}
EOF
fill > "$WORK/keyed-field.sxcu" <<'EOF'
{"Version": "14.1.0", "Name": "keyed-field", "DestinationType": "ImageUploader", "RequestMethod": "POST",
 "RequestURL": "http://127.0.0.1:@KEYED@/upload", "Body": "MultipartFormData", "FileFormName": "file",
 "Arguments": {"key": "${SX_IMGHOST_KEY}"}, "URL": "{json:data.url}"}
EOF
INLINE="host:{\"url\": \"http://127.0.0.1:$main_PORT/upload\", \"field\": \"file\", \"response_url\": \"/data/url\"}"

# --- Round trips: 0 B, 1 B, ~3 MB (256K pieces) through every way of naming a host.
for size in 0 1 $((3 << 20 | 5)); do
  roundtrip "host:main (hosts.json), $size B" "$main_PORT" "$size" host:main --piece-size 256K
  roundtrip "inline profile, $size B" "$main_PORT" "$size" "$INLINE" --piece-size 256K
  roundtrip ".sxcu {json:data.url}, $size B" "$main_PORT" "$size" "sxcu:$WORK/curly.sxcu" --piece-size 256K
  roundtrip ".sxcu \$json:data.url\$, $size B" "$main_PORT" "$size" "sxcu:$WORK/dollar.sxcu" --piece-size 256K
  roundtrip "/upload-text + response_pattern, $size B" "$main_PORT" "$size" host:text --piece-size 256K
done
roundtrip "/upload-text, whole-match pattern" "$main_PORT" 300000 \
  "host:{\"url\": \"http://127.0.0.1:$main_PORT/upload-text\", \"response_pattern\": \"http://127[.]0[.]0[.]1:$main_PORT/i/[0-9a-f]+[.]png\"}" \
  --piece-size 64K
roundtrip ".sxcu {response} on /upload-text" "$main_PORT" 300000 "sxcu:$WORK/response.sxcu" --piece-size 64K
roundtrip ".sxcu {regex:...} on /upload-text" "$main_PORT" 300000 "sxcu:$WORK/regex.sxcu" --piece-size 64K

# A key is all a puller needs: no hosts.json, no data dir, bare environment.
random_file "$WORK/share.bin" 700000
key=$("$SX" push -q --piece-size 256K --backend host:main "$WORK/share.bin")
mkdir -p "$WORK/elsewhere" "$WORK/emptyhome"
sx_abs=$(readlink -f "$SX")
if (cd "$WORK/elsewhere" && env -i PATH=/usr/bin:/bin HOME="$WORK/emptyhome" "$sx_abs" pull -q "$key" got.bin); then
  same_file "$WORK/share.bin" "$WORK/elsewhere/got.bin" "pull of a host key with no configuration"
else
  fail "pull of a host key with no configuration"
fi
expect_fail "unknown profile name" 'no image host "missing"' "$SX" push -q --backend host:missing "$WORK/share.bin"

# --- API key from the environment, in a header (hosts.json) and in a form field (.sxcu).
random_file "$WORK/keyed-probe.bin" 300000
export SX_IMGHOST_KEY="$SECRET"
if "$SX" push --piece-size 64K --backend host:keyed "$WORK/keyed-probe.bin" >"$WORK/keyed.out" 2>"$WORK/keyed.err"; then
  key=$(tail -1 "$WORK/keyed.out")
  "$SX" pull -q "$key" "$WORK/keyed.pulled" && same_file "$WORK/keyed-probe.bin" "$WORK/keyed.pulled" "API key header from \$SX_IMGHOST_KEY: round trip" ||
    fail "API key header: pull"
else
  fail "API key header from \$SX_IMGHOST_KEY: push ($(tail -1 "$WORK/keyed.err"))"; key=
fi
# (unencrypted, so that the stored manifest can be searched below)
"$SX" push --json --no-encrypt --compress none --piece-size 64K --backend host:keyed "$WORK/keyed-probe.bin" >"$WORK/keyed.json" 2>"$WORK/keyed.json.err" ||
  fail "API key header, --json push: exit $? ($(tail -1 "$WORK/keyed.json.err"))"
jkey=$(last_key "$WORK/keyed.json")
[ -n "$jkey" ] || fail "API key header, --json push: no key event"
ckey=$("$SX" push -q --piece-size 64K --backend "sxcu:$WORK/keyed-field.sxcu" "$WORK/keyed-probe.bin" 2>"$WORK/keyed.sxcu.err") &&
  "$SX" pull -q "$ckey" "$WORK/keyed.field" && same_file "$WORK/keyed-probe.bin" "$WORK/keyed.field" "API key in a .sxcu form field: round trip" ||
  fail "API key in a .sxcu form field ($(tail -1 "$WORK/keyed.sxcu.err"))"
: > "$WORK/keyed.info"
for k in $key $jkey $ckey; do
  { "$SX" info --json "$k"; "$SX" info "$k"; } >>"$WORK/keyed.info" 2>&1
done
grep -q keyed-probe.bin "$WORK/keyed.info" || fail "API key: info shows no file name: $(head -3 "$WORK/keyed.info")"

# rm of an image-host key: the host names its images itself, so rm (which
# touches only objects named as sxengine names them, docs/SECURITY.md) leaves
# each alone, names it, and fails; the images stay.
if [ -n "$key" ]; then
  rc=0; "$SX" rm -q "$key" 2>"$WORK/rm-host.err" || rc=$?
  [ "$rc" -eq 1 ] && grep -q "object(s) the key names were left alone" "$WORK/rm-host.err" &&
    grep -q "^sxengine: skipped .*not named as sxengine names its objects" "$WORK/rm-host.err" &&
    pass "rm of an image-host key: every image left alone and named, exit 1" ||
    fail "rm of an image-host key: exit $rc: $(shown "$WORK/rm-host.err")"
  "$SX" pull -q "$key" "$WORK/keyed.after-rm" && same_file "$WORK/keyed-probe.bin" "$WORK/keyed.after-rm" \
    "a refused rm leaves the key pullable" || fail "a refused rm broke the key"
fi

# Wrong value: 401, and that value is not echoed either; unset: names the variable.
wrong="wrong-$SECRET-x"
expect_fail "wrong API key: HTTP 401" "HTTP 401" env SX_IMGHOST_KEY="$wrong" timeout 60 "$SX" push -q --backend host:keyed "$WORK/keyed-probe.bin"
env SX_IMGHOST_KEY="$wrong" timeout 60 "$SX" push --json --backend host:keyed "$WORK/keyed-probe.bin" >"$WORK/wrong.json" 2>"$WORK/wrong.err" &&
  fail "wrong API key, --json: push succeeded"
expect_fail "unset API key variable: named in the error" "SX_IMGHOST_KEY" env -u SX_IMGHOST_KEY timeout 60 "$SX" push -q --backend host:keyed "$WORK/keyed-probe.bin"
expect_fail "unset API key variable in a .sxcu field" "SX_IMGHOST_KEY" env -u SX_IMGHOST_KEY timeout 60 "$SX" push -q --backend "sxcu:$WORK/keyed-field.sxcu" "$WORK/keyed-probe.bin"
env -u SX_IMGHOST_KEY timeout 60 "$SX" push --json --backend host:keyed "$WORK/keyed-probe.bin" >"$WORK/unset.json" 2>"$WORK/unset.err"
[ $? -eq 2 ] && grep -q SX_IMGHOST_KEY "$WORK/unset.err" && grep -q '"event":"error"' "$WORK/unset.json" &&
  pass "unset API key variable, --json: exit 2, variable named, error event" ||
  fail "unset API key variable, --json: $(tail -1 "$WORK/unset.err")"
unset SX_IMGHOST_KEY

leaks=$(grep -lF -e "$SECRET" "$WORK"/keyed.* "$WORK"/wrong.* "$WORK"/unset.* "$WORK"/stderr.* 2>/dev/null)
[ -z "$leaks" ] && pass "API key: not in push/pull/info output (plain, --json, errors)" || fail "API key appears in: $leaks"
leaks=$(grep -rlF -e "$SECRET" "$WORK/keyed-store" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" 2>/dev/null)
[ -z "$leaks" ] && pass "API key: not in stored files, data or config dirs" || fail "API key appears in: $leaks"
# The stored images decoded: the --no-encrypt manifest is plain text in the
# pixels, so the file name is there (the search works) and the key must not be.
"$PY" - "$WORK/keyed-store" "$SECRET" <<'EOF' && pass "API key: not in the decoded pixels of any stored image" || fail "API key: decoded pixels"
import os, sys
from PIL import Image
d, secret = sys.argv[1], sys.argv[2].encode()
named = leaked = 0
for f in os.listdir(d):
    if f.endswith(".png"):
        px = Image.open(os.path.join(d, f)).tobytes()
        named += b"keyed-probe.bin" in px
        leaked += secret in px
print("stored manifests naming the file: %d, images holding the key: %d" % (named, leaked))
sys.exit(0 if named >= 1 and leaked == 0 else 1)
EOF

# --- The host's limits: 300000-byte bodies, 400x400 images.
random_file "$WORK/lim.bin" $((2000000 + 7))
lim_ok() {  # lim_ok WHAT KEY: pulls identical, pieces within 400x400
  local w h
  if ! "$SX" pull -q "$2" "$WORK/lim.out" 2>"$WORK/lim.err"; then fail "$1: pull ($(tail -1 "$WORK/lim.err"))"; return; fi
  same_file "$WORK/lim.bin" "$WORK/lim.out" "$1: round trip"
  rm -f "$WORK/lim.out"
  w=$(info_field "$2" width) h=$(info_field "$2" height)
  [ -n "$w" ] && [ "$w" -le 400 ] && [ "$h" -le 400 ] && pass "$1: pieces are ${w}x$h" || fail "$1: pieces are ${w}x$h"
}
if key=$(timeout 120 "$SX" push -q --backend host:limited "$WORK/lim.bin" 2>"$WORK/lim.err"); then
  lim_ok "profile with max_bytes/max_width/max_height, default piece size" "$key"
else
  fail "profile with max_bytes/max_width/max_height, default piece size: push exit $? ($(tail -1 "$WORK/lim.err"))"
fi
if key=$(timeout 120 "$SX" push -q --piece-size 256K --backend host:limited "$WORK/lim.bin" 2>"$WORK/lim.err"); then
  lim_ok "profile with limits, --piece-size 256K" "$key"
else
  fail "profile with limits, --piece-size 256K: push exit $? ($(tail -1 "$WORK/lim.err"))"
fi
if key=$(timeout 120 "$SX" push -q --backend "host:{\"url\": \"http://127.0.0.1:$limited_PORT/upload\", \"response_url\": \"/data/url\", \"max_bytes\": 300000}" "$WORK/lim.bin" 2>"$WORK/lim.err"); then
  lim_ok "profile with max_bytes only, default piece size" "$key"
else
  fail "profile with max_bytes only, default piece size: push exit $? ($(tail -1 "$WORK/lim.err"))"
fi
NOLIMITS="host:{\"url\": \"http://127.0.0.1:$limited_PORT/upload\", \"response_url\": \"/data/url\"}"
start=$SECONDS
expect_fail "no limits in the profile, 1M pieces: HTTP 413" "HTTP 413" timeout 60 "$SX" push -q --piece-size 1M --backend "$NOLIMITS" "$WORK/lim.bin"
expect_fail "no limits in the profile, 1000x50 pieces: HTTP 400" "HTTP 400" timeout 60 "$SX" push -q --width 1000 --height 50 --backend "$NOLIMITS" "$WORK/lim.bin"
[ $((SECONDS - start)) -le 20 ] && pass "413/400: failed in $((SECONDS - start)) s (not retried)" || fail "413/400 took $((SECONDS - start)) s"

# --- 429 + Retry-After: 2 uploads at a time, 0.2 s each, 8 in flight.
random_file "$WORK/busy.bin" $((4000000 + 3))
before=$(host_stat "$busy_PORT" stored)
if timeout 200 "$SX" push --json --piece-size 128K --parallel 8 --backend "host:{\"url\": \"http://127.0.0.1:$busy_PORT/upload\", \"response_url\": \"/data/url\"}" \
    "$WORK/busy.bin" >"$WORK/busy.json" 2>"$WORK/busy.err"; then
  key=$(last_key "$WORK/busy.json")
  "$SX" pull -q "$key" "$WORK/busy.out" && same_file "$WORK/busy.bin" "$WORK/busy.out" "429s: 4 MB, --parallel 8 against 2 slots: round trip" ||
    fail "429s: pull"
  "$PY" - "$WORK/busy.json" <<'EOF' && pass "429s: --json shows the retries" || fail "429s: --json retry events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
r = [e for e in ev if e.get("event") == "retry"]
s = [e for e in ev if e.get("event") == "summary"]
print("%d retry events, first: %s" % (len(r), r[:1]))
assert r and any("429" in e.get("reason", "") for e in r), r
assert len(s) == 1 and s[0].get("retries", 0) >= 1, s
EOF
  pieces=$(info_field "$key" pieces)
  after=$(host_stat "$busy_PORT" stored)
  [ -n "$pieces" ] && [ $((after - before)) -eq $((pieces + 1)) ] && pass "429s: $pieces pieces + manifest stored once each" ||
    fail "429s: host stored $((after - before)) images for ${pieces:-?} pieces + 1"
  [ "$(host_stat "$busy_PORT" rejected_429)" -gt 0 ] && pass "429s: the host did answer 429" || fail "429s: the host never answered 429"
else
  fail "429s: push exit $? ($(tail -1 "$WORK/busy.err"))"
fi

# 100 pushes in a row of 20 KB files (3 pieces + manifest each) through a host
# answering 429: all succeed, each pulls back identical, exactly 400 stored.
MANY="host:{\"url\": \"http://127.0.0.1:$many_PORT/upload\", \"response_url\": \"/data/url\"}"
mkdir -p "$WORK/many"
bad=0 start=$SECONDS
for i in $(seq 1 100); do
  random_file "$WORK/many/$i" 20000
  if ! timeout 60 "$SX" push -q --piece-size 8K --parallel 4 --backend "$MANY" "$WORK/many/$i" >"$WORK/many/$i.key" 2>>"$WORK/many.err"; then
    bad=$((bad + 1))
  fi
done
push_s=$((SECONDS - start))
echo "100 pushes: ${push_s} s, $(host_stat "$many_PORT" rejected_429) answers 429"
[ $bad -eq 0 ] && pass "100 pushes in a row through a 429-answering host" || fail "100 pushes: $bad failed ($(tail -1 "$WORK/many.err"))"
bad=0 start=$SECONDS
for i in $(seq 1 100); do
  if ! "$SX" pull -q "$(cat "$WORK/many/$i.key")" "$WORK/many/$i.out" 2>>"$WORK/many.err" || ! cmp -s "$WORK/many/$i" "$WORK/many/$i.out"; then
    bad=$((bad + 1))
  fi
done
echo "100 pulls: $((SECONDS - start)) s"
[ $bad -eq 0 ] && pass "100 pushes: every one pulls back identical" || fail "100 pushes: $bad lost or different"
stored=$(host_stat "$many_PORT" stored) pieces=$(info_field "$(cat "$WORK/many/1.key")" pieces)
[ -n "$pieces" ] && [ "$stored" -eq $((100 * (pieces + 1))) ] && pass "100 pushes: $stored images stored, none twice" ||
  fail "100 pushes: $stored images stored, expected 100 x (${pieces:-?} + 1)"
[ "$(host_stat "$many_PORT" rejected_429)" -gt 0 ] && pass "100 pushes: the host did answer 429" || fail "100 pushes: no 429 seen"

# --- Answers without the URL.
random_file "$WORK/small.bin" 5000
expect_fail "JSON answer without the pointer" "/nope" timeout 60 "$SX" push -q \
  --backend "host:{\"url\": \"http://127.0.0.1:$main_PORT/upload\", \"response_url\": \"/nope\"}" "$WORK/small.bin"
expect_fail "text answer not matching the pattern" "pattern" timeout 60 "$SX" push -q \
  --backend "host:{\"url\": \"http://127.0.0.1:$main_PORT/upload-text\", \"response_pattern\": \"https://nowhere\"}" "$WORK/small.bin"

finish
