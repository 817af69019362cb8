#!/usr/bin/env bash
# gostsign-agent end to end on the software token, with the scripted Assuan pinentry:
# signatures openssl accepts, wrong PIN, limiter, cancel, token removed mid-request, agent
# killed and restarted, another uid refused, 20 concurrent clients, and no PIN anywhere.
. "$(dirname "$0")/lib.sh"

: "${BUILD_ROOT:?}"
AGENT_BIN=$GOSTSIGN_AGENT
MODULE=$SOFTTOKEN_MODULE
SETUP=$SOFTTOKEN_SETUP
PINENTRY=$SCRIPTED_PINENTRY
PROTO="python3 $SOURCE_ROOT/tests/integration/agent_proto.py"
DEMO_PIN=12345678 # the demo token's documented PIN

export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens
export GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000 # test-only: fast PIN checks on new tokens
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GOSTSIGN_AUDIT_FILE=$WORK/audit.log
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
export GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export XDG_CONFIG_HOME=$WORK/config
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$XDG_CONFIG_HOME/gostsign"
chmod 700 "$WORK/run"

"$SETUP" --module "$MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; fail "demo token setup"; }
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<EOF
{"modules": ["$MODULE"], "pinentry": "$PINENTRY", "pin_max_failures": 3,
 "pin_cooldown_seconds": 900, "request_timeout_seconds": 30,
 "allowed_origins": ["https://lk.example.ru"]}
EOF
# Clients start the agent on demand through this wrapper (same config, log to a file).
cat >"$WORK/agent-wrapper" <<EOF
#!/bin/sh
exec "$AGENT_BIN" --system-config /nonexistent --socket "$GOSTSIGN_AGENT_SOCKET" "\$@" 2>>"$WORK/agent.log"
EOF
chmod +x "$WORK/agent-wrapper"
export GOSTSIGN_AGENT_BIN=$WORK/agent-wrapper

script() { printf '%s\n' "$@" >"$GS_TEST_PINENTRY_SCRIPT"; rm -f "$GS_TEST_PINENTRY_SCRIPT.next"; }
agent_pid() { pgrep -f -- "--socket $GOSTSIGN_AGENT_SOCKET" | head -1; } # this test's agent only
stop_agent() { local p; p=$(agent_pid); [ -z "$p" ] || { kill "$p"; sleep 0.3; }; }
trap 'stop_agent; rm -rf "$WORK"' EXIT
verify_cms() { # verify_cms SIG CONTENT
    ossl cms -verify -engine gost -binary -inform DER -in "$1" -content "$2" \
        -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>"$WORK/ossl.err" ||
        { cat "$WORK/ossl.err"; fail "openssl cms -verify rejected $1"; }
}

# --- the agent starts on demand and sees the demo token
"$GOSTSIGN" certs --json >"$WORK/certs.json" || fail "certs through the agent"
CERT=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c[0]["id"])' "$WORK/certs.json")
[ -n "$CERT" ] || fail "no certificate listed"
[ -S "$GOSTSIGN_AGENT_SOCKET" ] || fail "agent socket missing"
[ "$(stat -c %a "$GOSTSIGN_AGENT_SOCKET")" = 600 ] || fail "socket mode is not 0600"
[ "$(stat -c %a "$WORK/run")" = 700 ] || fail "socket directory mode is not 0700"
ok "agent started on demand; certificate $CERT listed; socket 0600 in a 0700 directory"
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))[0]["status"]
assert s["qualified"] is False and s["chain"] == "not_checked", s
assert s["qualified_code"] == "TRUST_STORE_MISSING", s' "$WORK/certs.json" ||
    fail "the certificates reply lacks the honest status"
ok "the agent's certificates reply: status.qualified false, status.chain not_checked (no store)"

# --- a signature that openssl accepts, detached and attached
head -c 2000000 /dev/urandom >"$WORK/doc.bin"
script "pin $DEMO_PIN"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.bin" -o "$WORK/doc.p7s" >/dev/null 2>"$WORK/sign.err" ||
    { cat "$WORK/sign.err"; fail "sign through the agent"; }
verify_cms "$WORK/doc.p7s" "$WORK/doc.bin"
"$GOSTSIGN" verify --content "$WORK/doc.bin" --ca-file "$WORK/demo/ca.pem" "$WORK/doc.p7s" >/dev/null ||
    fail "gostsign verify rejected the agent's signature"
