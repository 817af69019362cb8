#!/usr/bin/env bash
# A token that only signs with the combined mechanism (it hashes by itself): `gostsign token sign`
# hands it the signed attributes instead of their digest, and openssl accepts the CMS.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?}"
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_TEST_REAL_MODULE=$SOFTTOKEN_MODULE
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script XDG_CONFIG_HOME=$WORK/config
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR"
"$SOFTTOKEN_SETUP" --module "$GOSTSIGN_TEST_REAL_MODULE" --out "$WORK/demo" >/dev/null 2>&1 ||
    fail "demo token"
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"
echo "document for a combined-mechanism token" >"$WORK/doc.txt"
MOCK=$COMBINED_ONLY_MODULE
"$GOSTSIGN" token sign --module "$MOCK" --pinentry "$SCRIPTED_PINENTRY" "$WORK/doc.txt" \
    -o "$WORK/doc.p7s" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; fail "sign on a combined-only token"; }
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/doc.p7s" -content "$WORK/doc.txt" \
    -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>"$WORK/ossl.err" || { cat "$WORK/ossl.err"; fail "openssl rejected it"; }
ok "CMS signed on a token without raw CKM_GOSTR3410 verifies with openssl cms"
echo "$PASSED passed, 0 failed"
