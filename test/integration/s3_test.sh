# The S3 backend against a real Ceph RGW gateway (test/servers/ceph_fixture.sh):
# round trips, the stored objects as an independent client (boto3) sees them,
# fast clear errors for bad credentials, a missing bucket and an invalid bucket
# name, private vs public-read keys pulled without credentials, credentials
# from a profile file, and bench transfer --json.
source "$(dirname "$0")/lib.sh"
need curl /usr/bin/ceph-mon /usr/bin/ceph-osd /usr/bin/radosgw /usr/bin/radosgw-admin /usr/bin/ceph
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: the Ceph fixture needs root in CI" >&2; exit 1; fi
  echo "skip: the Ceph fixture needs root" >&2
  exit 77
fi
trap 'exit 143' TERM INT HUP   # run the EXIT cleanups (stop Ceph) when killed

# Not under $WORK: Ceph's admin socket paths must stay short.
CEPH_DIR=$(mktemp -d /tmp/sxceph.XXXX)
FIXTURE="$ROOT/test/servers/ceph_fixture.sh"
on_exit "rm -rf \"$CEPH_DIR\""
on_exit "\"$FIXTURE\" stop \"$CEPH_DIR\" >/dev/null 2>&1"
EP=$("$FIXTURE" start "$CEPH_DIR" 2>"$WORK/ceph-start.err") ||
  { echo "FAIL: the Ceph fixture did not start: $(tail -30 "$WORK/ceph-start.err")" >&2; exit 1; }
# shellcheck disable=SC1091
. "$CEPH_DIR/env"
B=$SX_TEST_BUCKET
RGW_LOG="$CEPH_DIR/log/client.rgw.log"
# No ~/.aws of whoever runs the test, and no stray AWS settings.
export HOME="$WORK/home"
mkdir -p "$HOME"
unset AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_DEFAULT_REGION
echo "ceph fixture: $EP in $CEPH_DIR"

s3check() { "$PY" "$ROOT/test/servers/s3_check.py" "$@"; }
# "${NOCREDS[@]}" CMD...: CMD with no credentials anywhere (env, profile, ~/.aws).
NOCREDS=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE
  -u AWS_SHARED_CREDENTIALS_FILE HOME="$WORK/emptyhome")
mkdir -p "$WORK/emptyhome"
ms_now() { echo $(($(date +%s%N) / 1000000)); }
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

# fast_fail WHAT PATTERN MAX_MS CMD...: expect_fail, and CMD ends within MAX_MS.
fast_fail() {
  local what=$1 pattern=$2 max=$3 t0 ms; shift 3
  t0=$(ms_now)
  expect_fail "$what" "$pattern" timeout 30 "$@"
  ms=$(($(ms_now) - t0))
  if [ "$ms" -lt "$max" ]; then pass "$what: failed in $ms ms"; else fail "$what: took $ms ms (limit $max ms)"; fi
}

# key_in_bucket KEY PREFIX WHAT: the key is ENDPOINT/BUCKET/PREFIX/<hex>.png, and
# boto3 lists exactly the pieces + the manifest under PREFIX/, each a PNG.
key_in_bucket() {
  local key=$1 prefix=$2 what=$3 pieces n=0 bad=0 size obj url=${1%%#*}
  # Encrypted by default: the manifest URL plus a #k= fragment.
  case "$key" in "$EP/$B/$prefix/"*.png'#k='*) ;; *) fail "$what: key $key is not under $EP/$B/$prefix/ with #k="; return ;; esac
  pieces=$("$SX" info --json "$key" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pieces"])') ||
    { fail "$what: info --json"; return; }
  s3check list "$B" "$prefix/" > "$WORK/list" || { fail "$what: s3_check.py list"; return; }
  grep -qx "[0-9]* $prefix/${url##*/}" "$WORK/list" || { fail "$what: manifest ${url##*/} not listed: $(cat "$WORK/list")"; return; }
  while read -r size obj; do
    n=$((n + 1))
    if s3check get "$B" "$obj" "$WORK/obj" && [ "$(stat -c %s "$WORK/obj")" -eq "$size" ] && is_png "$WORK/obj"; then :; else
      bad=1; echo "  $obj: not a PNG of $size bytes" >&2
    fi
  done < "$WORK/list"
  rm -f "$WORK/obj"
  [ "$n" -eq $((pieces + 1)) ] || { fail "$what: $n objects listed, expected $pieces pieces + 1 manifest"; return; }
  [ $bad -eq 0 ] && pass "$what: boto3 lists $pieces piece(s) + manifest, all PNGs" ||
    fail "$what: a stored object is not a PNG"
}