grep -q 'SETDESC.*lk\|SETDESC' "$GS_TEST_PINENTRY_RECORD" || fail "no PIN dialog description"
ok "2 MB file signed through the agent (chunked); openssl cms -verify and gostsign verify accept it"
echo "attached content" >"$WORK/small.txt"
"$GOSTSIGN" sign --cert "$CERT" --attached "$WORK/small.txt" -o "$WORK/small.p7s" >/dev/null 2>&1 ||
    fail "attached sign"
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/small.p7s" -CAfile "$WORK/demo/ca.pem" \
    -out "$WORK/small.out" 2>/dev/null || fail "attached CMS rejected by openssl"
cmp -s "$WORK/small.out" "$WORK/small.txt" || fail "attached content differs"
ok "attached signature carries the content and verifies"

# --- the dialog names the signer, organisation, INN/OGRN and the token
grep 'SETDESC' "$GS_TEST_PINENTRY_RECORD" | tail -1 >"$WORK/desc"
for want in 'ИНН' 'ОГРН' 'gostsign demo' 'local:gostsign'; do
    grep -q "$want" "$WORK/desc" || fail "PIN dialog lacks '$want': $(cat "$WORK/desc")"
done
ok "PIN dialog names origin, owner, organisation with INN/OGRN and the token"

# --- wrong PIN: error with the retries state; never retried automatically
: >"$GS_TEST_PINENTRY_RECORD"
script "pin 00000000"
expect_status "$(error_number PIN_INCORRECT)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s"
grep -q 'PIN_INCORRECT' "$WORK/err" || fail "no PIN_INCORRECT"
grep -q 'attempts before the agent pauses signing: 2' "$WORK/err" || fail "retries left not shown: $(cat "$WORK/err")"
[ "$(grep -c '^GETPIN' "$GS_TEST_PINENTRY_RECORD")" = 1 ] || fail "the PIN was asked more than once"
ok "wrong PIN gives PIN_INCORRECT with the attempts left, asked exactly once"

# --- the limiter: after 3 wrong PINs no dialog is shown at all
for i in 2 3; do
    expect_status "$(error_number PIN_INCORRECT)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s"
done
: >"$GS_TEST_PINENTRY_RECORD"
expect_status "$(error_number PIN_LIMITER)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "pinentry started although the limiter engaged"
ok "limiter engages after 3 wrong PINs and shows no dialog"

