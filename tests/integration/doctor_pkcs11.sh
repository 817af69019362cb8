#!/usr/bin/env bash
# gostsign doctor on the software token: a valid demo certificate with its key (trusted through
# --ca-dir), an expired and a GOST-2001 certificate written next to it, a second token whose PIN
# is locked, one token seen through two module files (duplicate), a module that does not load,
# the agent layer without an agent, and --report writing a bundle with no PIN and no key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
: "${SOFTTOKEN_SETUP:?}"

"$SOFTTOKEN_SETUP" --out "$WORK/demo" >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out"; fail "setup"; }
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >"$WORK/pki.out" 2>&1 || { cat "$WORK/pki.out"; fail "pki"; }
for c in expired gost2001; do
    ossl x509 -in "$WORK/pki/$c.pem" -outform DER -out "$WORK/$c.der" 2>/dev/null || fail "der $c"
done
p11 --token-label "gostsign demo" -l --pin $USER_PIN --write-object "$WORK/expired.der" --type cert \
    --id 0e0e --label expired >/dev/null 2>&1 || fail "write expired"
p11 --token-label "gostsign demo" -l --pin $USER_PIN --write-object "$WORK/gost2001.der" --type cert \
    --id 2001 --label gost2001 >/dev/null 2>&1 || fail "write gost2001"
new_token "locked"
for _ in $(seq 20); do
    token_flags locked | grep -q "user PIN locked" && break
    p11 --token-label locked -l --pin 00000000 -O >/dev/null 2>&1 || true
done
token_flags locked | grep -q "user PIN locked" || fail "could not lock the PIN"
mkdir -p "$WORK/cadir" && cp "$WORK/demo/ca.pem" "$WORK/cadir/" && ossl rehash "$WORK/cadir" >/dev/null 2>&1
cp "$SOFTTOKEN_MODULE" "$WORK/second-softtoken.so"

doctor "$WORK/d.json" --no-p11-kit --module "$SOFTTOKEN_MODULE" --module "$WORK/second-softtoken.so" \
    --module /nonexistent/libmissing.so --ca-dir "$WORK/cadir" --report "$WORK/bundle.json"

verdict "$WORK/d.json" modules.load ok OK "" "path=$SOFTTOKEN_MODULE" registered_in=option
verdict "$WORK/d.json" modules.load fail PKCS11_MODULE "libmissing.so" path=/nonexistent/libmissing.so
ok "a module that loads and one that does not"
verdict "$WORK/d.json" modules.duplicate warn TOKEN_DUPLICATE "Keep one module"
ok "one token through two module files: duplicate warning"
verdict "$WORK/d.json" tokens.pin fail PIN_LOCKED "gostsign token unblock" label=locked pin_locked=true
ok "locked PIN: fail with the unblock fix"
verdict "$WORK/d.json" tokens.pin ok OK "" "label=gostsign demo" pin_locked=false
ok "the demo token's PIN is fine"
verdict "$WORK/d.json" certificates.certificate fail CERT_EXPIRED "new qualified certificate" label=expired
ok "expired certificate: fail"
verdict "$WORK/d.json" certificates.certificate fail CERT_GOST2001 "34.10-2012" label=gost2001 gost2001=true
ok "GOST-2001 certificate: refused"
verdict "$WORK/d.json" certificates.certificate ok OK "" has_private_key=true chain=trusted \
    inn=500100732259 ogrn=1027700132195
ok "demo certificate: key present, chain trusted, INN and OGRN shown"
verdict "$WORK/d.json" agent.running warn AGENT_UNAVAILABLE "gostsign-agent.socket"
ok "no agent: warning with the socket-activation fix"
[ "$DOCTOR_RC" -eq "$(error_number DOCTOR_FAILED)" ] || fail "exit $DOCTOR_RC"
ok "exit status DOCTOR_FAILED"

# Without the trust directory the chain is reported as not checked; an unrelated CA fails it.
mkdir -p "$WORK/othercadir" && cp "$WORK/pki/ca.pem" "$WORK/othercadir/" && ossl rehash "$WORK/othercadir" >/dev/null 2>&1
doctor "$WORK/other.json" --no-p11-kit --module "$SOFTTOKEN_MODULE" --ca-dir "$WORK/othercadir"
verdict "$WORK/other.json" certificates.certificate fail CERT_UNTRUSTED "openssl rehash" "token=gostsign demo" has_private_key=true chain=untrusted
ok "a trust directory without the issuer: untrusted chain"

# The bundle: valid JSON with versions, the doctor report; never the PIN, never key material.
python3 - "$WORK/bundle.json" <<'PY' || fail "bundle shape"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["schema"] == 1 and b["kind"] == "gostsign-support-bundle"
assert b["versions"]["gostsign"] and b["doctor"]["schema"] == 1
assert "agent_log" in b and "config" in b
PY
ok "--report writes the support bundle"
for secret in "$USER_PIN" "$SO_PIN" "PRIVATE KEY"; do
    ! grep -q -- "$secret" "$WORK/bundle.json" || fail "bundle contains '$secret'"
done
# A chunk of the key files' base64 bodies must not appear either.
for keyfile in "$WORK/demo/ca-key.pem" "$GOSTSIGN_SOFTTOKEN_DIR"/*.token; do
    [ -f "$keyfile" ] || continue
    chunk=$(grep -v -- "-----" "$keyfile" 2>/dev/null | head -1 | cut -c1-24 || true)
    [ -z "$chunk" ] || ! grep -qF -- "$chunk" "$WORK/bundle.json" || fail "bundle contains bytes of $keyfile"
done
[ "$(stat -c %a "$WORK/bundle.json")" = 600 ] || fail "bundle is not private (mode 0600)"
ok "the bundle holds no PIN and no key material, mode 0600"
echo "$PASSED passed, 0 failed"
