#!/usr/bin/env bash
# The relying party's checks in `gostsign verify` (required INN/INNLE/OGRN, signing-tool class
# from certificatePolicies, signing time within a skew window, trust directory, GOST-2001), each
# refusal with its own exit code and JSON field, and `gostsign cert show --chain` with each link's
# status: valid, expired, not trusted, revoked, revocation unknown and unreachable.
. "$(dirname "$0")/lib.sh"
export LANG=C.UTF-8 LC_ALL= LC_MESSAGES= # the report greps below are in English
n() { error_number "$1"; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
export XDG_CACHE_HOME=$WORK/cache
PKI=$WORK/pki
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$PKI" >/dev/null
cd "$WORK"
printf 'challenge: 4f1c9a\n' >doc.txt
sign() { "$GOSTSIGN" sign --key-file "$2" --cert "$1" doc.txt -o "$3" 2>/dev/null || fail "sign $3"; }
sign "$PKI/employee.pem" "$PKI/employee.key" employee.p7s
verify() { "$GOSTSIGN" verify --content doc.txt --ca-dir "$PKI/cadir" "$@"; }

# Certificates with only KC1, and with no class at all, issued by the test CA with openssl.
issue_with_policies() { # issue_with_policies NAME EXTLINES
    ossl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:B -out "$1.key" 2>/dev/null
    ossl req -engine gost -new -key "$1.key" -subj "/CN=$1/INN=500100732259" -out "$1.csr" 2>/dev/null
    printf 'basicConstraints = CA:false\nkeyUsage = critical,digitalSignature,nonRepudiation\n%s\n' "$2" >"$1.ext"
    ossl x509 -engine gost -req -in "$1.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
        -days 30 -md_gost12_256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null || fail "issue $1"
}
issue_with_policies kc1only 'certificatePolicies = 1.2.643.100.113.1'
issue_with_policies noclass ''
sign kc1only.pem kc1only.key kc1only.p7s
sign noclass.pem noclass.key noclass.p7s

# ---- required identity numbers
expect_status 0 verify --require-inn 500100732259 --require-innle 7707083893 --require-ogrn 1027700132195 employee.p7s
grep -q 'Policy: *satisfied' out || { cat out; fail "policy line missing"; }
ok "required INN, INNLE and OGRN all match: valid"
expect_status "$(n POLICY_ID_MISMATCH)" verify --require-inn 771234567890 employee.p7s
grep -q 'required INN 771234567890, the certificate has 500100732259' err || fail "INN mismatch detail"
ok "another INN required: POLICY_ID_MISMATCH"
expect_status "$(n POLICY_ID_MISMATCH)" verify --require-innle 7700000000 employee.p7s
ok "another INNLE required: POLICY_ID_MISMATCH"
expect_status "$(n POLICY_ID_MISMATCH)" verify --require-ogrn 1027700000000 employee.p7s
ok "another OGRN required: POLICY_ID_MISMATCH"
expect_status "$(n POLICY_ID_MISMATCH)" verify --require-ogrn 1027700132195 kc1only.p7s
ok "OGRN required, the certificate has none: POLICY_ID_MISMATCH"

# ---- signing-tool class
expect_status 0 verify --require-class KC2 employee.p7s
ok "KC2 required, the certificate states KC1 and KC2: valid"
expect_status 0 verify --require-class КС1 kc1only.p7s
ok "КС1 (Cyrillic spelling) required, KC1 certificate: valid"
expect_status "$(n POLICY_CLASS_MISSING)" verify --require-class KC2 kc1only.p7s
grep -q 'required class KC2, the certificate states KC1' err || fail "class detail"
ok "KC2 required, the certificate states only KC1: POLICY_CLASS_MISSING"
expect_status "$(n POLICY_CLASS_MISSING)" verify --require-class KC1 noclass.p7s
ok "KC1 required, the certificate states no class: POLICY_CLASS_MISSING"
expect_status "$(n USAGE)" verify --require-class KC9 employee.p7s
ok "unknown class name: USAGE"

# ---- signing time within the window
expect_status 0 verify --max-skew 300 employee.p7s
ok "signed just now, --max-skew 300: valid"
sleep 3
expect_status "$(n SIGNING_TIME_SKEW)" verify --max-skew 1 employee.p7s
grep -q 'before now; at most 1 s allowed' err || fail "skew detail"
ok "signed 3 s ago, --max-skew 1: SIGNING_TIME_SKEW"
expect_status "$(n SIGNING_TIME_SKEW)" verify --max-skew 1 --json employee.p7s
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["code"]=="SIGNING_TIME_SKEW" and v["valid"] is False and v["warning"] is False and v["chain"]=="verified" and v["policy"]=="failed", v' out ||
    fail "JSON for a skew failure"
ok "--json: code SIGNING_TIME_SKEW, chain verified, policy failed"
expect_status "$(n USAGE)" verify --max-skew soon employee.p7s
ok "--max-skew must be whole seconds: USAGE"

# ---- the policy comes after the chain and the GOST-2001 refusal
mkdir emptydir
expect_status "$(n CERT_UNTRUSTED)" "$GOSTSIGN" verify --content doc.txt --ca-dir emptydir \
    --require-inn 500100732259 employee.p7s
ok "untrusted chain with a satisfied policy: CERT_UNTRUSTED"
ossl cms -sign -engine gost -binary -in doc.txt -signer "$PKI/gost2001.pem" -inkey "$PKI/gost2001.key" \
    -outform DER -out gost2001.p7s 2>/dev/null
expect_status "$(n CERT_GOST2001)" verify --require-inn 500100732259 gost2001.p7s
ok "GOST R 34.10-2001 signer: CERT_GOST2001 whatever the policy"
expect_status 0 verify --json --require-inn 500100732259 --require-class KC1 --max-skew 600 employee.p7s
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["valid"] is True and v["policy"]=="satisfied" and v["signer"]["subject"]["innle"]=="7707083893", v' out ||
    fail "JSON for a satisfied policy"
ok "--json: valid, policy satisfied, signer model"

# ---- cert show --chain: each link's status
chain() { "$GOSTSIGN" cert show --chain "$@"; }
expect_status 0 chain --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" "$PKI/employee.pem"
[ "$(grep -c '^\[' out)" = 2 ] || { cat out; fail "employee chain should have two links"; }
grep -q 'trusted root' out || fail "root not shown as trusted"
grep -q 'not revoked (CRL)' out || fail "CRL verdict not shown"
[ "$(grep -c 'Status: *valid' out)" = 2 ] || fail "both links valid"
ok "cert show --chain: employee -> trusted root, not revoked (CRL), both links valid"
expect_status "$(n CERT_REVOKED)" chain --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" "$PKI/revoked.pem"
grep -q 'Status: .*(CERT_REVOKED)' out || fail "revoked link"
ok "cert show --chain: revoked link (CERT_REVOKED)"
expect_status "$(n CERT_EXPIRED)" chain --ca-dir "$PKI/cadir" "$PKI/expired.pem"
grep -q '(expired)' out || fail "expiry not shown"
ok "cert show --chain: expired link (CERT_EXPIRED)"
expect_status "$(n CERT_UNTRUSTED)" chain --ca-dir emptydir "$PKI/employee.pem"
grep -q 'not trusted' out || fail "untrusted not shown"
ok "cert show --chain: root not in the trust directory (CERT_UNTRUSTED)"
expect_status "$(n REVOCATION_UNKNOWN)" chain --ca-dir "$PKI/cadir" --online "$PKI/employee.pem"
ok "cert show --chain --online, certificate without AIA/CDP: REVOCATION_UNKNOWN"
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PKI_OCSP_URL=http://127.0.0.1:$closed/ PKI_CRL_URL=http://127.0.0.1:$closed/ca.crl \
    bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" pki-urls >/dev/null
expect_status "$(n REVOCATION_UNREACHABLE)" chain --ca-dir pki-urls/cadir --online --timeout 3 pki-urls/employee.pem
grep -q 'REVOCATION_UNREACHABLE' out || fail "unreachable not shown"
ok "cert show --chain --online, responder and CDP on a closed port: REVOCATION_UNREACHABLE"
expect_status "$(n CERT_REVOKED)" chain --ca-dir pki-urls/cadir --crl pki-urls/ca.crl --online --timeout 3 pki-urls/revoked.pem
ok "cert show --chain: the local CRL still says revoked while offline"
expect_status "$(n USAGE)" "$GOSTSIGN" cert show --crl "$PKI/ca.crl" "$PKI/employee.pem"
ok "--crl without --chain: USAGE"
echo "$PASSED passed, 0 failed"
