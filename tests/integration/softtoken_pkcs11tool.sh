#!/usr/bin/env bash
# OpenSC's pkcs11-tool drives gostsign-softtoken as an outside client: init token and PIN,
# generate GOST-2012 256 and 512 key pairs, list, sign; every signature is verified by the
# `openssl` command with the GOST engine against the public key exported from the token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"

TOKEN="interop"
new_token "$TOKEN"
token_flags "$TOKEN" | grep -q "PIN initialized" || fail "user PIN not initialised"
ok "pkcs11-tool --init-token and --init-pin"

p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:B \
    --id 01 --label k256 >"$WORK/gen256" 2>&1 || { cat "$WORK/gen256"; fail "keypairgen 256"; }
p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-512:A \
    --id 02 --label k512 >"$WORK/gen512" 2>&1 || { cat "$WORK/gen512"; fail "keypairgen 512"; }
ok "pkcs11-tool --keypairgen GOSTR3410-2012-256:B and GOSTR3410-2012-512:A"

p11 --token-label $TOKEN -O >"$WORK/public" 2>/dev/null
p11 --token-label $TOKEN -l --pin $USER_PIN -O >"$WORK/all" 2>/dev/null
[ "$(grep -c 'Private Key Object' "$WORK/public")" = 0 ] || fail "private keys visible without login"
[ "$(grep -c 'Public Key Object' "$WORK/public")" = 2 ] || fail "public keys missing"
[ "$(grep -c 'Private Key Object; GOSTR3410-2012-256' "$WORK/all")" = 1 ] || fail "256 private key"
[ "$(grep -c 'Private Key Object; GOSTR3410-2012-512' "$WORK/all")" = 1 ] || fail "512 private key"
ok "pkcs11-tool --list-objects (private keys only after login)"

head -c 100000 /dev/urandom >"$WORK/msg"
# check_sig BITS ID MECH KEYOID CURVEOID DIGESTOID
check_sig() {
    local bits=$1 id=$2 mech=$3 val
    p11 --token-label $TOKEN -l --pin $USER_PIN --sign -m "$mech" --id "$id" \
        -i "$WORK/msg" -o "$WORK/sig$bits" >/dev/null 2>&1 || fail "sign $mech"
    [ "$(stat -c %s "$WORK/sig$bits")" = $((bits / 4)) ] || fail "signature length"
    val=$(pubkey_value "$id")
    [ ${#val} = $((bits / 2)) ] || fail "public key value for id $id: '$val'"
    spki_from_value "$val" "$4" "$5" "$6" "$WORK/pub$bits.der"
    ossl dgst -engine gost -md_gost12_$bits -binary "$WORK/msg" >"$WORK/dg$bits" 2>/dev/null
    ossl pkeyutl -verify -engine gost -pubin -keyform DER -inkey "$WORK/pub$bits.der" \
        -in "$WORK/dg$bits" -sigfile "$WORK/sig$bits" >"$WORK/v" 2>&1 || { cat "$WORK/v"; fail "openssl rejects the $mech signature"; }
    grep -q "Verified Successfully" "$WORK/v" || fail "no verification message"
    # the check can fail: a different message must not verify
    printf 'x' | cat "$WORK/msg" - | ossl dgst -engine gost -md_gost12_$bits -binary >"$WORK/dgx" 2>/dev/null
    if ossl pkeyutl -verify -engine gost -pubin -keyform DER -inkey "$WORK/pub$bits.der" \
        -in "$WORK/dgx" -sigfile "$WORK/sig$bits" >/dev/null 2>&1; then
        fail "openssl accepted a signature over a different message"
    fi
    ok "pkcs11-tool --sign -m $mech verified by openssl pkeyutl -engine gost"
}
check_sig 256 01 GOSTR3410-WITH-GOSTR3411-12-256 1.2.643.7.1.1.1.1 1.2.643.2.2.35.1 1.2.643.7.1.1.2.2
check_sig 512 02 GOSTR3410-WITH-GOSTR3411-12-512 1.2.643.7.1.1.1.2 1.2.643.7.1.2.1.2.1 1.2.643.7.1.1.2.3

# Raw CKM_GOSTR3410 over a digest computed by openssl.
p11 --token-label $TOKEN -l --pin $USER_PIN --sign -m GOSTR3410 --id 01 -i "$WORK/dg256" \
    -o "$WORK/rawsig" >/dev/null 2>&1 || fail "raw sign"
ossl pkeyutl -verify -engine gost -pubin -keyform DER -inkey "$WORK/pub256.der" \
    -in "$WORK/dg256" -sigfile "$WORK/rawsig" >/dev/null 2>&1 || fail "openssl rejects raw GOSTR3410 signature"
ok "pkcs11-tool --sign -m GOSTR3410 over an openssl digest verified by openssl"

# The module's own verification through pkcs11-tool.
p11 --token-label $TOKEN -l --pin $USER_PIN --verify -m GOSTR3410-WITH-GOSTR3411-12-256 --id 01 \
    -i "$WORK/msg" --signature-file "$WORK/sig256" 2>/dev/null | grep -q "Signature is valid" || fail "C_Verify"
ok "pkcs11-tool --verify"

# Digest mechanism against openssl dgst.
p11 --token-label $TOKEN --hash -m GOSTR3411-12-512 -i "$WORK/msg" -o "$WORK/h512" >/dev/null 2>&1 || fail "hash"
cmp -s "$WORK/h512" "$WORK/dg512" || fail "C_Digest differs from openssl dgst"
ok "pkcs11-tool --hash -m GOSTR3411-12-512 equals openssl dgst"

# Wrong PIN is a clean CKR_PIN_INCORRECT.
if p11 --token-label $TOKEN -l --pin 99999999 -O >"$WORK/out" 2>"$WORK/err"; then fail "wrong PIN accepted"; fi
grep -q CKR_PIN_INCORRECT "$WORK/err" || { cat "$WORK/err"; fail "no CKR_PIN_INCORRECT"; }
token_flags "$TOKEN" | grep -q "count low" || fail "COUNT_LOW not shown"
ok "wrong PIN gives CKR_PIN_INCORRECT and COUNT_LOW"

# Certificate object written by pkcs11-tool, read back identical.
ossl req -x509 -engine gost -newkey gost2012_256 -pkeyopt paramset:A -nodes -keyout "$WORK/ck.pem" \
    -subj "/CN=softtoken test" -days 2 -outform DER -out "$WORK/cert.der" >/dev/null 2>&1 || fail "openssl req"
p11 --token-label $TOKEN -l --pin $USER_PIN --write-object "$WORK/cert.der" --type cert --id 01 \
    --label cert >/dev/null 2>&1 || fail "write cert"
p11 --token-label $TOKEN --read-object --type cert --id 01 -o "$WORK/back.der" >/dev/null 2>&1 || fail "read cert"
cmp -s "$WORK/cert.der" "$WORK/back.der" || fail "certificate changed"
ok "certificate written and read back with pkcs11-tool"
echo "$PASSED passed, 0 failed"
