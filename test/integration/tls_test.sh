# Networks as users have them: a private CA (--cacert, SSL_CERT_FILE,
# CURL_CA_BUNDLE), HTTP/2 over TLS (nginx's access log shows it; --http1.1
# forces the old way), IPv6 loopback keys, and an HTTPS proxy (tinyproxy,
# named by HTTPS_PROXY and by --proxy, its log showing the CONNECTs).
# Everything on 127.0.0.1 and [::1], certificates made here by openssl.
source "$(dirname "$0")/lib.sh"
need /usr/bin/openssl /usr/sbin/nginx
case $SX in /*) ;; *) SX=$PWD/$SX ;; esac

# ---- A test CA and a server certificate for 127.0.0.1, ::1 and localhost --------------
PKI="$WORK/pki"
mkdir -p "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sxengine test CA" \
  -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null || { fail "openssl: CA"; finish; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$PKI/server.key" -out "$PKI/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$PKI/ext.cnf"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
  -extfile "$PKI/ext.cnf" -out "$PKI/server.pem" 2>/dev/null || { fail "openssl: server certificate"; finish; }
mkdir -p "$PKI/hashed" && cp "$PKI/ca.pem" "$PKI/hashed/" && openssl rehash "$PKI/hashed" 2>/dev/null ||
  c_rehash "$PKI/hashed" >/dev/null 2>&1

export NGINX_TLS_CERT="$PKI/server.pem" NGINX_TLS_KEY="$PKI/server.key"
start_nginx
unset NGINX_TLS_CERT NGINX_TLS_KEY
case "$NGINX_URL" in https://127.0.0.1:*) pass "nginx serves HTTPS: $NGINX_URL" ;; *) fail "nginx URL $NGINX_URL"; finish ;; esac
PORT=${NGINX_URL##*:}; PORT=${PORT%/}
LOG="$NGINX_DIR/access.log"
random_file "$WORK/f.bin" 20000000

# pulled_with WHAT OUT CMD...: CMD pulls $key to OUT, identical to the source.
pulled_with() {
  local what=$1 out=$2; shift 2
  if "$@" "$key" "$out" 2>"$WORK/pw.err"; then same_file "$WORK/f.bin" "$out" "$what"; else fail "$what: $(tail -1 "$WORK/pw.err")"; fi
}

# ---- Trusting the private CA ------------------------------------------------------------
if key=$("$SX" push -q --cacert "$PKI/ca.pem" --piece-size 1M --parallel 16 --backend "${NGINX_URL}ca/" "$WORK/f.bin" 2>"$WORK/err"); then
  pulled_with "--cacert: push and pull over TLS" "$WORK/ca.out" "$SX" pull -q --cacert "$PKI/ca.pem"
else
  fail "--cacert push: $(tail -1 "$WORK/err")"
fi
h2=$(grep -c '"PUT /ca/.* HTTP/2.0"' "$LOG"); h2get=$(grep -c '"GET /ca/.* HTTP/2.0"' "$LOG")
[ "$h2" -ge 20 ] && [ "$h2get" -ge 20 ] && pass "HTTP/2 by default: $h2 PUTs and $h2get GETs over HTTP/2.0" ||
  fail "HTTP/2 by default: $h2 PUTs, $h2get GETs over HTTP/2.0 in the access log"
# As curl reads them: CURL_CA_BUNDLE first, then SSL_CERT_FILE (this machine may set both to the system bundle).
pulled_with "SSL_CERT_FILE is honoured" "$WORK/env.out" env -u CURL_CA_BUNDLE SSL_CERT_FILE="$PKI/ca.pem" "$SX" pull -q
pulled_with "CURL_CA_BUNDLE is honoured" "$WORK/curlenv.out" env CURL_CA_BUNDLE="$PKI/ca.pem" "$SX" pull -q
pulled_with "--capath is honoured" "$WORK/capath.out" env -u CURL_CA_BUNDLE -u SSL_CERT_FILE "$SX" pull -q --capath "$PKI/hashed"
expect_exit 5 "no CA: a clear message naming --cacert" "certificate.*--cacert FILE or --capath DIR" \
  env -u SSL_CERT_FILE -u CURL_CA_BUNDLE -u SSL_CERT_DIR "$SX" pull -q "$key" "$WORK/noca.out"
[ ! -e "$WORK/noca.out" ] && pass "no CA: nothing written" || fail "no CA: a file was written"

# ---- HTTP/1.1 on demand ------------------------------------------------------------------
before=$(grep -c 'HTTP/1.1"' "$LOG")
"$SX" push -q --http1.1 --cacert "$PKI/ca.pem" --piece-size 1M --backend "${NGINX_URL}h1/" "$WORK/f.bin" >/dev/null &&
  [ "$(grep -c '"PUT /h1/.* HTTP/1.1"' "$LOG")" -ge 20 ] && [ "$(grep -c '"PUT /h1/.* HTTP/2.0"' "$LOG")" -eq 0 ] &&
  pass "--http1.1: every PUT over HTTP/1.1" || fail "--http1.1: $(grep -c '/h1/' "$LOG") requests, $(( $(grep -c 'HTTP/1.1"' "$LOG") - before )) over 1.1"

# ---- IPv6 loopback: keys with [::1] --------------------------------------------------------
if k6=$("$SX" push -q --cacert "$PKI/ca.pem" --piece-size 1M --backend "https://[::1]:$PORT/v6/" "$WORK/f.bin" 2>"$WORK/err6"); then
  case "$k6" in "https://[::1]:$PORT/v6/"*) pass "an [::1] backend gives an [::1] key" ;; *) fail "[::1] key: $k6" ;; esac
  if "$SX" pull -q --cacert "$PKI/ca.pem" "$k6" "$WORK/v6.out"; then same_file "$WORK/f.bin" "$WORK/v6.out" "pull of an [::1] key"
  else fail "pull of an [::1] key"; fi
  "$SX" info --cacert "$PKI/ca.pem" "$k6" >/dev/null && pass "info of an [::1] key" || fail "info of an [::1] key"
else
  fail "push to https://[::1]:$PORT/: $(tail -1 "$WORK/err6")"
fi

# ---- Through a proxy: tinyproxy on 127.0.0.1 --------------------------------------------------
if [ -x /usr/bin/tinyproxy ]; then
  PP=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$WORK/tinyproxy.conf" <<CONF
Port $PP
Listen 127.0.0.1
Timeout 60
LogFile "$WORK/tinyproxy.log"
LogLevel Connect
PidFile "$WORK/tinyproxy.pid"
MaxClients 64
Allow 127.0.0.1
BasicAuth sxuser sxsecret
CONF
  /usr/bin/tinyproxy -d -c "$WORK/tinyproxy.conf" >"$WORK/tinyproxy.out" 2>&1 &
  TP=$!
  on_exit "kill $TP 2>/dev/null"
  for ((i = 0; i < 100; i++)); do
    "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$PP),0.2)" 2>/dev/null && break
    sleep 0.05
  done
  pulled_with "HTTPS_PROXY: a pull through tinyproxy" "$WORK/proxied.out" \
    env -u NO_PROXY -u no_proxy HTTPS_PROXY="http://sxuser:sxsecret@127.0.0.1:$PP" "$SX" pull -q --cacert "$PKI/ca.pem"
  n=$(grep -c "CONNECT" "$WORK/tinyproxy.log" 2>/dev/null || echo 0)
  [ "$n" -ge 1 ] && pass "tinyproxy's log shows $n CONNECT(s)" || fail "tinyproxy saw no CONNECT: $(tail -3 "$WORK/tinyproxy.log")"
  before=$n
  if "$SX" push -q --proxy "http://sxuser:sxsecret@127.0.0.1:$PP" --cacert "$PKI/ca.pem" --piece-size 1M \
       --backend "${NGINX_URL}px/" "$WORK/f.bin" >"$WORK/px.key" 2>"$WORK/px.err" &&
     "$SX" pull -q --cacert "$PKI/ca.pem" "$(cat "$WORK/px.key")" "$WORK/px.out"; then
    same_file "$WORK/f.bin" "$WORK/px.out" "--proxy: a push through tinyproxy"
  else
    fail "--proxy push: $(tail -1 "$WORK/px.err")"
  fi
  [ "$(grep -c CONNECT "$WORK/tinyproxy.log")" -gt "$before" ] && pass "--proxy: the push went through the proxy" || fail "--proxy: no new CONNECT"
  # Wrong proxy credentials: refused, and the password appears nowhere in what we print.
  env HTTPS_PROXY="http://sxuser:wrongsecret@127.0.0.1:$PP" "$SX" pull --json --retries 0 --cacert "$PKI/ca.pem" "$key" "$WORK/bad.out" \
    >"$WORK/badproxy.json" 2>"$WORK/badproxy.err" && fail "wrong proxy credentials: the pull succeeded"
  if grep -q "wrongsecret" "$WORK/badproxy.json" "$WORK/badproxy.err"; then fail "proxy password printed: $(cat "$WORK/badproxy.err")"
  else pass "wrong proxy credentials: refused, password never printed ($(tail -1 "$WORK/badproxy.err"))"; fi
else
  [ "${CI:-}" = true ] && fail "tinyproxy is missing in CI" || echo "note: tinyproxy not installed; proxy cases skipped" >&2
fi


# ---- Ceph RGW over TLS (beast's ssl_endpoint), trusted through AWS_CA_BUNDLE ----------------
if [ -x /usr/bin/radosgw ]; then
  CEPH_DIR=$(mktemp -d /tmp/sxceph.XXXX)  # short: Ceph's admin socket paths
  on_exit "rm -rf \"$CEPH_DIR\""
  on_exit "\"$ROOT/test/servers/ceph_fixture.sh\" stop \"$CEPH_DIR\" >/dev/null 2>&1"
  if CEPH_TLS_CERT="$PKI/server.pem" CEPH_TLS_KEY="$PKI/server.key" \
       "$ROOT/test/servers/ceph_fixture.sh" start "$CEPH_DIR" >/dev/null 2>"$WORK/ceph.err"; then
    (
      . "$CEPH_DIR/env"
      export HOME="$WORK/home" AWS_ENDPOINT_URL="$SX_TEST_TLS_ENDPOINT"
      mkdir -p "$HOME"
      unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR AWS_CONFIG_FILE AWS_PROFILE
      if k=$(AWS_CA_BUNDLE="$PKI/ca.pem" "$SX" push -q --piece-size 1M --backend "s3://$SX_TEST_BUCKET/tls" "$WORK/f.bin" 2>"$WORK/s3tls.err"); then
        case "$k" in https://127.0.0.1:*) pass "Ceph RGW over TLS: an https key" ;; *) fail "RGW TLS key: $k" ;; esac
        if AWS_CA_BUNDLE="$PKI/ca.pem" "$SX" pull -q "$k" "$WORK/s3tls.out"; then
          same_file "$WORK/f.bin" "$WORK/s3tls.out" "AWS_CA_BUNDLE: push and pull against RGW over TLS"
        else fail "AWS_CA_BUNDLE pull"; fi
        printf '[default]\nca_bundle = %s\n' "$PKI/ca.pem" > "$WORK/aws-config"
        if env -u AWS_CA_BUNDLE AWS_CONFIG_FILE="$WORK/aws-config" "$SX" pull -q "$k" "$WORK/s3cfg.out"; then
          same_file "$WORK/f.bin" "$WORK/s3cfg.out" "ca_bundle in the AWS config profile"
        else fail "ca_bundle in the AWS config profile"; fi
        expect_exit 5 "RGW over TLS without the CA: names AWS_CA_BUNDLE" "AWS_CA_BUNDLE" \
          env -u AWS_CA_BUNDLE "$SX" pull -q "$k" "$WORK/s3noca.out"
      else
        fail "push to RGW over TLS: $(tail -1 "$WORK/s3tls.err")"
      fi
      [ "$FAILURES" -eq 0 ]
    ) || FAILURES=$((FAILURES + 1))
  else
    fail "the Ceph fixture with TLS did not start: $(tail -5 "$WORK/ceph.err")"
  fi
else
  [ "${CI:-}" = true ] && fail "radosgw is missing in CI" || echo "note: radosgw not installed; RGW TLS skipped" >&2
fi

finish
