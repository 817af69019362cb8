#!/usr/bin/env bash
# `gostsign cert show`: PEM and DER input, the Russian text report, the --json model (checked
# with python3 against the test PKI's inputs and the openssl command), and error exit codes.
. "$(dirname "$0")/lib.sh"
export LANG=ru_RU.UTF-8 LC_ALL= LC_MESSAGES= # the report greps below are in Russian

bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >/dev/null 2>&1
cd "$WORK/pki"
ossl x509 -in employee.pem -outform DER -out employee.der

# json_get FILE PATH: prints a member of a JSON file ("status.code"); fails on invalid JSON.
json_get() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else v)' "$1" "$2"
}

# same_report FILE: the last output equals FILE, apart from the days-left count that may tick
# between two runs right after the certificate was issued.
same_report() { diff <(grep -v 'осталось дней' "$WORK/out") <(grep -v 'осталось дней' "$1") >/dev/null; }

expect_status 0 "$GOSTSIGN" cert show employee.pem
cp "$WORK/out" text.pem
for want in 'Владелец: *Иванов Иван Иванович' 'Организация: *ООО "Ромашка"' \
    'Должность: *Главный бухгалтер' 'ИНН: *500100732259' 'ИНН ЮЛ: *7707083893' \
    'ОГРН: *1027700132195' 'СНИЛС: *11223344595' 'Набор параметров: *256:B' \
    'ГОСТ Р 34.10-2012, 256 бит' 'цифровая подпись, неотрекаемость' 'КС1' \
    'Средство ЭП владельца: *СКЗИ ViPNet CSP 4.4' 'Статус: действителен'; do
    grep -q -- "$want" text.pem || fail "text output lacks '$want'"
done
ok "text report of a PEM certificate names owner, organisation, identifiers, key, tools"

expect_status 0 "$GOSTSIGN" cert show employee.der
same_report text.pem || fail "DER and PEM input give different reports"
ok "DER input gives the same report as PEM"

expect_status 0 "$GOSTSIGN" cert show - <employee.der
same_report text.pem || fail "stdin input differs"
ok "standard input ('-') is read"

sha1=$(ossl x509 -in employee.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
streebog=$(ossl dgst -engine gost -md_gost12_256 employee.der 2>/dev/null | sed 's/.*= //')
grep -q "Отпечаток (SHA-1): *$sha1" text.pem || fail "SHA-1 thumbprint differs from openssl ($sha1)"
grep -q "Отпечаток (ГОСТ Р 34.11-2012): *$streebog" text.pem || fail "Streebog thumbprint differs"
ok "thumbprints match openssl x509 -fingerprint and openssl dgst -md_gost12_256"

expect_status 0 "$GOSTSIGN" cert show --json employee.der
cp "$WORK/out" employee.json
python3 -m json.tool employee.json >/dev/null || fail "--json output is not valid JSON"
check_json() { # check_json FILE PATH WANT
    local got
    got=$(json_get "$1" "$2") || fail "$1: no $2"
    [ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}
check_json employee.json subject.cn 'Иванов Иван Иванович'
check_json employee.json subject.inn 500100732259
check_json employee.json subject.innle 7707083893
check_json employee.json subject.ogrn 1027700132195
check_json employee.json subject.snils 11223344595
check_json employee.json subject.ogrnip null
check_json employee.json issuer.cn 'Тестовый УЦ gostsign'
check_json employee.json key.paramset 256:B
check_json employee.json key.bits 256
check_json employee.json serial 1000
check_json employee.json extended_key_usage.0.oid 1.3.6.1.5.5.7.3.2
check_json employee.json policies.1.oid 1.2.643.100.113.2
check_json employee.json issuer_sign_tool.ca_tool 'ПАК КриптоПро УЦ версии 2.0'
check_json employee.json thumbprints.sha1 "$sha1"
check_json employee.json thumbprints.streebog256 "$streebog"
check_json employee.json status.code OK
ok "--json parses and carries the script's subject, key, extensions and thumbprints"

expect_status 0 "$GOSTSIGN" cert show expired.pem
grep -q 'Действует по: *2021-01-01 00:00:00 UTC (истёк)' "$WORK/out" || fail "expired not flagged"
grep -q 'CERT_EXPIRED' "$WORK/out" || fail "expired status lacks CERT_EXPIRED"
expect_status 0 "$GOSTSIGN" cert show future.pem
grep -q 'Действует с: *2040-01-01 00:00:00 UTC (ещё не действует)' "$WORK/out" ||
    fail "future not flagged"
expect_status 0 "$GOSTSIGN" cert show gost2001.pem
grep -q 'ГОСТ Р 34.10-2001 — больше не принимается' "$WORK/out" || fail "GOST-2001 not flagged"
ok "expired, not-yet-valid and GOST-2001 certificates are flagged in the text report"

for pair in expired:CERT_EXPIRED future:CERT_NOT_YET_VALID gost2001:CERT_GOST2001; do
    name=${pair%%:*} code=${pair#*:}
    "$GOSTSIGN" cert show --json "$name.pem" >"$name.json"
    check_json "$name.json" status.code "$code"
    check_json "$name.json" status.usable False
    expect_status "$(error_number "$code")" "$GOSTSIGN" cert show --check "$name.pem"
done
days=$(json_get expired.json status.days_left)
[ "$days" -lt 0 ] || fail "expired days_left is $days"
ok "--json status codes and --check exit codes for flagged certificates"

expect_status "$(error_number IO_ERROR)" "$GOSTSIGN" cert show "$WORK/missing.pem"
grep -q IO_ERROR "$WORK/err" || fail "missing file message lacks IO_ERROR"
head -c 3000 /dev/urandom >garbage.bin
expect_status "$(error_number CERT_PARSE)" "$GOSTSIGN" cert show garbage.bin
grep -q CERT_PARSE "$WORK/err" || fail "garbage message lacks CERT_PARSE"
head -c 700 employee.der >truncated.der
expect_status "$(error_number CERT_PARSE)" "$GOSTSIGN" cert show --json truncated.der
[ ! -s "$WORK/out" ] || fail "a failed --json run printed to stdout"
{ cat employee.der; printf 'x'; } >trailing.der
expect_status "$(error_number CERT_PARSE)" "$GOSTSIGN" cert show trailing.der
expect_status "$(error_number CERT_PARSE)" "$GOSTSIGN" cert show ca.crl
ok "missing, garbage, truncated, trailing-garbage and non-certificate files give their codes"

expect_status "$(error_number USAGE)" "$GOSTSIGN" cert show
expect_status "$(error_number USAGE)" "$GOSTSIGN" cert show --bogus employee.pem
expect_status "$(error_number USAGE)" "$GOSTSIGN" cert frobnicate
expect_status 0 "$GOSTSIGN" cert show --help
grep -q -- '--json' "$WORK/out" || fail "--help does not describe --json"
ok "usage errors and --help"

echo "$PASSED passed, 0 failed"