# roundtrip SIZE PREFIX WHAT PUSH-ARGS...
roundtrip() {
  local size=$1 prefix=$2 what=$3 key; shift 3
  random_file "$WORK/in.$prefix" "$size"
  key=$(timeout 60 "$SX" push -q --parallel 16 --backend "s3://$B/$prefix" "$@" "$WORK/in.$prefix") ||
    { fail "$what: push"; return; }
  key_in_bucket "$key" "$prefix" "$what"
  if timeout 60 "$SX" pull -q --parallel 16 "$key" "$WORK/out.$prefix"; then
    same_file "$WORK/in.$prefix" "$WORK/out.$prefix" "$what: round trip"
  else
    fail "$what: pull"
  fi
  rm -f "$WORK/in.$prefix" "$WORK/out.$prefix"
}

roundtrip 0 empty "0 bytes"
roundtrip 1 one "1 byte"
roundtrip 5000000 five "5 MB, 1M pieces" --piece-size 1M
roundtrip $((64 << 20)) big "64 MiB, default pieces"

# A private key (no --acl) for the error cases below.
random_file "$WORK/priv.bin" 700000
PRIV=$("$SX" push -q --piece-size 256K --backend "s3://$B/priv" "$WORK/priv.bin") || fail "push of the private key"
if timeout 60 "$SX" pull -q "$PRIV" "$WORK/priv.out"; then
  same_file "$WORK/priv.bin" "$WORK/priv.out" "private key pulls with credentials"
else
  fail "private key pull with credentials"
fi

# A wrong secret: SignatureDoesNotMatch at once (no retries), nothing stored / written.
fast_fail "push with a wrong secret" SignatureDoesNotMatch 10000 \
  env AWS_SECRET_ACCESS_KEY=wrong "$SX" push -q --backend "s3://$B/wrong" "$WORK/priv.bin"
listed=$(s3check list "$B" wrong/) && [ -z "$listed" ] && pass "wrong secret: nothing stored" || fail "wrong secret: objects stored under wrong/"
mkdir -p "$WORK/o-wrong"
fast_fail "pull with a wrong secret" SignatureDoesNotMatch 10000 \
  env AWS_SECRET_ACCESS_KEY=wrong "$SX" pull -q "$PRIV" "$WORK/o-wrong/out"
[ -z "$(ls -A "$WORK/o-wrong")" ] && pass "wrong secret pull leaves no file" || fail "wrong secret pull left: $(ls -A "$WORK/o-wrong")"

fast_fail "push with an unknown access key" InvalidAccessKeyId 10000 \
  env AWS_ACCESS_KEY_ID=nosuchaccesskey "$SX" push -q --backend "s3://$B/unknown" "$WORK/priv.bin"
fast_fail "push to a missing bucket" NoSuchBucket 10000 \
  "$SX" push -q --backend "s3://sxengine-no-such-bucket/x" "$WORK/priv.bin"

# An invalid bucket name is refused before any request reaches the gateway.
fast_fail "push to an invalid bucket name" "invalid S3 bucket name" 1000 \
  "$SX" push -q --backend "s3://Bad_Bucket/x" "$WORK/priv.bin"
mark="sxengine-log-mark-$$-$RANDOM"
curl -s -o /dev/null --max-time 10 "$EP/$B/$mark" || true
for ((i = 0; i < 50; i++)); do grep -q "$mark" "$RGW_LOG" && break; sleep 0.1; done
if ! grep -q "$mark" "$RGW_LOG"; then
  fail "invalid bucket name: marker request not in $RGW_LOG"
elif grep -qi "bad_bucket" "$RGW_LOG"; then
  fail "invalid bucket name: a request reached RGW: $(grep -i bad_bucket "$RGW_LOG" | head -1)"
else
  pass "invalid bucket name: no request reached RGW"
fi

# No credentials: a private key is AccessDenied, a public-read key pulls.
mkdir -p "$WORK/o-anon"
fast_fail "private key pulled without credentials" AccessDenied 10000 \
  "${NOCREDS[@]}" "$SX" pull -q "$PRIV" "$WORK/o-anon/out"
