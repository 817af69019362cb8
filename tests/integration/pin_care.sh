#!/usr/bin/env bash
# Issue 15, item 5: `gostsign token change-pin` and `gostsign token unblock` through the agent's
# dialogs (the scripted pinentry plays the user), on a software token whose state is checked
# with pkcs11-tool: the new PIN logs in and the old one no longer does; the token's length rules
# are shown and a too-short new PIN is refused before the token is called; a repeat that differs
# is refused; a PIN locked with wrong tries is unblocked with the SO PIN; no PIN is ever taken on
# the command line; and neither command is reachable from a web page (gostsign-nmhost, or a
# page's origin on the agent's socket).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
n() { error_number "$1"; }
script() { printf '%s\n' "$@" >"$GS_TEST_PINENTRY_SCRIPT"; rm -f "$GS_TEST_PINENTRY_SCRIPT.next"; : >"$GS_TEST_PINENTRY_RECORD"; }
logs_in() { p11 --token-label pins --login --pin "$1" -O >/dev/null 2>&1; }
gs() { "$GOSTSIGN" token "$@" --token pins; }

new_token pins
write_agent_config
export GOSTSIGN_AUDIT_FILE=$WORK/audit.log
start_agent
logs_in $USER_PIN || fail "the first PIN does not log in"

# the token's rules, as pkcs11-tool reads CK_TOKEN_INFO
rules=$(p11 -L 2>/dev/null | awk '/token label *: pins$/ { f = 1 } f && /pin min\/max/ { print $NF; exit }')
[ -n "$rules" ] || fail "pkcs11-tool shows no PIN length rules"
MIN=${rules%/*} MAX=${rules#*/}

script "pin $USER_PIN" "pin 11112222" "pin 11112222"
expect_status 0 gs change-pin
logs_in 11112222 || fail "the new PIN does not log in"
! logs_in $USER_PIN || fail "the old PIN still logs in"
grep -q "SETDESC.*Смена PIN-кода" "$GS_TEST_PINENTRY_RECORD" || fail "no change dialog"
grep -q "от $MIN до $MAX символов" "$GS_TEST_PINENTRY_RECORD" && grep -q "$MIN to $MAX characters" "$GS_TEST_PINENTRY_RECORD" ||
    { cat "$GS_TEST_PINENTRY_RECORD"; fail "the dialog does not state the token's rules $MIN..$MAX"; }
[ "$(grep -c '^GETPIN' "$GS_TEST_PINENTRY_RECORD")" = 3 ] || fail "not three dialogs (current, new, repeat)"
! grep -q "11112222\|$USER_PIN" "$WORK/agent.log" || fail "a PIN reached the agent's log"
ok "change-pin: current PIN, new PIN twice (rules $MIN..$MAX shown); pkcs11-tool: new PIN works, old fails"

logs_in 11112222 # a good login resets the counter the old PIN's try above took
! token_flags pins | grep -q "count low" || fail "the counter did not reset"
short=$(printf '%*s' $((MIN - 1)) '' | tr ' ' 7)
script "pin 99999999" "pin $short" "pin $short" # a wrong current PIN: the token must not see it
expect_status "$(n PIN_LENGTH)" gs change-pin
grep -q "PIN_LENGTH" "$WORK/err" || fail "no PIN_LENGTH message"
token_flags pins | grep -q "count low" && fail "the token was called (its counter went down)"
logs_in 11112222 || fail "the PIN changed after a refused too-short PIN"
ok "a new PIN shorter than the token's minimum: PIN_LENGTH before the token is called"

script "pin 11112222" "pin 22223333" "pin 22223334"
expect_status "$(n PIN_MISMATCH)" gs change-pin
logs_in 11112222 || fail "the PIN changed after a mismatched repeat"
ok "a repeat that differs: PIN_MISMATCH, PIN unchanged"

expect_status "$(n USAGE)" "$GOSTSIGN" token change-pin 11112222 22223333
expect_status "$(n USAGE)" "$GOSTSIGN" token unblock --so-pin 87654321
ok "no PIN is taken on the command line"

