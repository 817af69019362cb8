#!/usr/bin/env bash
# Issue 15, item 6: a certificate on the token without its private key. `gostsign token certs`,
# `gostsign certs` (through the agent) and the doctor say where such a key usually is (a PKCS#12
# file to import with `gostsign import`, or a CryptoPro container gostsign cannot use), in both
# languages, instead of asking to write the certificate onto the token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
p11() { pkcs11-tool --module "$SOFTTOKEN_MODULE" "$@"; }

write_agent_config
make_demo_token
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >"$WORK/pki.out" 2>&1 || { cat "$WORK/pki.out"; fail "pki"; }
# a valid end-entity certificate whose key is not on any token (a lone certificate object)
ossl x509 -in "$WORK/pki/other.pem" -outform DER -out "$WORK/lone.der"
p11 --login --pin 12345678 --write-object "$WORK/lone.der" --type cert --id 7777 --label lone \
    >/dev/null 2>&1 || fail "lone certificate onto the token"
p11 -O 2>/dev/null | grep -q "label: *lone" || fail "the lone certificate is not on the token"
[ "$(p11 --login --pin 12345678 -O --type privkey 2>/dev/null | grep -c 'Private Key Object')" = 1 ] ||
    fail "the token should hold only the demo key"

LC_ALL=ru_RU.UTF-8 "$GOSTSIGN" token certs --module "$SOFTTOKEN_MODULE" >"$WORK/ru.txt" 2>&1 ||
    { cat "$WORK/ru.txt"; fail "token certs"; }
grep -q "нет закрытого ключа" "$WORK/ru.txt" || { cat "$WORK/ru.txt"; fail "no keyless mark"; }
grep -q "gostsign import" "$WORK/ru.txt" && grep -q "КриптоПро" "$WORK/ru.txt" && grep -q "header.key" "$WORK/ru.txt" ||
    { cat "$WORK/ru.txt"; fail "Russian hint"; }
[ "$(grep -c 'gostsign import' "$WORK/ru.txt")" = 1 ] || { cat "$WORK/ru.txt"; fail "the hint belongs to the lone certificate only"; }
ok "token certs, Russian: the lone certificate gets the PKCS#12 / CryptoPro hint"
LC_ALL=C "$GOSTSIGN" token certs --module "$SOFTTOKEN_MODULE" >"$WORK/en.txt" 2>&1 || { cat "$WORK/en.txt"; fail "token certs"; }
grep -q "no private key" "$WORK/en.txt" && grep -q "PKCS#12" "$WORK/en.txt" && grep -q "CryptoPro container" "$WORK/en.txt" ||
    { cat "$WORK/en.txt"; fail "English hint"; }
! grep -q "запишите" "$WORK/en.txt" "$WORK/ru.txt" || fail "the old advice is still there"
ok "token certs, English: the same hint"

start_agent
LC_ALL=C "$GOSTSIGN" certs >"$WORK/certs.txt" 2>&1 || { cat "$WORK/certs.txt"; fail "certs"; }
grep -q "certificates without a private key on the tokens: 1" "$WORK/certs.txt" &&
    grep -q "gostsign import" "$WORK/certs.txt" || { cat "$WORK/certs.txt"; fail "certs: no hint"; }
LC_ALL=ru_RU.UTF-8 "$GOSTSIGN" certs >"$WORK/certs.ru" 2>&1 || fail "certs (ru)"
grep -q "Сертификатов без закрытого ключа на токенах: 1" "$WORK/certs.ru" && grep -q "КриптоПро" "$WORK/certs.ru" ||
    { cat "$WORK/certs.ru"; fail "certs (ru): no hint"; }
"$GOSTSIGN" tokens --json | python3 -c 'import json,sys; t=json.load(sys.stdin); assert [x["certificates_without_key"] for x in t] == [1], t' ||
    fail "tokens: certificates_without_key"
ok "certs through the agent: the count of keyless certificates and the hint; tokens carry the count"
stop_agent

doctor "$WORK/d.json" --no-p11-kit --module "$SOFTTOKEN_MODULE"
verdict "$WORK/d.json" certificates.certificate warn KEY_ELSEWHERE "gostsign import" has_private_key=false label=lone
python3 - "$WORK/d.json" <<'PY' || fail "doctor texts"
import json, sys
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["code"] == "KEY_ELSEWHERE"][0]
assert "CryptoPro" in c["fix"]["en"] and "header.key" in c["fix"]["en"], c
assert "КриптоПро" in c["fix"]["ru"] and "gostsign import" in c["fix"]["ru"], c
assert "запишите" not in c["fix"]["ru"], c
PY
verdict "$WORK/d.json" certificates.certificate ok OK "" has_private_key=true
ok "doctor: the lone certificate warns KEY_ELSEWHERE with the PKCS#12 / CryptoPro fix; the demo one is fine"
echo "passed $PASSED"
