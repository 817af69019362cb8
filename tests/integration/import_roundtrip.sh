#!/usr/bin/env bash
# gostsign import: GOST PKCS#12 files made by `openssl pkcs12 -export -engine gost` (the default
# PBKDF2/AES protection and the GOST ones) go onto the software token with one CKA_ID (checked
# against SHA-1 of the key value openssl puts in the certificate); every failure has its own code
# and leaves the token's object list unchanged (also when the token refuses the certificate after
# the keys were written); then the imported key signs through gostsign-agent and
# `openssl cms -verify` with the GOST engine accepts the signature.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
: "${BUILD_ROOT:?}" "${IMPORT_FAILING_MODULE:?}"
PINENTRY=$SCRIPTED_PINENTRY
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
export GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export XDG_CONFIG_HOME=$WORK/config # no user agent.json of the person running the tests
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
n() { error_number "$1"; }
script() { printf '%s\n' "$@" >"$GS_TEST_PINENTRY_SCRIPT"; rm -f "$GS_TEST_PINENTRY_SCRIPT.next"; }

PKI=$WORK/pki
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$PKI" >/dev/null
cd "$WORK"
export_p12() { # export_p12 NAME OUT PASSWORD [openssl options]
    local name=$1 out=$2 pass=$3
    shift 3
    ossl pkcs12 -export -engine gost -inkey "$PKI/$name.key" -in "$PKI/$name.pem" \
        -passout "pass:$pass" "$@" -out "$out" 2>/dev/null || fail "openssl pkcs12 -export $out"
}
export_p12 employee default.p12 secret
export_p12 employee512 kuz512.pfx 'пароль 512' -keypbe kuznyechik-ctr-acpkm \
    -certpbe kuznyechik-ctr-acpkm -macalg md_gost12_512 -name 'Иванов (512)'
export_p12 other gost89.p12 secret -keypbe gost89 -certpbe gost89 -macalg md_gost12_256
export_p12 gost2001 gost2001.p12 secret
ossl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=rsa -days 1 -out rsa.pem 2>/dev/null
ossl pkcs12 -export -inkey rsa.key -in rsa.pem -passout pass:secret -out rsa.p12 2>/dev/null
head -c 700 default.p12 >truncated.p12
printf 'secret\n' >pw
printf 'wrong\n' >badpw

