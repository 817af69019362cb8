#!/usr/bin/env bash
# Issue 15, item 3: check_revocation_before_sign in agent.json ("off", "warn", "require"). The
# signer's certificates come from a test PKI whose certificates name a CRL on a loopback HTTP
# server (python3 -m http.server) and a real `openssl ocsp` responder; they are imported onto
# the software token with the CA certificate next to them. A revoked certificate is refused under
# warn and require; a status that cannot be obtained is refused under require (its own code) and
# under warn signs with a "warnings" field and a dialog line saying so; the CRL cache (nextUpdate)
# lets require sign without the network; the user file cannot weaken the system's policy; the
# dialog warns about a certificate that expires in under 30 days. Signatures are checked with
# `openssl cms -verify`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
n() { error_number "$1"; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY
export XDG_CACHE_HOME=$WORK/cache
OCSP_PORT=$(free_port)
HTTP_PORT=$(free_port)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; nm_cleanup; }
trap cleanup EXIT
cd "$WORK"
write_gost_openssl_conf gost.cnf
PKI=$WORK/pki
PKI_OCSP_URL=http://127.0.0.1:$OCSP_PORT/ PKI_CRL_URL=http://127.0.0.1:$HTTP_PORT/ca.crl \
    bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$PKI" >/dev/null
# a certificate of the same CA that expires in 10 days (the dialog's expiry warning)
ossl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:B -out soon.key 2>/dev/null
ossl req -engine gost -new -key soon.key -subj "/CN=Скоро Истекающий/SNILS=11223344595/INN=500100732259" -utf8 -out soon.csr 2>/dev/null
printf 'basicConstraints = CA:false\nkeyUsage = critical,digitalSignature,nonRepudiation\ncrlDistributionPoints = URI:http://127.0.0.1:%s/ca.crl\n' "$HTTP_PORT" >soon.ext
ossl x509 -engine gost -req -in soon.csr -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 10 -md_gost12_256 -extfile soon.ext -out "$PKI/soon.pem" 2>/dev/null || fail "issue soon"
cp soon.key "$PKI/soon.key"

new_token rev
printf 'secret\n' >pw
for name in employee revoked soon; do
    ossl pkcs12 -export -engine gost -inkey "$PKI/$name.key" -in "$PKI/$name.pem" -passout pass:secret \
        -out "$name.p12" 2>/dev/null || fail "pkcs12 $name"
    "$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --pinentry "$SCRIPTED_PINENTRY" --token rev \
        --password-file pw "$name.p12" >/dev/null 2>"import.err" || { cat import.err; fail "import $name"; }
done
ossl x509 -in "$PKI/ca.pem" -outform DER -out ca.der
p11 --token-label rev -l --pin $USER_PIN --write-object ca.der --type cert --label "test CA" --id 99 \
    >/dev/null 2>&1 || fail "CA certificate onto the token"
thumb() { ossl x509 -in "$PKI/$1.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d : | tr A-F a-f; }
GOOD=$(thumb employee) REVOKED=$(thumb revoked) SOON=$(thumb soon)
export GOOD REVOKED SOON WORK

# the CRL server and the OCSP responder (a delegated responder certificate)
mkdir srv
ossl crl -in "$PKI/ca.crl" -outform DER -out srv/ca.crl
start_http() {
    python3 -m http.server --bind 127.0.0.1 --directory srv "$HTTP_PORT" >>http.log 2>&1 &
    HTTP_PID=$!
    PIDS+=("$HTTP_PID")
    for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $HTTP_PORT))" 2>/dev/null && return 0; sleep 0.1; done
    fail "http server did not start"
}
OCSP_STARTS=0
touch ocsp.log
start_ocsp() {
    OPENSSL_CONF=$WORK/gost.cnf openssl ocsp -index "$PKI/db/index.txt" -port "$OCSP_PORT" -rsigner "$PKI/ocsp.pem" \
        -rkey "$PKI/ocsp.key" -CA "$PKI/ca.pem" -rmd md_gost12_256 -nmin 5 -ignore_err >>ocsp.log 2>&1 &
    OCSP_PID=$!
    PIDS+=("$OCSP_PID")
    OCSP_STARTS=$((OCSP_STARTS + 1))
    for _ in $(seq 50); do
        [ "$(grep -c 'waiting for OCSP client' ocsp.log)" -lt "$OCSP_STARTS" ] || return 0
        sleep 0.1
    done
    cat ocsp.log; fail "OCSP responder did not start"
}
stop_servers() {
    kill "$HTTP_PID" "$OCSP_PID" 2>/dev/null || true
    wait "$HTTP_PID" "$OCSP_PID" 2>/dev/null || true
}
start_http
start_ocsp

