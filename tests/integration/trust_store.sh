#!/usr/bin/env bash
# Issue 15: the accredited-CA store. A test list of accredited CAs in the Ministry's XML structure
# (tests/data/make-test-tsl.sh: a test root, two accredited CAs, one whose accreditation ended,
# one annulled, and a CA outside the list), then `gostsign trust update --tsl FILE` and
# `gostsign verify SIG.p7s` with no --ca-dir: accepted for a certificate of an accredited CA,
# refused with the reason for the others; `cert show` never calls a non-qualified certificate
# qualified; a damaged list, an unreachable or silent server keep the old store; the update over
# loopback http and https; the list-age warning with the clock moved by faketime; the system store.
. "$(dirname "$0")/lib.sh"
export LANG=ru_RU.UTF-8 LC_ALL= LC_MESSAGES= # the report greps below are in Russian

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
bash "$SOURCE_ROOT/tests/data/make-test-tsl.sh" "$WORK/tsl" >/dev/null 2>&1 || fail "make-test-tsl.sh"
T=$WORK/tsl
cd "$T"
n() { error_number "$1"; }
STORE=$XDG_DATA_HOME/gostsign/trust
printf 'Договор поставки № 15\n' >doc.txt
for who in alice bob carol dave olga plain revoked; do
    "$GOSTSIGN" sign --key-file "$who.key" --cert "$who.pem" doc.txt -o "$who.p7s" 2>/dev/null ||
        fail "sign as $who"
done
verify() { "$GOSTSIGN" verify --content doc.txt "$@"; }
json_get() { # json_get FILE PATH
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else v)' "$1" "$2"
}

# ---- before any update: nothing is qualified, nothing is claimed
expect_status 0 "$GOSTSIGN" cert show alice.pem
grep -q 'квалифицированной подписи' "$WORK/out" && fail "cert show still claims a qualified signature"
grep -q '^Квалифицированный: нет — не проверено: нет списка аккредитованных УЦ' "$WORK/out" ||
    fail "without a store the status does not say the list is missing"
expect_status "$(n TRUST_STORE_MISSING)" "$GOSTSIGN" trust status
expect_status 0 verify alice.p7s
grep -q 'НЕ ПРОВЕРЕНА' "$WORK/out" || fail "without a store the chain is not reported as NOT CHECKED"
ok "without a store: no qualified claim, the chain NOT CHECKED, trust status TRUST_STORE_MISSING"

# ---- update from a file
expect_status 0 "$GOSTSIGN" trust update --tsl tsl.xml
grep -q 'версия 100' "$WORK/out" || fail "update does not name the list version"
grep -q 'аккредитованы 3' "$WORK/out" || fail "update does not count 3 accredited authorities"
[ -L "$STORE/current" ] && [ -f "$STORE/current/index.json" ] && [ -f "$STORE/current/all.pem" ] ||
    fail "the store is not current -> v-*/index.json, all.pem"
[ "$(grep -c BEGIN "$STORE/current/accredited.pem")" -eq 3 ] || fail "accredited.pem must hold 3 CAs"
expect_status 0 "$GOSTSIGN" trust status
grep -q 'версия 100' "$WORK/out" || fail "status lacks the version"
grep -q "от $(date -u +%Y-%m-%d)" "$WORK/out" || fail "status lacks the list date"
expect_status 0 "$GOSTSIGN" trust list
[ "$(wc -l <"$WORK/out")" -eq 3 ] || fail "list shows $(wc -l <"$WORK/out") lines, not the 3 accredited"
grep -q 'Прекращена\|Аннулирована' "$WORK/out" && fail "list (without --all) shows a lapsed CA"
expect_status 0 "$GOSTSIGN" trust list --all
grep -q '^Прекращена .*УЦ Закрытый' "$WORK/out" || fail "list --all lacks the ended CA"
grep -q '^Аннулирована .*УЦ Аннулированный' "$WORK/out" || fail "list --all lacks the annulled CA"
expect_status 0 "$GOSTSIGN" trust show 7700000003
for want in 'ООО «Закрытый УЦ»' 'ОГРН: 1027700000003' 'Действует с 2019-01-01 по 2024-01-01' \
    'Прекращена с 2024-01-01' 'Список отзыва: http://127.0.0.1:9/7700000003.crl' 'Сертификат: УЦ Закрытый'; do
    grep -qF "$want" "$WORK/out" || fail "trust show lacks '$want'"
done
ok "update --tsl: store written (current link, index, bundles); status, list, list --all, show"

# ---- verify with no --ca-dir: accredited CAs accepted, the others refused with the reason
for who in alice bob; do
    expect_status 0 verify "$who.p7s"
    grep -q 'Квалифицированный: *да' "$WORK/out" || fail "$who: not called qualified"
    grep -q 'Цепочка: *проверена (список аккредитованных УЦ' "$WORK/out" ||
        fail "$who: the chain line does not name the store"