new_token imp
objects() { p11 --token-label imp -l --pin $USER_PIN -O 2>/dev/null | grep -E '^[A-Z]|ID:' | sort; }
import() { "$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --pinentry "$PINENTRY" "$@"; }
# ckid NAME: SHA-1 of the public key value (the BIT STRING's OCTET STRING: X || Y little-endian)
ckid() {
    local bytes=64
    [ "$1" != employee512 ] || bytes=128
    ossl x509 -engine gost -in "$PKI/$1.pem" -pubkey -noout 2>/dev/null | ossl pkey -pubin -engine gost -outform DER 2>/dev/null |
        tail -c $bytes | sha1sum | cut -d' ' -f1
}

# ---- import with the password from a file and the PIN from the (scripted) pinentry
script "pin $USER_PIN"
expect_status 0 import --password-file pw default.p12
want=$(ckid employee)
objects >objs
[ "$(grep -c "ID: *$want" objs)" = 3 ] || { cat objs; fail "key, public key, certificate with CKA_ID $want"; }
grep -q 'Private Key Object; GOSTR3410-2012-256' objs || fail "private key type"
ok "default PBKDF2/AES PFX imported: private key, public key, certificate share CKA_ID = SHA-1 of the key value"
grep -q 'SETDESC.*Иванов Иван Иванович' "$GS_TEST_PINENTRY_RECORD" || fail "PIN dialog does not name the owner"
! grep -q "$USER_PIN" "$GS_TEST_PINENTRY_RECORD" || fail "the PIN was recorded"
ok "the PIN dialog names the owner; the PIN is nowhere in the dialog traffic"

# ---- both through pinentry: first the PFX password, then the PIN; 512-bit Kuznyechik file
: >"$GS_TEST_PINENTRY_RECORD"
script "pin пароль 512" "pin $USER_PIN"
expect_status 0 import kuz512.pfx
grep -q 'Пароль файла' "$GS_TEST_PINENTRY_RECORD" || fail "no password dialog"
want512=$(ckid employee512)
objects >objs
[ "$(grep -c "ID: *$want512" objs)" = 3 ] || { cat objs; fail "512-bit objects"; }
grep -q 'GOSTR3410-2012-512' objs || fail "512-bit key type"
p11 --token-label imp -O 2>/dev/null | grep -q 'label: *Иванов (512)' || fail "friendlyName not used as label"
ok "Kuznyechik-CTR-ACPKM / Streebog-512 PFX, password and PIN through pinentry, friendlyName as label"

# ---- failures: each with its code, object list unchanged
objects >before
check_unchanged() { objects >after; cmp -s before after || { diff before after; fail "$1 changed the token"; }; }
script "pin $USER_PIN"
expect_status "$(n PKCS12_BAD_PASSWORD)" import --password-file badpw gost89.p12
check_unchanged "wrong password"
ok "wrong password: PKCS12_BAD_PASSWORD, token unchanged"
expect_status "$(n PKCS12_DAMAGED)" import --password-file pw truncated.p12
check_unchanged "damaged file"
head -c 3000 /dev/urandom >garbage.p12
expect_status "$(n PKCS12_DAMAGED)" import --password-file pw garbage.p12
ok "truncated or random file: PKCS12_DAMAGED, token unchanged"
expect_status "$(n UNSUPPORTED_ALGORITHM)" import --password-file pw rsa.p12
check_unchanged "RSA file"
ok "RSA PFX: UNSUPPORTED_ALGORITHM, token unchanged"
expect_status "$(n CERT_GOST2001)" import --password-file pw gost2001.p12
check_unchanged "GOST-2001 file"
ok "GOST R 34.10-2001 PFX: CERT_GOST2001, token unchanged"
script "pin 00000000"
expect_status "$(n PIN_INCORRECT)" import --password-file pw gost89.p12
check_unchanged "wrong PIN"
ok "wrong PIN: PIN_INCORRECT, token unchanged"
script "cancel"
expect_status "$(n USER_CANCELLED)" import gost89.p12
check_unchanged "cancelled password dialog"
ok "password dialog cancelled: USER_CANCELLED"
script "pin $USER_PIN"
expect_status "$(n IMPORT_DUPLICATE)" import --password-file pw default.p12
check_unchanged "duplicate"
ok "the same key again: IMPORT_DUPLICATE, token unchanged"
# The token refuses the certificate after both keys were written: they must be destroyed again.
IMPORT_REAL_MODULE=$SOFTTOKEN_MODULE expect_status "$(n PKCS11_ERROR)" "$GOSTSIGN" import \
    --module "$IMPORT_FAILING_MODULE" --pinentry "$PINENTRY" --password-file pw gost89.p12
grep -q 'C_CreateObject(certificate)' err || { cat err; fail "the proxy did not refuse the certificate"; }
check_unchanged "a refused certificate"
ok "certificate refused by the token after the keys were written: keys rolled back, token unchanged"
expect_status "$(n TOKEN_NOT_FOUND)" import --token nosuch --password-file pw gost89.p12
ok "unknown --token: TOKEN_NOT_FOUND"
script "pin $USER_PIN"
expect_status 0 import --password-file pw --label 'Петров' gost89.p12
[ "$(objects | grep -c "ID: *$(ckid other)")" = 3 ] || fail "GOST 28147-89 PFX objects"
ok "GOST 28147-89 / Streebog-256 PFX imported after the failures"

# ---- round trip: sign through gostsign-agent, verify with openssl cms
mkdir -p run && chmod 700 run
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
cat >agent.json <<EOF
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$PINENTRY", "request_timeout_seconds": 30}
EOF
"$GOSTSIGN_AGENT" --system-config /nonexistent --user-config agent.json \
    --socket "$GOSTSIGN_AGENT_SOCKET" 2>agent.log &
AGENT=$!
trap 'kill $AGENT 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && break; sleep 0.1; done
[ -S "$GOSTSIGN_AGENT_SOCKET" ] || { cat agent.log; fail "agent did not start"; }
cat >client.py <<'EOF'
# Minimal protocol client (docs/protocol.md): native-endian 32-bit length + JSON, one request.
import base64, json, os, socket, struct, sys
cmd, args = sys.argv[1], json.loads(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["GOSTSIGN_AGENT_SOCKET"])
body = json.dumps({"id": 1, "cmd": cmd, "origin": "local:import-test", "args": args}).encode()
s.sendall(struct.pack("=I", len(body)) + body)
def read(n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            sys.exit("connection closed")
        buf += part
    return buf
while True:
    msg = json.loads(read(struct.unpack("=I", read(4))[0]))
    if "event" in msg:
        continue
    print(json.dumps(msg))
    sys.exit(0 if msg.get("ok") else 1)
EOF
printf 'Заявление, подписанное импортированным ключом\n' >doc.txt
for who in employee employee512; do
    thumb=$(ossl x509 -in "$PKI/$who.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d : | tr A-F a-f)
    python3 client.py certificates '{}' >certs.json || { cat certs.json; fail "certificates"; }
    grep -q "\"$thumb\"" certs.json || { cat certs.json; fail "agent does not list $who ($thumb)"; }
    script "pin $USER_PIN"
    data=$(base64 -w0 doc.txt)
    python3 client.py sign "{\"certificate\": \"$thumb\", \"data\": \"$data\", \"document\": \"doc.txt\"}" \
        >reply.json || { cat reply.json agent.log; fail "sign through the agent ($who)"; }
    python3 -c 'import base64,json,sys; open(sys.argv[2],"wb").write(base64.b64decode(json.load(open(sys.argv[1]))["result"]["cms"]))' \
        reply.json "$who.p7s"
    ossl cms -verify -engine gost -binary -inform DER -in "$who.p7s" -content doc.txt \
        -CAfile "$PKI/ca.pem" -out /dev/null 2>ossl.err || { cat ossl.err; fail "openssl rejects the $who signature"; }
    ossl cms -cmsout -print -inform DER -in "$who.p7s" | grep -q "$(ossl x509 -in "$PKI/$who.pem" -noout -serial | cut -d= -f2 | sed 's/^0*//')" ||
        fail "signature is not by the imported certificate"
    ok "imported $who key signs through gostsign-agent; openssl cms -verify -engine gost accepts it"
done
echo "$PASSED passed, 0 failed"