# agent_with POLICY [SYSTEM_POLICY]: (re)starts the agent with the user file's (and the system
# file's) check_revocation_before_sign.
agent_with() {
    stop_agent
    cat >"$WORK/config/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY", "request_timeout_seconds": 30,
 "check_revocation_before_sign": "$1", "revocation_timeout_seconds": 2}
JSON
    local system=/nonexistent
    if [ -n "${2:-}" ]; then
        system=$WORK/system.json
        printf '{"check_revocation_before_sign": "%s"}\n' "$2" >"$system"
    fi
    "$GOSTSIGN_AGENT" --user-config "$WORK/config/gostsign/agent.json" --system-config "$system" \
        2>>"$WORK/agent.log" &
    AGENT_PID=$!
    for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && return 0; sleep 0.05; done
    cat "$WORK/agent.log"; fail "agent did not start"
}
# sign_as CERT_THUMBPRINT EXPECT [WARNING_CODE]: one `sign` from a local client; EXPECT is "ok"
# or an error code; with ok the CMS is checked by openssl and the warnings must be WARNING_CODE
# (or absent when not given). The dialog texts go to pinentry.record.
sign_as() {
    : >"$GS_TEST_PINENTRY_RECORD"
    python3 - "$@" <<'PY' || fail "sign_as $*"
import base64, json, os, socket, struct, subprocess, sys
cert, expect = sys.argv[1], sys.argv[2]
warning = sys.argv[3] if len(sys.argv) > 3 else None
s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(os.environ["GOSTSIGN_AGENT_SOCKET"])
data = b"document signed after a revocation check\n"
msg = {"id": 1, "cmd": "sign", "origin": "local:test",
       "args": {"certificate": cert, "data": base64.b64encode(data).decode()}}
b = json.dumps(msg).encode(); s.sendall(struct.pack("=I", len(b)) + b)
while True:
    (n,) = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL))
    m = json.loads(s.recv(n, socket.MSG_WAITALL))
    if "ok" in m:
        break
if expect != "ok":
    assert not m["ok"] and m["error"]["code"] == expect, m
    sys.exit(0)
assert m["ok"], m
w = [x["code"] for x in m["result"].get("warnings", [])]
assert w == ([warning] if warning else []), m["result"].get("warnings")
work = os.environ["WORK"]
open(os.path.join(work, "doc"), "wb").write(data)
open(os.path.join(work, "sig.p7s"), "wb").write(base64.b64decode(m["result"]["cms"]))
p = subprocess.run(["openssl", "cms", "-verify", "-engine", "gost", "-inform", "DER", "-in",
                    os.path.join(work, "sig.p7s"), "-binary", "-content", os.path.join(work, "doc"),
                    "-CAfile", os.path.join(work, "pki", "ca.pem"), "-out", "/dev/null"],
                   capture_output=True, env=dict(os.environ, OPENSSL_CONF="/dev/null"))
assert p.returncode == 0, p.stderr
PY
}
dialog_has() { grep -q "$1" "$GS_TEST_PINENTRY_RECORD" || { cat "$GS_TEST_PINENTRY_RECORD"; fail "dialog lacks '$1'"; }; }
dialog_lacks() { ! grep -q "$1" "$GS_TEST_PINENTRY_RECORD" || { cat "$GS_TEST_PINENTRY_RECORD"; fail "dialog has '$1'"; }; }

agent_with off
sign_as "$REVOKED" ok
dialog_lacks "отозван"
ok "off (the default): no check, even a revoked certificate signs"

agent_with require
sign_as "$GOOD" ok
dialog_lacks "отозван"
dialog_lacks "истекает"
ok "require: a good certificate (CRL and OCSP say good) signs, no warning in the dialog"
sign_as "$REVOKED" CERT_REVOKED
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a dialog opened for a revoked certificate"
ok "require: a revoked certificate is refused with CERT_REVOKED before any dialog"
sign_as "$SOON" ok
dialog_has "^SETERROR .*истекает через [0-9]* дн"
dialog_has "^SETERROR .*expires in [0-9]* day"
ok "the dialog warns (Russian and English) that the certificate expires in under 30 days"