done
ok "verify without --ca-dir accepts signatures by certificates of both accredited CAs"
expect_status "$(n CA_ACCREDITATION_ENDED)" verify carol.p7s
grep -q 'аккредитация УЦ прекращена' "$WORK/err" || fail "carol: reason not named"
expect_status "$(n CA_ACCREDITATION_ENDED)" verify dave.p7s
grep -q 'аккредитация УЦ аннулирована' "$WORK/err" || fail "dave: reason not named"
expect_status "$(n CA_NOT_ACCREDITED)" verify olga.p7s
grep -q 'цепочка не доходит до аккредитованного УЦ' "$WORK/err" || fail "olga: reason not named"
expect_status "$(n CERT_NOT_QUALIFIED)" verify plain.p7s
grep -q 'нет полей квалифицированного сертификата' "$WORK/err" || fail "plain: reason not named"
expect_status "$(n CERT_REVOKED)" verify --crl ca-a.crl revoked.p7s
grep -q 'сертификат отозван' "$WORK/err" || fail "revoked: reason not named"
expect_status 0 verify --crl ca-a.crl alice.p7s
ok "verify refuses ended, annulled, outside-the-list, non-qualified and revoked signers, naming why"

expect_status "$(n CA_ACCREDITATION_ENDED)" verify --json carol.p7s
[ "$(json_get "$WORK/out" trust)" = ended ] && [ "$(json_get "$WORK/out" qualified)" = False ] ||
    fail "verify --json: trust/qualified wrong for carol"
expect_status 0 verify --json alice.p7s
[ "$(json_get "$WORK/out" qualified)" = True ] || fail "verify --json: alice not qualified"
ok "verify --json carries qualified and the chain word"

# ---- honest status in cert show and in the JSON model
expect_status 0 "$GOSTSIGN" cert show alice.pem
grep -q '^Статус: действителен, квалифицированный сертификат' "$WORK/out" || fail "alice: status"
grep -q '^Квалифицированный: да' "$WORK/out" || fail "alice: not qualified"
for who in plain:'нет полей квалифицированного сертификата' olga:'цепочка не доходит до аккредитованного УЦ' \
    carol:'аккредитация УЦ прекращена' dave:'аккредитация УЦ аннулирована'; do
    expect_status 0 "$GOSTSIGN" cert show "${who%%:*}.pem"
    grep -q '^Квалифицированный: да\|^Статус: действителен, квалифицированный' "$WORK/out" &&
        fail "${who%%:*} is called qualified"
    grep -q "^Квалифицированный: нет — ${who#*:}" "$WORK/out" || fail "${who%%:*}: reason missing"
done
for case in alice:True:accredited bob:True:accredited carol:False:ended dave:False:annulled \
    olga:False:not_accredited plain:False:accredited; do
    IFS=: read -r who q chain <<<"$case"
    expect_status 0 "$GOSTSIGN" cert show --json "$who.pem"
    [ "$(json_get "$WORK/out" status.qualified)" = "$q" ] || fail "$who: status.qualified != $q"
    [ "$(json_get "$WORK/out" status.chain)" = "$chain" ] || fail "$who: status.chain != $chain"
done
[ "$(json_get "$WORK/out" status.qualified_code)" = CERT_NOT_QUALIFIED ] || fail "plain: qualified_code"
expect_status 0 "$GOSTSIGN" cert show --json alice.pem
[ "$(json_get "$WORK/out" status.authority.inn)" = 7700000001 ] || fail "alice: authority INN"
ok "cert show and the JSON model: qualified only for accredited CAs with the fields, else the reason"

expect_status "$(n CERT_REVOKED)" "$GOSTSIGN" cert show --chain --crl ca-a.crl revoked.pem
grep -q '^Квалифицированный: нет — сертификат отозван' "$WORK/out" || fail "chain: revoked not named"
expect_status 0 "$GOSTSIGN" cert show --chain alice.pem
grep -q 'доверенный корень' "$WORK/out" || fail "chain without --ca-dir does not reach the test root"
expect_status "$(n CA_NOT_ACCREDITED)" "$GOSTSIGN" cert show --chain olga.pem
ok "cert show --chain without --ca-dir uses the store and ends with the qualified verdict"

# ---- a damaged list keeps the old store
before=$(sha256sum "$STORE/current/index.json")
link=$(readlink "$STORE/current")
expect_status "$(n TSL_INVALID)" "$GOSTSIGN" trust update --tsl tsl-damaged.xml
grep -q 'не изменено' "$WORK/err" || fail "damaged list: no word on the old store"
printf '<html><body>Сервис недоступен</body></html>' >not-tsl.xml
expect_status "$(n TSL_INVALID)" "$GOSTSIGN" trust update --tsl not-tsl.xml
[ "$(sha256sum "$STORE/current/index.json")" = "$before" ] && [ "$(readlink "$STORE/current")" = "$link" ] ||
    fail "a damaged list changed the store"
