#!/usr/bin/env bash
# gostsign-softtoken-setup builds the demo token: the certificate chains to ca.pem (checked by
# `openssl verify` with the GOST engine), carries the legal-entity fields, sits on the token
# with the key's CKA_ID, and a signature made on the token verifies with the certificate's key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
: "${SOFTTOKEN_SETUP:?}"
"$SOFTTOKEN_SETUP" --out "$WORK/demo" >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "setup"; }
ok "gostsign-softtoken-setup ran"
ossl verify -engine gost -CAfile "$WORK/demo/ca.pem" "$WORK/demo/cert.pem" 2>/dev/null | grep -q ": OK" \
    || fail "certificate does not chain to ca.pem"
ok "openssl verify: cert.pem chains to ca.pem"
ossl x509 -engine gost -in "$WORK/demo/cert.pem" -noout -text -nameopt utf8,sep_comma_plus >"$WORK/text" 2>/dev/null
for want in "INN=500100732259" "1.2.643.100.4=7707083893" "OGRN=1027700132195" "SNILS=11223344595" \
    "title=Главный бухгалтер" "C=RU" "Digital Signature, Non Repudiation" \
    "TLS Web Client Authentication, E-mail Protection" "Signing Tool of Subject" "GOST R 34.10-2012 with 256 bit"; do
    grep -q -- "$want" "$WORK/text" || { cat "$WORK/text"; fail "certificate lacks '$want'"; }
done
ok "certificate carries INN, INNLE, OGRN, SNILS, title, KU, EKU, subjectSignTool"
p11 --token-label "gostsign demo" -l --pin 12345678 -O >"$WORK/objs" 2>/dev/null || fail "list"
ids=$(awk '/^ +ID:/ { print $2 }' "$WORK/objs" | sort -u)
[ "$(echo "$ids" | wc -l)" = 1 ] || fail "key, public key and certificate do not share one CKA_ID"
grep -q "Certificate Object" "$WORK/objs" || fail "no certificate on the token"
ok "certificate, private and public key share CKA_ID $ids"
echo "login with signature" >"$WORK/msg"
p11 --token-label "gostsign demo" -l --pin 12345678 --sign -m GOSTR3410-WITH-GOSTR3411-12-256 \
    --id "$ids" -i "$WORK/msg" -o "$WORK/sig" >/dev/null 2>&1 || fail "sign with demo key"
ossl x509 -engine gost -in "$WORK/demo/cert.pem" -pubkey -noout >"$WORK/pub.pem" 2>/dev/null
ossl dgst -engine gost -md_gost12_256 -binary "$WORK/msg" >"$WORK/dg" 2>/dev/null
ossl pkeyutl -verify -engine gost -pubin -inkey "$WORK/pub.pem" -in "$WORK/dg" -sigfile "$WORK/sig" \
    >/dev/null 2>&1 || fail "signature does not verify with the certificate's key"
ok "token signature verifies with the certificate's public key"
echo "$PASSED passed, 0 failed"