# lock the user PIN with wrong tries (pkcs11-tool, outside the agent)
for _ in $(seq 20); do
    token_flags pins | grep -q "user PIN locked" && break
    p11 --token-label pins -l --pin 00000000 -O >/dev/null 2>&1 || true
done
token_flags pins | grep -q "user PIN locked" || fail "could not lock the PIN"
script "pin 11112222" "pin 22223333" "pin 22223333"
expect_status "$(n PIN_LOCKED)" gs change-pin
grep -q "gostsign token unblock" "$WORK/err" || { cat "$WORK/err"; fail "the PIN_LOCKED fix does not name the command"; }
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a dialog opened for a locked PIN"
ok "change-pin on a locked PIN: PIN_LOCKED, no dialog, the fix names gostsign token unblock"

script "pin 00000000" "pin 33334444" "pin 33334444"
expect_status "$(n PIN_INCORRECT)" gs unblock
token_flags pins | grep -q "user PIN locked" || fail "a wrong SO PIN unblocked"
ok "unblock with a wrong SO PIN: PIN_INCORRECT, still locked"

script "pin $SO_PIN" "pin 33334444" "pin 33334444"
expect_status 0 gs unblock
grep -q "SO PIN / PUK" "$GS_TEST_PINENTRY_RECORD" || fail "the unblock dialog does not ask the SO PIN"
! token_flags pins | grep -q "user PIN locked" || fail "still locked after unblock"
logs_in 33334444 || fail "the new PIN after unblock does not log in"
! logs_in 11112222 || fail "the PIN from before the lock still logs in"
ok "unblock: SO PIN, new PIN twice; pkcs11-tool: unlocked, the new PIN works, the old fails"
grep -q "op=change_pin .*result=OK" "$GOSTSIGN_AUDIT_FILE" && grep -q "op=unblock_pin .*result=OK" "$GOSTSIGN_AUDIT_FILE" &&
    grep -q "op=change_pin .*result=PIN_MISMATCH" "$GOSTSIGN_AUDIT_FILE" || { cat "$GOSTSIGN_AUDIT_FILE"; fail "audit records"; }
! grep -q "11112222\|33334444\|$SO_PIN" "$GOSTSIGN_AUDIT_FILE" || fail "a PIN in the audit log"
ok "every PIN change is in the audit log, no PIN in it"

# a page cannot reach either command: gostsign-nmhost does not forward them ...
: >"$GS_TEST_PINENTRY_RECORD"
nm '{"id":1,"cmd":"change_pin","origin":"https://lk.example.ru"}' \
   '{"id":2,"cmd":"unblock_pin","origin":"https://lk.example.ru","args":{"token":"pins"}}' ||
    { cat "$WORK/nm.err"; fail "nmhost driver"; }
[ "$(reply_field 1 'L[0]["error"]["code"]')" = UNKNOWN_COMMAND ] || fail "nmhost forwarded change_pin"
[ "$(reply_field 2 'L[1]["error"]["code"]')" = UNKNOWN_COMMAND ] || fail "nmhost forwarded unblock_pin"
# ... and the agent refuses a page's origin on its own socket
python3 - <<'PY' || fail "the agent accepted change_pin from a web origin"
import json, os, socket, struct
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(os.environ["GOSTSIGN_AGENT_SOCKET"])
b = json.dumps({"id": 1, "cmd": "unblock_pin", "origin": "https://lk.example.ru"}).encode()
s.sendall(struct.pack("=I", len(b)) + b)
(n,) = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL))
m = json.loads(s.recv(n, socket.MSG_WAITALL))
assert not m["ok"] and m["error"]["code"] == "ORIGIN_NOT_ALLOWED", m
PY
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "a page opened a PIN dialog"
logs_in 33334444 || fail "the PIN changed"
ok "pages: nmhost answers UNKNOWN_COMMAND, the agent ORIGIN_NOT_ALLOWED, no dialog"
stop_agent
echo "passed $PASSED"
