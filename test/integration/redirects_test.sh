# Redirects are followed a bounded number of times and never from https to
# http (a downgrade would expose the transfer).
source "$(dirname "$0")/lib.sh"
need openssl curl
SX=$(cd "$(dirname "$SX")" && pwd)/$(basename "$SX")

start_nginx
random_file "$WORK/f.bin" 300000
key=$("$SX" push -q --no-encrypt --piece-size 64K --backend "${NGINX_URL}r/" "$WORK/f.bin")
path=${key#"$NGINX_URL"}

# An endless chain of redirects ends with a clear error, not retried forever.
start_py_server loop redirect_server.py --mode loop --max-seconds 120
start=$SECONDS
expect_fail "an endless redirect chain" "redirect" timeout 60 "$SX" pull -q "http://127.0.0.1:$loop_PORT/r/0" "$WORK/loop.out"
[ $((SECONDS - start)) -lt 10 ] && pass "gave up in $((SECONDS - start)) s" || fail "took $((SECONDS - start)) s"

# A redirect to the real object over http works (http -> http is allowed).
start_py_server plain redirect_server.py --mode to --target "$NGINX_URL" --max-seconds 120
"$SX" pull -q "http://127.0.0.1:$plain_PORT/$path" "$WORK/plain.out" &&
  same_file "$WORK/f.bin" "$WORK/plain.out" "http -> http redirect is followed"

# https -> http is refused even with --insecure (the self-signed test cert).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || { fail "openssl could not make a test certificate"; finish; }
start_py_server tls redirect_server.py --mode to --target "$NGINX_URL" --tls "$WORK/cert.pem" "$WORK/key.pem" --max-seconds 120
curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$tls_PORT/x" | grep -q 302 && pass "the TLS redirector answers 302" || fail "TLS redirector"
expect_fail "https -> http redirect is refused" "away from https" timeout 60 "$SX" pull -q --insecure --retries 1 \
  "https://127.0.0.1:$tls_PORT/$path" "$WORK/tls.out"
[ ! -e "$WORK/tls.out" ] && pass "nothing written after a refused downgrade" || fail "tls.out written"
# Without --insecure the self-signed certificate itself is refused.
expect_fail "TLS verification is on by default" "certificate\|SSL" timeout 60 "$SX" pull -q --retries 1 \
  "https://127.0.0.1:$tls_PORT/$path" "$WORK/tls2.out"

finish