stop_servers
ls "$XDG_CACHE_HOME"/gostsign/crl/*.crl >/dev/null 2>&1 || fail "no CRL in the cache"
sign_as "$GOOD" ok
ok "require without the network: the cached CRL (nextUpdate ahead) still says good"
sign_as "$REVOKED" CERT_REVOKED
ok "require without the network: the cached CRL still says revoked"
rm -rf "$XDG_CACHE_HOME"
start=$(date +%s)
sign_as "$GOOD" REVOCATION_CHECK_REQUIRED
[ $(($(date +%s) - start)) -lt 15 ] || fail "the unreachable sources took longer than their timeouts"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a dialog opened without a revocation status"
ok "require, no cache and no network: REVOCATION_CHECK_REQUIRED within the timeouts, no dialog"

agent_with warn
sign_as "$GOOD" ok REVOCATION_UNREACHABLE
dialog_has "^SETERROR .*не удалось проверить, не отозван ли сертификат"
dialog_has "^SETERROR .*revocation status is unknown"
ok "warn, no network: signs, the reply carries warnings [REVOCATION_UNREACHABLE], the dialog says so"
start_http
start_ocsp
sign_as "$REVOKED" CERT_REVOKED
ok "warn: a revoked certificate is still refused"
sign_as "$GOOD" ok
dialog_lacks "отозван"
ok "warn with the network: a good certificate signs without a warning"

agent_with off require
sign_as "$REVOKED" CERT_REVOKED
ok "the user file's \"off\" does not weaken the system file's \"require\""
# without the issuer's certificate (not on a token, no accredited-CA store) no answer can be
# checked: require refuses even with the servers up
p11 --token-label rev -l --pin $USER_PIN --delete-object --type cert --id 99 >/dev/null 2>&1 ||
    fail "delete the CA certificate"
agent_with require
sign_as "$GOOD" REVOCATION_CHECK_REQUIRED
ok "require without the issuer's certificate: REVOCATION_CHECK_REQUIRED"

# the issuer from the accredited-CA store instead (a one-CA list of the same structure)
cat >tsl.xml <<XML
<?xml version="1.0" encoding="utf-8"?>
<АккредитованныеУдостоверяющиеЦентры>
  <Версия>1</Версия>
  <Дата>$(date -u +%Y-%m-%dT%H:%M:%S)Z</Дата>
  <УдостоверяющийЦентр>
    <Название>ООО «Тестовый УЦ»</Название>
    <КраткоеНазвание>Тестовый УЦ</КраткоеНазвание>
    <ПрограммноАппаратныеКомплексы><ПрограммноАппаратныйКомплекс><КлючиУполномоченныхЛиц><Ключ>
      <Сертификаты><ДанныеСертификата>
        <Данные>$(ossl x509 -in "$PKI/ca.pem" -outform DER | base64 -w0)</Данные>
      </ДанныеСертификата></Сертификаты>
    </Ключ></КлючиУполномоченныхЛиц></ПрограммноАппаратныйКомплекс></ПрограммноАппаратныеКомплексы>
    <ИНН>7700000009</ИНН>
    <ОГРН>1027700000009</ОГРН>
    <СтатусАккредитации><Статус>Действует</Статус><ДействуетС>2019-01-01T00:00:00+03:00</ДействуетС></СтатусАккредитации>
  </УдостоверяющийЦентр>
</АккредитованныеУдостоверяющиеЦентры>
XML
"$GOSTSIGN" trust update --tsl tsl.xml >trust.out 2>&1 || { cat trust.out; fail "trust update"; }
agent_with require
sign_as "$GOOD" ok
sign_as "$REVOKED" CERT_REVOKED
ok "require with the issuer from the accredited-CA store: good signs, revoked refused"

printf '{"check_revocation_before_sign": "sometimes"}\n' >"$WORK/bad.json"
stop_agent
expect_status "$(n BAD_JSON)" timeout 20 "$GOSTSIGN_AGENT" --user-config "$WORK/bad.json" --system-config /nonexistent
ok "an unknown policy word is BAD_JSON"
echo "passed $PASSED"