# kill -9 the agent (it leaves a stale socket); clients restart it, and the pause survives
kill -9 "$(agent_pid)"
sleep 0.2
expect_status "$(error_number AGENT_UNAVAILABLE)" "$GOSTSIGN" agent status
"$GOSTSIGN" tokens >"$WORK/tokens.txt" || fail "client did not restart the agent"
grep -q 'gostsign demo' "$WORK/tokens.txt" || fail "token not listed after restart"
"$GOSTSIGN" agent status >/dev/null || fail "agent status after restart"
ok "agent killed with -9; the next client restarted it over the stale socket"
: >"$GS_TEST_PINENTRY_RECORD"
expect_status "$(error_number PIN_LIMITER)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a restarted agent asked for the PIN during the pause"
find "$XDG_STATE_HOME/gostsign/pin-limiter" -type f -perm /077 | grep -q . && fail "limiter state is not owner-only"
ok "the wrong-PIN pause survives kill -9 and a restart (state on disk, owner-only)"
# the user ends the pause (what `gostsign agent unpause` does): the counter file goes
rm -f "$XDG_STATE_HOME"/gostsign/pin-limiter/*

# --- a cancelled PIN dialog
script "cancel"
expect_status "$(error_number USER_CANCELLED)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s"
ok "cancelled PIN dialog gives USER_CANCELLED"

# --- the token is removed while the user types the PIN
: >"$GS_TEST_PINENTRY_RECORD"
script "delay 2 $DEMO_PIN"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/x.p7s" >"$WORK/rm.out" 2>"$WORK/rm.err" &
signer=$!
for _ in $(seq 100); do grep -q '^GETPIN' "$GS_TEST_PINENTRY_RECORD" 2>/dev/null && break; sleep 0.1; done
mkdir -p "$WORK/pulled"
mv "$GOSTSIGN_SOFTTOKEN_DIR"/*.token "$WORK/pulled/"
rc=0; wait $signer || rc=$?
[ "$rc" = "$(error_number TOKEN_REMOVED)" ] || { cat "$WORK/rm.err"; fail "token removal gave exit $rc"; }
mv "$WORK/pulled/"*.token "$GOSTSIGN_SOFTTOKEN_DIR/"
sleep 0.5
script "pin $DEMO_PIN"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/small.txt" -o "$WORK/back.p7s" >/dev/null 2>&1 || fail "sign after re-insert"
ok "token pulled mid-request gives TOKEN_REMOVED; after re-insert signing works again"

# --- protocol level: bad input, unknown command, origin refused before any dialog
: >"$GS_TEST_PINENTRY_RECORD"
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":1,"cmd":"nope"}' \
    '{"id":2,"cmd":"authenticate","origin":"https://evil.example","args":{"challenge":"abcdefgh12"}}' \
    '{"id":3,"cmd":"sign","origin":"https://lk.example.ru","args":{}}' \
    '{"cmd":"hello"}' >"$WORK/proto.out"
grep -q '"id": 1.*UNKNOWN_COMMAND' "$WORK/proto.out" || fail "unknown command"
grep -q '"id": 2.*ORIGIN_NOT_ALLOWED' "$WORK/proto.out" || fail "origin not refused"
grep -q '"id": 3.*BAD_REQUEST' "$WORK/proto.out" || fail "empty sign not refused"
grep -q '"id": null.*BAD_REQUEST' "$WORK/proto.out" || fail "missing id not refused"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a refused request started the pinentry"
ok "unknown command, bad requests and a foreign origin are refused; no dialog started"

# --- authenticate binds the challenge to the origin
script "pin $DEMO_PIN"
$PROTO "$GOSTSIGN_AGENT_SOCKET" \
    '{"id":"a1","cmd":"authenticate","origin":"https://lk.example.ru","args":{"challenge":"c2f1e0d9b8a7"}}' \
    >"$WORK/auth.out"
python3 - "$WORK/auth.out" "$WORK/auth.p7s" <<'EOF'
import base64, json, sys
last = [json.loads(l) for l in open(sys.argv[1])][-1]
assert last["ok"], last
open(sys.argv[2], "wb").write(base64.b64decode(last["result"]["cms"]))
EOF
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/auth.p7s" -CAfile "$WORK/demo/ca.pem" \
    -out "$WORK/auth.txt" 2>/dev/null || fail "authenticate CMS rejected by openssl"
grep -qx 'origin: https://lk.example.ru' "$WORK/auth.txt" || fail "origin not bound"
grep -qx 'challenge: c2f1e0d9b8a7' "$WORK/auth.txt" || fail "challenge not bound"
ok "authenticate signs the challenge bound to the origin (openssl verifies)"

# --- 20 concurrent clients: every signature matches its own file
for i in $(seq 20); do echo "document $i $RANDOM" >"$WORK/c$i.txt"; done
pids=()
for i in $(seq 20); do
    "$GOSTSIGN" sign --cert "$CERT" "$WORK/c$i.txt" -o "$WORK/c$i.p7s" >/dev/null 2>"$WORK/c$i.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent client failed: $(cat "$WORK"/c*.err)"; done
for i in $(seq 20); do verify_cms "$WORK/c$i.p7s" "$WORK/c$i.txt"; done
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/c1.p7s" -content "$WORK/c2.txt" \
    -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>/dev/null && fail "signatures are mixed up"
ok "20 concurrent clients: 20 signatures, each verifies against its own file only"

# --- batch: one PIN for several files
mkdir -p "$WORK/batch"
: >"$GS_TEST_PINENTRY_RECORD"
"$GOSTSIGN" sign --batch --cert "$CERT" "$WORK"/c1.txt "$WORK"/c2.txt "$WORK"/c3.txt --out-dir "$WORK/batch" \
    >/dev/null 2>&1 || fail "batch sign"
[ "$(grep -c '^GETPIN' "$GS_TEST_PINENTRY_RECORD")" = 1 ] || fail "batch asked the PIN more than once"
grep 'SETDESC' "$GS_TEST_PINENTRY_RECORD" | grep -q '3 документов' || fail "batch dialog does not state the count"
for i in 1 2 3; do verify_cms "$WORK/batch/c$i.txt.p7s" "$WORK/c$i.txt"; done
ok "batch: 3 files after one PIN; the dialog states the number of documents"

# --- cancel: the request ends CANCELLED after the dialog and nothing is signed
script "delay 2 $DEMO_PIN"
args='{"certificate":"'$CERT'","data":"aGVsbG8=","document":"cancel-me.txt"}'
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":"s1","cmd":"sign","origin":"local:test","args":'"$args"'}' \
    '{"id":"c1","cmd":"cancel","origin":"local:test","args":{"request":"s1"}}' >"$WORK/cancel.out"
grep -q '"id": "c1".*"cancelled": true' "$WORK/cancel.out" || fail "cancel not acknowledged: $(cat "$WORK/cancel.out")"
grep -q '"id": "s1".*CANCELLED' "$WORK/cancel.out" || fail "cancelled request still answered: $(cat "$WORK/cancel.out")"
grep -q 'what="cancel-me.txt"' "$GOSTSIGN_AUDIT_FILE" && grep 'cancel-me.txt' "$GOSTSIGN_AUDIT_FILE" | grep -qv 'result=CANCELLED' &&
    fail "the cancelled document was signed"
ok "cancel during the PIN dialog: CANCELLED, the PIN discarded, nothing signed"

# --- one token seen through two modules is listed once, through the preferred module
mkdir -p "$WORK/mods"
cp "$MODULE" "$WORK/mods/opensc-pkcs11.so" # same token, under OpenSC's (lower-preference) name
"$GOSTSIGN" token list --module "$WORK/mods/opensc-pkcs11.so" --module "$MODULE" >"$WORK/dedup.out" 2>/dev/null
[ "$(grep -c 'gostsign demo' "$WORK/dedup.out")" = 1 ] || fail "token listed twice: $(cat "$WORK/dedup.out")"
grep -q 'via gostsign-softtoken.so' "$WORK/dedup.out" || fail "the preferred module was not chosen"
ok "a token seen through two modules is listed once, via the preferred module"

# --- another uid is refused (root can reach a 0600 socket, so SO_PEERCRED must stop it)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    other=$(mktemp -d /tmp/gostsign-peer.XXXXXX) # $WORK is 0700: nobody could not enter it
    chmod 755 "$other"
    mkdir -p "$other/run" "$other/state" && chown nobody "$other/run" "$other/state" && chmod 700 "$other/run"
    setpriv --reuid=nobody --regid=nogroup --clear-groups env GOSTSIGN_AGENT_SOCKET="$other/run/agent.sock" \
        XDG_STATE_HOME="$other/state" \
        "$AGENT_BIN" --system-config /nonexistent --user-config /nonexistent 2>/dev/null &
    other_pid=$!
    for _ in $(seq 50); do [ -S "$other/run/agent.sock" ] && break; sleep 0.1; done
    $PROTO "$other/run/agent.sock" '{"id":1,"cmd":"hello"}' >"$WORK/peer.out" || true
    kill "$other_pid" 2>/dev/null || true
    rm -rf "$other"
    grep -q 'PEER_REFUSED' "$WORK/peer.out" || fail "a peer with another uid was served: $(cat "$WORK/peer.out")"
    ok "a client with another uid gets PEER_REFUSED"
else
    echo "skip - peer uid test needs root and the nobody user"
fi

# --- the PIN appears in no log, record, reply or audit line
grep -r -l -a -e "$DEMO_PIN" -e "00000000" "$WORK/agent.log" "$GOSTSIGN_AUDIT_FILE" "$GS_TEST_PINENTRY_RECORD" \
    "$WORK"/*.out "$WORK"/*.err "$WORK/err" 2>/dev/null && fail "a PIN leaked into the files above"
grep -q 'result=OK' "$GOSTSIGN_AUDIT_FILE" && grep -q 'result=PIN_INCORRECT' "$GOSTSIGN_AUDIT_FILE" ||
    fail "audit trail incomplete"
ok "no PIN in the agent log, audit trail, pinentry record or any reply; audit has every outcome"

echo "$PASSED passed, 0 failed"