[ -z "$(ls -A "$WORK/o-anon")" ] && pass "AccessDenied pull leaves no file" || fail "AccessDenied pull left: $(ls -A "$WORK/o-anon")"
# Credentials but no endpoint named: nothing is signed for a host the user did
# not name, and the refusal says what to do.
expect_exit 5 "private key, credentials but no endpoint: says --endpoint and --acl public-read" \
  "--endpoint or AWS_ENDPOINT_URL.*--acl public-read" \
  env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 "$SX" pull -q "$PRIV" "$WORK/o-anon/out2"
random_file "$WORK/pub.bin" 3000000
if PUB=$("$SX" push -q --acl public-read --piece-size 1M --backend "s3://$B/pub" "$WORK/pub.bin"); then
  if "${NOCREDS[@]}" timeout 60 "$SX" pull -q "$PUB" "$WORK/pub.out"; then
    same_file "$WORK/pub.bin" "$WORK/pub.out" "public-read key pulls without credentials"
  else
    fail "public-read key pull without credentials"
  fi
  # the manifest as a plain unsigned GET equals what boto3 reads
  PUB_URL=${PUB%%#*}
  if curl -sf --max-time 30 -o "$WORK/pub.curl" "$PUB_URL" && s3check get "$B" "pub/${PUB_URL##*/}" "$WORK/pub.boto"; then
    same_file "$WORK/pub.curl" "$WORK/pub.boto" "public-read manifest: plain curl GET == boto3 get"
  else
    fail "public-read manifest: curl or boto3 get failed"
  fi
else
  fail "push --acl public-read"
fi

# Credentials from a shared credentials file and a named profile.
cred="$WORK/aws-credentials"
cat > "$cred" <<EOF
[default]
aws_access_key_id = nosuchaccesskey
aws_secret_access_key = wrong

[sxtest]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
EOF
PROFILE=("${NOCREDS[@]}" AWS_SHARED_CREDENTIALS_FILE="$cred" AWS_PROFILE=sxtest)
if KP=$("${PROFILE[@]}" timeout 60 "$SX" push -q --backend "s3://$B/profile" "$WORK/priv.bin"); then
  pass "push with credentials from AWS_PROFILE in AWS_SHARED_CREDENTIALS_FILE"
  if "${PROFILE[@]}" timeout 60 "$SX" pull -q "$KP" "$WORK/profile.out"; then
    same_file "$WORK/priv.bin" "$WORK/profile.out" "pull with credentials from the profile"
  else
    fail "pull with credentials from the profile"
  fi
  fast_fail "without AWS_PROFILE the [default] section is used" InvalidAccessKeyId 10000 \
    "${NOCREDS[@]}" AWS_SHARED_CREDENTIALS_FILE="$cred" "$SX" pull -q "$KP" "$WORK/o-anon/default"
else
  fail "push with credentials from a profile"
fi
mkdir -p "$WORK/home2/.aws"
sed 's/^\[sxtest\]$/[other]/; s/^\[default\]$/[sxtest]/; s/^\[other\]$/[default]/' "$cred" > "$WORK/home2/.aws/credentials"
if KH=$("${NOCREDS[@]}" HOME="$WORK/home2" timeout 60 "$SX" push -q --backend "s3://$B/home" "$WORK/priv.bin") &&
   "${NOCREDS[@]}" HOME="$WORK/home2" timeout 60 "$SX" pull -q "$KH" "$WORK/home.out"; then
  same_file "$WORK/priv.bin" "$WORK/home.out" "credentials from ~/.aws/credentials [default]"
else
  fail "credentials from ~/.aws/credentials [default]"
fi

# bench transfer against S3: one JSON object with the four rates.
if timeout 120 "$SX" bench transfer --backend "s3://$B/bench" --size 32M --rounds 1 --json > "$WORK/bench.json" 2>"$WORK/bench.err"; then
  "$PY" - "$WORK/bench.json" <<'EOF' && pass "bench transfer --json has push/pull/raw_put/raw_get rates" || fail "bench transfer --json: $(head -c 500 "$WORK/bench.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("push_mbps", "pull_mbps", "raw_put_mbps", "raw_get_mbps"):
    assert isinstance(d.get(k), (int, float)) and d[k] > 0, (k, d)
EOF
else
  fail "bench transfer: exit $? ($(tail -1 "$WORK/bench.err"))"
fi

# The secret never shows: not in --json events, progress, errors or manifests.
random_file "$WORK/sec.bin" 2000000
SK=$AWS_SECRET_ACCESS_KEY
"$SX" push --json --no-encrypt --compress none --piece-size 512K --backend "s3://$B/secret" "$WORK/sec.bin" \
  > "$WORK/sec.json" 2> "$WORK/sec.err"
skey=$("$PY" -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["key"])' < "$WORK/sec.json")
"$SX" info --json "$skey" >> "$WORK/sec.json" 2>> "$WORK/sec.err"
env AWS_ACCESS_KEY_ID=nosuchkey "$SX" push --json --backend "s3://$B/secret2" "$WORK/sec.bin" >> "$WORK/sec.json" 2>> "$WORK/sec.err"
s3check get "$B" "secret/${skey##*/}" "$WORK/sec.manifest.png" || fail "get the manifest object"
if grep -qa -- "$SK" "$WORK/sec.json" "$WORK/sec.err" "$WORK/sec.manifest.png"; then
  fail "the secret access key appears in output or in the manifest"
else
  pass "the secret appears in no output, error or manifest object"
fi

# A key from a stranger (here a local file:// manifest) whose manifest names
# objects in the user's own bucket on the configured endpoint: no request for
# them is signed (the key's manifest does not live there) and rm sends no
# DELETE there at all (they are not where the key lives); every object stays.
random_file "$WORK/victim.bin" 1500000
VKEY=$("$SX" push -q --piece-size 512K --backend "s3://$B/victim" "$WORK/victim.bin") || fail "push of the victim"
mkdir -p "$WORK/stranger/ab"
vurl=${VKEY%%#*}
s3check get "$B" "victim/${vurl##*/}" "$WORK/stranger/ab/${vurl##*/}" || fail "get the victim's manifest"
STRANGER="file://$WORK/stranger/ab/${vurl##*/}#${VKEY#*#}"
s3check list "$B" "victim/" > "$WORK/victim.before"
deletes_before=$(grep -c "DELETE /$B/victim/" "$RGW_LOG" 2>/dev/null || true)
rc=0; "$SX" pull -q "$STRANGER" "$WORK/stranger.out" 2>"$WORK/stranger.err" || rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$WORK/stranger.out" ] && pass "a stranger's key naming private objects on the endpoint: not signed, not read (exit $rc)" ||
  fail "a stranger's key read private objects with the user's credentials: exit $rc"
rc=0; "$SX" rm "$STRANGER" 2>"$WORK/stranger-rm.err" || rc=$?
s3check list "$B" "victim/" > "$WORK/victim.after"
deletes_after=$(grep -c "DELETE /$B/victim/" "$RGW_LOG" 2>/dev/null || true)
[ "$rc" -eq 1 ] && cmp -s "$WORK/victim.before" "$WORK/victim.after" && [ "$deletes_after" = "$deletes_before" ] &&
  grep -q "skipped .*$B/victim/.*not where any of the key's manifest copies lives" "$WORK/stranger-rm.err" &&
  pass "rm of the stranger's key: every object in the bucket left alone and named, no DELETE reached RGW" ||
  fail "rm of the stranger's key: exit $rc, $(diff "$WORK/victim.before" "$WORK/victim.after" | head -2), DELETEs $deletes_before -> $deletes_after: $(shown "$WORK/stranger-rm.err")"
"$SX" pull -q "$VKEY" "$WORK/victim.out" && same_file "$WORK/victim.bin" "$WORK/victim.out" "the victim's own key still pulls" ||
  fail "the victim's key broke"

# rm deletes every object of the key (signed DELETEs); the key then does not pull.
if "$SX" rm -q "$PRIV" 2>"$WORK/rm.err"; then
  s3check list "$B" "priv/" > "$WORK/rm.list" || fail "rm: s3_check.py list"
  [ ! -s "$WORK/rm.list" ] && pass "rm: no object left under priv/" || fail "rm: left $(head -3 "$WORK/rm.list")"
  expect_exit 3 "pull after rm: not found" "NoSuchKey\|not found\|404" "$SX" pull -q "$PRIV" "$WORK/after-rm"
else
  fail "rm of an S3 key: $(tail -1 "$WORK/rm.err")"
fi

finish
