#!/usr/bin/env bash
# A hostile page on an allowed origin, and a hostile local client, against gostsign-agent
# (issue 18): null / wrong-type / unknown fields and bad ids, ten parallel wrong PINs, a forged
# login through `sign`, a parked upload leaking into another client's signature, unbounded
# uploads, connections and requests, a half-closed client. The agent must answer each with a
# stable error and stay up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
ORIGIN=https://lk.example.ru
HOSTILE=$SOURCE_ROOT/tests/integration/agent_hostile.py

write_agent_config "$ORIGIN"
make_demo_token
start_agent
run_case() {
    timeout 300 python3 "$HOSTILE" "$WORK/run/agent.sock" "$ORIGIN" "$AGENT_PID" "$1" ||
        { tail -20 "$WORK/agent.log" >&2; fail "case $1"; }
    kill -0 "$AGENT_PID" || fail "the agent died in case $1"
}

run_case bad_values
ok "null, wrong-type and unknown fields of every command, bad ids: BAD_REQUEST naming the field"

echo "pin 00000000" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
: >"$GS_TEST_PINENTRY_RECORD"
run_case parallel_wrong_pins
dialogs=$(grep -c '^SETDESC' "$GS_TEST_PINENTRY_RECORD" || true)
[ "$dialogs" = 3 ] || fail "10 parallel requests opened $dialogs PIN dialogs, expected 3"
grep '^SETDESC' "$GS_TEST_PINENTRY_RECORD" | sed -n 3p | grep -q 'приостановит подпись' ||
    fail "the third dialog does not warn of the agent's pause"
grep '^SETDESC' "$GS_TEST_PINENTRY_RECORD" | grep -q 'заблокирует токен' &&
    fail "a dialog claims the token will lock, though only the agent's pause is near"
"$GOSTSIGN" token list --module "$SOFTTOKEN_MODULE" >"$WORK/tl.out" 2>&1 || true
grep -qi 'locked\|заблок' "$WORK/tl.out" && fail "the token was locked: $(cat "$WORK/tl.out")"
ok "10 parallel wrong PINs: one dialog at a time, 3 reach the token, the third warns of the pause"

# the user ends the pause; the right PIN again
rm -f "$XDG_STATE_HOME"/gostsign/pin-limiter/*
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
run_case forged_login
ok "sign refuses data shaped like a login for another site"

# the demo cabinet accepts only signatures with the login mark: a sign() over the same text has none
python3 - "$WORK/run/agent.sock" "$SOURCE_ROOT/native-messaging/cabinet" <<'PY' || fail "login mark"
import base64, json, os, socket, struct, sys, tempfile
sys.path.insert(0, sys.argv[2])
import cabinet
def call(msg):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); b = json.dumps(msg).encode()
    s.sendall(struct.pack("=I", len(b)) + b)
    while True:
        (n,) = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL)); m = json.loads(s.recv(n, socket.MSG_WAITALL))
        if "ok" in m: return m
auth = call({"id": 1, "cmd": "authenticate", "origin": "https://lk.example.ru", "args": {"challenge": "mark-check-123456"}})
doc = call({"id": 2, "cmd": "sign", "origin": "https://lk.example.ru", "args": {"detached": False, "data": base64.b64encode(b"just a document").decode()}})
assert auth["ok"] and doc["ok"], (auth, doc)
d = tempfile.mkdtemp()
for name, r, want in (("auth", auth, True), ("doc", doc, False)):
    p = os.path.join(d, name + ".p7s"); open(p, "wb").write(base64.b64decode(r["result"]["cms"]))
    assert cabinet.has_login_mark(p) is want, (name, want)
print("ok: the cabinet sees the mark on an authenticate signature and none on a sign one")
PY
ok "authenticate signatures carry the contentHints login mark; sign signatures never do"

run_case upload_leak
ok "parked uploads belong to their connection"
run_case upload_bounds
ok "parked uploads are freed on close and bounded per connection"
run_case connection_bounds
ok "connections and requests are bounded (AGENT_BUSY), the agent stays up"
run_case half_close
ok "replies reach a half-closed client"
echo "$PASSED passed, 0 failed"
