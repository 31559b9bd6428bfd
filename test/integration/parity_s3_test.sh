# Parity over a mix of backends: Ceph RGW (S3, signed, private objects) as
# one of three with two nginx servers (issue 15). Push --parity 1; pull
# exact with all up, with the S3 gateway's bucket prefix emptied (every S3
# piece 404s: rebuilt from the nginx pieces), and with one nginx stopped
# (the S3 pieces are read signed); verify counts per backend; repair puts
# the S3 pieces back when given the S3 backend.
source "$(dirname "$0")/lib.sh"
need curl /usr/sbin/nginx /usr/bin/ceph-mon /usr/bin/ceph-osd /usr/bin/radosgw /usr/bin/radosgw-admin /usr/bin/ceph
if [ "$(id -u)" -ne 0 ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: the Ceph fixture needs root in CI" >&2; exit 1; fi
  echo "skip: the Ceph fixture needs root" >&2
  exit 77
fi
trap 'exit 143' TERM INT HUP
CEPH_DIR=$(mktemp -d /tmp/sxceph.XXXX)
CEPH="$ROOT/test/servers/ceph_fixture.sh"
NGINX="$ROOT/test/servers/nginx_fixture.sh"
on_exit "rm -rf \"$CEPH_DIR\""
on_exit "\"$CEPH\" stop \"$CEPH_DIR\" >/dev/null 2>&1"
EP=$("$CEPH" start "$CEPH_DIR" 2>"$WORK/ceph-start.err") ||
  { echo "FAIL: the Ceph fixture did not start: $(tail -30 "$WORK/ceph-start.err")" >&2; exit 1; }
# shellcheck disable=SC1091
. "$CEPH_DIR/env"
B=$SX_TEST_BUCKET
export HOME="$WORK/home"
mkdir -p "$HOME"
unset AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_DEFAULT_REGION
for i in 1 2; do
  URL[$i]=$("$NGINX" start "$WORK/nginx$i") || { echo "FAIL: nginx $i did not start" >&2; exit 1; }
  on_exit "\"$NGINX\" stop \"$WORK/nginx$i\" >/dev/null 2>&1"
done
s3check() { "$PY" "$ROOT/test/servers/s3_check.py" "$@"; }

IN="$WORK/in.bin"
random_file "$IN" $((3 * 1024 * 1024 + 77))   # 13 pieces of 256 KiB: 7 stripes
KEY=$(timeout 60 "$SX" push -q --piece-size 256K --parity 1 --backend "s3://$B/par" \
  --backend "${URL[1]}p/" --backend "${URL[2]}p/" "$IN") || { fail "push over S3 + 2 nginx"; finish; }
case "$KEY" in "$EP/$B/par/"*'#k='*'&m='*'&m='*) pass "the key leads to the S3 copy first, then the nginx copies" ;;
  *) fail "key: $KEY" ;; esac
s3check list "$B" "par/" > "$WORK/list" || fail "s3_check.py list"
n=$(wc -l < "$WORK/list")
[ "$n" -ge 7 ] && pass "the S3 bucket holds its share ($n objects, seen by boto3)" || fail "S3 holds $n objects"
timeout 60 "$SX" pull -q "$KEY" "$WORK/up.bin" && same_file "$IN" "$WORK/up.bin" "pull, S3 + 2 nginx all up"

"$NGINX" stop "$WORK/nginx1" >/dev/null
timeout 60 "$SX" pull -q "$KEY" "$WORK/no-nginx1.bin" && same_file "$IN" "$WORK/no-nginx1.bin" \
  "pull with nginx 1 stopped: S3 pieces read signed, the rest rebuilt"
URL[1]=$("$NGINX" start "$WORK/nginx1")  # a new port: its pieces are lost to the key
timeout 60 "$SX" verify "$KEY" > "$WORK/verify.out" 2>/dev/null
grep -q "^backend 2 (http://127.0.0.1:[0-9]*): 0 present, [0-9]* missing" "$WORK/verify.out" &&
  grep -q "^backend 1 ($EP): [0-9]* present, 0 missing, 0 corrupt" "$WORK/verify.out" &&
  grep -q "every one recoverable" "$WORK/verify.out" &&
  pass "verify: the S3 backend whole, the lost nginx counted missing, recoverable" ||
  fail "verify: $(shown "$WORK/verify.out")"

# The S3 share deleted (an independent client): every S3 piece and the S3 copy 404.
s3_delete_listed() {  # s3_delete_listed LISTFILE: delete each "SIZE KEY" line's object with boto3
  "$PY" - "$B" "$1" <<'EOF2'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for line in open(sys.argv[2]):
    s3.delete_object(Bucket=sys.argv[1], Key=line.split(None, 1)[1].strip())
EOF2
}
s3_delete_listed "$WORK/list"
[ "$(s3check list "$B" "par/" | wc -l)" -eq 0 ] && pass "the S3 share is gone" || fail "S3 objects remain"
# nginx 1 is on a new port, so its pieces are lost too: two of three gone.
expect_line any "S3 gone and nginx 1 moved: a clear error" "stripe" timeout 60 "$SX" pull -q "$KEY" "$WORK/lost.bin"
[ ! -e "$WORK/lost.bin" ] && pass "nothing under the final name" || fail "$WORK/lost.bin exists"

# A fresh push; the S3 share wiped; repair puts it back in place (same key), and, wiped
# again, repair --backend s3://… onto a replacement (new key).
KEY2=$(timeout 60 "$SX" push -q --piece-size 256K --parity 1 --backend "s3://$B/par2" \
  --backend "${URL[1]}p/" --backend "${URL[2]}p/" "$IN") || fail "second push"
s3check list "$B" "par2/" > "$WORK/list2"
s3_delete_listed "$WORK/list2"
timeout 60 "$SX" pull -q "$KEY2" "$WORK/no-s3.bin" && same_file "$IN" "$WORK/no-s3.bin" \
  "pull with the S3 share deleted (404s): rebuilt, the nginx manifest copy used"
# repair KEY puts the S3 pieces back where they were, signed: the key is unchanged.
SAMEKEY=$(timeout 60 "$SX" repair -q "$KEY2") && pass "repair in place onto S3" || fail "repair in place onto S3"
[ "$SAMEKEY" = "$KEY2" ] && pass "repair in place keeps the key" || fail "repair in place printed $SAMEKEY"
[ "$(s3check list "$B" "par2/" | wc -l)" -eq "$(wc -l < "$WORK/list2")" ] &&
  pass "every S3 object is back under its name" || fail "S3 objects after repair: $(s3check list "$B" "par2/" | wc -l)"
timeout 60 "$SX" verify -q "$KEY2" >/dev/null 2>&1 && pass "verify after repair in place: ok" ||
  fail "verify after repair in place"
s3_delete_listed "$WORK/list2"
NEWKEY=$(timeout 60 "$SX" repair -q --backend "s3://$B/fixed" "$KEY2") && pass "repair --backend s3://…" ||
  fail "repair --backend s3"
[ -n "$NEWKEY" ] && [ "$NEWKEY" != "$KEY2" ] && pass "repair onto a replacement prints a new key" || fail "key: $NEWKEY"
timeout 60 "$SX" verify -q "$NEWKEY" >/dev/null 2>&1 && pass "verify of the repaired key: ok" || fail "verify after repair"
"$NGINX" stop "$WORK/nginx2" >/dev/null
timeout 60 "$SX" pull -q "$NEWKEY" "$WORK/fixed.bin" && same_file "$IN" "$WORK/fixed.bin" \
  "repaired key, nginx 2 stopped: pulled exact"
finish