expect_status 0 verify alice.p7s
ok "a damaged list (cut XML, an HTML page) keeps the old store, which still verifies"

# ---- online: loopback http, https; unreachable and silent servers keep the store
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
HTTP_PORT=$(free_port)
mkdir srv && cp tsl-v101.xml srv/getxml
python3 -m http.server --bind 127.0.0.1 --directory srv "$HTTP_PORT" >http.log 2>&1 &
PIDS+=($!)
wait_port "$HTTP_PORT" || fail "http server did not start"
GOSTSIGN_TSL_URL="http://127.0.0.1:$HTTP_PORT/getxml" expect_status 0 "$GOSTSIGN" trust update --online
grep -q 'версия 101' "$WORK/out" || fail "online (http): not version 101"
grep -q 'GET /getxml' http.log || fail "the http server saw no request"
[ "$(find "$STORE" -maxdepth 1 -name 'v-*' | wc -l)" -eq 1 ] || fail "old store directories left behind"
ok "update --online over loopback http: version 101, one store directory left"

ossl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.pem -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1
TLS_PORT=$(free_port)
cp tsl.xml srv/v100.xml
(cd srv && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$TLS_PORT" -cert ../tls.pem -key ../tls.key) \
    >tls.log 2>&1 </dev/null &
PIDS+=($!)
wait_port "$TLS_PORT" || fail "TLS server did not start"
expect_status "$(n TSL_FETCH_FAILED)" "$GOSTSIGN" trust update --online --url "https://127.0.0.1:$TLS_PORT/v100.xml" \
    --tls-ca-file root.pem --timeout 5
expect_status 0 "$GOSTSIGN" trust status
grep -q 'версия 101' "$WORK/out" || fail "a TLS failure changed the store"
GOSTSIGN_TSL_CA_FILE=tls.pem expect_status 0 "$GOSTSIGN" trust update --online --timeout 10 \
    --url "https://127.0.0.1:$TLS_PORT/v100.xml"
grep -q 'версия 100' "$WORK/out" || fail "online (https): not version 100"
ok "update --online over loopback https: the server certificate is checked, then the list taken"

CLOSED_PORT=$(free_port)
expect_status "$(n TSL_FETCH_FAILED)" "$GOSTSIGN" trust update --online --url "http://127.0.0.1:$CLOSED_PORT/x" --timeout 3
SILENT_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(120)' "$SILENT_PORT" &
PIDS+=($!)
wait_port "$SILENT_PORT" || fail "silent server did not start"
t0=$(date +%s)
expect_status "$(n TSL_FETCH_FAILED)" "$GOSTSIGN" trust update --online --url "http://127.0.0.1:$SILENT_PORT/x" --timeout 2
took=$(($(date +%s) - t0))
[ "$took" -le 10 ] || fail "a silent server took $took s with --timeout 2"
expect_status 0 "$GOSTSIGN" trust status
grep -q 'версия 100' "$WORK/out" || fail "a failed download changed the store"
ok "an unreachable and a silent server (timeout, $took s): TSL_FETCH_FAILED, old store kept"

# ---- the list-age warning, with the clock moved by faketime
command -v faketime >/dev/null || fail "faketime is not installed (scripts/deps.sh installs it)"
expect_status "$(n TRUST_LIST_OLD)" faketime -f '+40d' "$GOSTSIGN" trust status
grep -q 'TRUST_LIST_OLD' "$WORK/err" || fail "no age warning 40 days later"
grep -q '(40 дн. назад)' "$WORK/out" || fail "status does not give the age"
expect_status 0 faketime -f '+20d' "$GOSTSIGN" trust status
grep -q 'TRUST_LIST_OLD' "$WORK/err" && fail "a warning 20 days later"
faketime -f '+40d' "$GOSTSIGN" verify --content doc.txt alice.p7s >/dev/null 2>"$WORK/err" || true
grep -q 'список аккредитованных УЦ устарел' "$WORK/err" || fail "verify does not warn about an old list"
ok "a list 40 days old: TRUST_LIST_OLD warning (status, verify); 20 days old: none"

# ---- the system store (GOSTSIGN_TRUST_SYSTEM_DIR stands in for /var/lib/gostsign/trust)
export GOSTSIGN_TRUST_SYSTEM_DIR=$WORK/system-trust
expect_status 0 "$GOSTSIGN" trust update --system --tsl tsl-v101.xml
[ -f "$WORK/system-trust/current/index.json" ] || fail "no system store written"
XDG_DATA_HOME=$WORK/other-user expect_status 0 verify alice.p7s
grep -q 'версия 101' "$WORK/out" || fail "a user without a store does not fall back to the system store"
XDG_DATA_HOME=$WORK/other-user expect_status "$(n CA_ACCREDITATION_ENDED)" verify carol.p7s
ok "update --system writes the system store; a user without a store of their own uses it"
echo "PASS: $PASSED checks"
