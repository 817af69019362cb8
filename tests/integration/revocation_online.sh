#!/usr/bin/env bash
# Online revocation in `gostsign verify`: a real `openssl ocsp` responder (GOST engine through an
# engine config, responses signed by a delegated responder certificate or by the CA) and a real
# HTTP server (python3 -m http.server) serving the CRL, both reached on 127.0.0.1 through the
# AIA / CDP URLs the test PKI puts into the certificates. Good, revoked, unknown, a foreign
# responder signature, an unreachable responder (closed port), a server that never answers
# (timeout), the CRL cache honouring nextUpdate, and --json. `openssl ocsp` as a client agrees
# with each OCSP verdict.
. "$(dirname "$0")/lib.sh"
export LANG=C.UTF-8 LC_ALL= LC_MESSAGES= # the report greps below are in English
n() { error_number "$1"; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY
export XDG_CACHE_HOME=$WORK/cache
OCSP_PORT=$(free_port)
HTTP_PORT=$(free_port)
CLOSED_PORT=$(free_port) # nobody listens there
cd "$WORK"
write_gost_openssl_conf gost.cnf
PIDS=()
OCSP_STARTS=0
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
PKI=$WORK/pki
PKI_OCSP_URL=http://127.0.0.1:$OCSP_PORT/ PKI_CRL_URL=http://127.0.0.1:$HTTP_PORT/ca.crl \
    bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$PKI" >/dev/null

# The responder's index lacks `other`: it is "unknown" to OCSP (and good in the CRL).
other_serial=$(ossl x509 -in "$PKI/other.pem" -noout -serial | cut -d= -f2)
grep -v "	$other_serial	" "$PKI/db/index.txt" >index.txt
cp "$PKI/db/index.txt.attr" index.txt.attr # unique_subject = no
touch ocsp.log
start_ocsp() { # start_ocsp SIGNER_CERT SIGNER_KEY [PORT]
    OPENSSL_CONF=$WORK/gost.cnf openssl ocsp -index index.txt -port "${3:-$OCSP_PORT}" -rsigner "$1" \
        -rkey "$2" -CA "$PKI/ca.pem" -rmd md_gost12_256 -nmin 5 -ignore_err >>ocsp.log 2>&1 &
    OCSP_PID=$!
    PIDS+=("$OCSP_PID")
    # (wait for its log line: a probe connection would occupy the single-threaded responder)
    OCSP_STARTS=$((OCSP_STARTS + 1))
    for _ in $(seq 50); do
        [ "$(grep -c 'waiting for OCSP client' ocsp.log)" -lt "$OCSP_STARTS" ] || return 0
        sleep 0.1
    done
    cat ocsp.log
    fail "OCSP responder did not start"
}
stop_ocsp() { kill "$OCSP_PID"; wait "$OCSP_PID" 2>/dev/null || true; }
mkdir srv
ossl crl -in "$PKI/ca.crl" -outform DER -out srv/ca.crl # distribution points serve DER
python3 -m http.server --bind 127.0.0.1 --directory srv "$HTTP_PORT" >http.log 2>&1 &
HTTP_PID=$!
PIDS+=("$HTTP_PID")
start_ocsp "$PKI/ocsp.pem" "$PKI/ocsp.key"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break; sleep 0.1; done
crl_gets() { grep -c 'GET /ca.crl' http.log || true; }

printf 'Вход в личный кабинет\n' >doc.txt
for who in employee revoked other employee512; do
    "$GOSTSIGN" sign --key-file "$PKI/$who.key" --cert "$PKI/$who.pem" doc.txt -o "$who.p7s" 2>/dev/null
done
verify() { "$GOSTSIGN" verify --content doc.txt --ca-dir "$PKI/cadir" --timeout 5 "$@"; }
ossl_ocsp() { # what `openssl ocsp` as a client says about NAME
    OPENSSL_CONF=$WORK/gost.cnf openssl ocsp -issuer "$PKI/ca.pem" -cert "$PKI/$1.pem" \
        -url "http://127.0.0.1:$OCSP_PORT/" -CAfile "$PKI/ca.pem" 2>&1 | grep "$1.pem:" | awk '{print $2}'
}

# ---- good, revoked, unknown through OCSP (delegated responder)
expect_status 0 verify --ocsp employee.p7s
grep -q 'OCSP: *good' out || { cat out; fail "OCSP good not shown"; }
[ "$(ossl_ocsp employee)" = good ] || fail "openssl ocsp disagrees: employee"
ok "OCSP (delegated responder): employee good (openssl ocsp agrees)"
expect_status 0 verify --ocsp employee512.p7s
ok "OCSP: 512-bit employee good"
expect_status "$(n CERT_REVOKED)" verify --ocsp revoked.p7s
[ "$(ossl_ocsp revoked)" = revoked ] || fail "openssl ocsp disagrees: revoked"
ok "OCSP: revoked certificate is CERT_REVOKED (openssl ocsp agrees)"
expect_status "$(n REVOCATION_UNKNOWN)" verify --ocsp other.p7s
[ "$(ossl_ocsp other)" = unknown ] || fail "openssl ocsp disagrees: other"
grep -q 'does not know' err || fail "unknown not explained"
ok "OCSP: certificate missing from the responder's index is REVOCATION_UNKNOWN, a warning, not a pass"

# ---- the CRL from the distribution point, and both sources together
expect_status 0 verify --crl-dp employee.p7s
grep -q "CRL (distribution point): *good (http://127.0.0.1:$HTTP_PORT/ca.crl)" out ||
    { cat out; fail "CDP verdict not shown"; }
[ "$(crl_gets)" = 1 ] || fail "the CRL was not fetched exactly once"
ok "CRL distribution point over HTTP: employee good"
expect_status "$(n CERT_REVOKED)" verify --crl-dp revoked.p7s
[ "$(crl_gets)" = 1 ] || fail "the cached CRL was fetched again before nextUpdate"
ls "$XDG_CACHE_HOME"/gostsign/crl/*.crl >/dev/null || fail "no CRL in the cache"
cmp -s "$XDG_CACHE_HOME"/gostsign/crl/*.crl srv/ca.crl || fail "cache differs from the served CRL"
ok "CDP: revoked is CERT_REVOKED, answered from the on-disk cache (\$XDG_CACHE_HOME/gostsign/crl)"
expect_status 0 verify --online other.p7s
ok "--online: OCSP unknown but the CRL says good: valid"
expect_status "$(n CERT_REVOKED)" verify --online revoked.p7s
ok "--online: revoked"

# ---- JSON for the cabinet
expect_status 0 verify --online --json employee.p7s
python3 - out <<'EOF' || fail "JSON verdict"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["valid"] is True and v["code"] == "OK" and v["warning"] is False, v
assert v["chain"] == "verified" and v["ocsp"]["status"] == "good" and v["crl"]["status"] == "good", v
assert v["crl"]["cached"] is True and v["signer"]["subject"]["inn"] == "500100732259", v
assert v["signing_time"].endswith("Z")
EOF
ok "--json: valid, chain verified, ocsp good, crl good (cached), signer model, signing_time"

# ---- a CRL whose nextUpdate has passed is fetched again
(cd "$PKI" && ossl ca -engine gost -config openssl.cnf -batch -cert ca.pem -keyfile ca.key -gencrl \
    -crlsec 1 -out "$WORK/short.crl" 2>/dev/null) || fail "short CRL"
sleep 2
ossl crl -in short.crl -outform DER -out "$(ls "$XDG_CACHE_HOME"/gostsign/crl/*.crl)"
expect_status 0 verify --crl-dp employee.p7s
[ "$(crl_gets)" = 2 ] || fail "an expired cached CRL was not fetched again"
cmp -s "$XDG_CACHE_HOME"/gostsign/crl/*.crl srv/ca.crl || fail "cache not refreshed"
ok "an expired cached CRL (nextUpdate passed) is downloaded again and the cache refreshed"
cp srv/ca.crl good.crl.der
ossl crl -in short.crl -outform DER -out srv/ca.crl
rm -rf "$XDG_CACHE_HOME"
expect_status "$(n CRL_INVALID)" verify --crl-dp employee.p7s
ok "the server hands out an expired CRL: CRL_INVALID"
cp good.crl.der srv/ca.crl

# ---- a responder whose signature the issuer did not authorise: OCSP_INVALID
mkdir -p other-ca
ossl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:A -out other-ca/ca.key 2>/dev/null
ossl req -engine gost -new -x509 -key other-ca/ca.key -md_gost12_256 -days 30 -subj '/CN=Чужой OCSP' \
    -out other-ca/ca.pem 2>/dev/null
stop_ocsp
start_ocsp other-ca/ca.pem other-ca/ca.key
expect_status "$(n OCSP_INVALID)" verify --ocsp employee.p7s
ok "OCSP response signed by a foreign key: OCSP_INVALID"
stop_ocsp
start_ocsp "$PKI/ca.pem" "$PKI/ca.key"
expect_status 0 verify --ocsp employee.p7s
expect_status "$(n CERT_REVOKED)" verify --ocsp revoked.p7s
ok "OCSP responses signed by the CA itself: good and revoked"

# ---- no network: a distinct warning, never a pass
stop_ocsp
expect_status "$(n REVOCATION_UNREACHABLE)" verify --ocsp employee.p7s
grep -q 'revocation status is NOT confirmed' out || fail "the warning is not on stdout"
ok "OCSP responder down (closed port): REVOCATION_UNREACHABLE"
kill "$HTTP_PID"
wait "$HTTP_PID" 2>/dev/null || true
rm -rf "$XDG_CACHE_HOME"
expect_status "$(n REVOCATION_UNREACHABLE)" verify --online employee.p7s
expect_status "$(n REVOCATION_UNREACHABLE)" verify --online --json employee.p7s
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["valid"] is False and v["warning"] is True and v["code"]=="REVOCATION_UNREACHABLE" and v["ocsp"]["status"]=="unreachable" and v["crl"]["status"]=="unreachable", v' out ||
    fail "JSON for unreachable"
ok "OCSP and CDP both down, no cache: REVOCATION_UNREACHABLE (JSON: valid false, warning true)"
expect_status "$(n CERT_REVOKED)" verify --online --crl "$PKI/ca.crl" revoked.p7s
ok "a local --crl still refuses a revoked certificate when the network is down"

# A server that accepts the connection and never answers: the timeout, not a hang.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(120)' "$OCSP_PORT" &
PIDS+=($!)
sleep 0.5
start=$(date +%s)
expect_status "$(n REVOCATION_UNREACHABLE)" "$GOSTSIGN" verify --content doc.txt --ca-dir "$PKI/cadir" \
    --timeout 2 --ocsp employee.p7s
took=$(($(date +%s) - start))
[ "$took" -le 6 ] || fail "the 2 s timeout took $took s"
ok "a responder that never answers: REVOCATION_UNREACHABLE after the --timeout ($took s)"

# ---- a certificate without AIA/CDP: unknown, and the option needs a trust directory
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" plain >/dev/null
"$GOSTSIGN" sign --key-file plain/employee.key --cert plain/employee.pem doc.txt -o plain.p7s 2>/dev/null
expect_status "$(n REVOCATION_UNKNOWN)" "$GOSTSIGN" verify --content doc.txt --ca-dir plain/cadir --online plain.p7s
ok "certificate naming no OCSP responder or CRL distribution point: REVOCATION_UNKNOWN"
expect_status "$(n USAGE)" "$GOSTSIGN" verify --content doc.txt --online employee.p7s
ok "--online without --ca-dir: USAGE"
echo "$PASSED passed, 0 failed"
