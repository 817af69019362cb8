#!/usr/bin/env bash
# gostsign-nmhost with the agent: a dead agent gives AGENT_UNAVAILABLE; the host starts the
# agent on demand; a site outside the allow-list gets ORIGIN_NOT_ALLOWED without any PIN dialog;
# a full `authenticate` on the demo software token through the host gives a CMS that
# `gostsign verify` and `openssl cms -verify -engine gost` accept, binding the origin and the
# challenge; replies overtake a request waiting in the PIN dialog; an agent dying mid-request
# fails the pending request with AGENT_UNAVAILABLE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
make_demo_token
write_agent_config https://lk.example.ru
ORIGIN=https://lk.example.ru

# 1. Nobody listens and the agent cannot be started.
GOSTSIGN_AGENT_BIN=/bin/false nm '{"id":1,"cmd":"hello","origin":"https://a.ru"}' '{"id":2,"cmd":"tokens","origin":"https://a.ru"}' ||
    fail "dead agent: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["error"]["code"]')" = AGENT_UNAVAILABLE ] && [ "$(reply_field 2 'm["error"]["code"]')" = AGENT_UNAVAILABLE ] ||
    fail "dead agent: $(cat "$WORK/nm.out")"
grep -q "exit 0" "$WORK/nm.err" || fail "host did not exit cleanly"
ok "dead agent: every request gets AGENT_UNAVAILABLE, the host keeps serving and exits cleanly"

# 2. On-demand start: the host launches gostsign-agent (it reads $XDG_CONFIG_HOME/gostsign/agent.json).
GOSTSIGN_AGENT_BIN=$GOSTSIGN_AGENT nm '{"id":1,"cmd":"hello","origin":"https://a.ru"}' ||
    fail "autostart: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["result"]["agent"]')" = gostsign-agent ] || fail "autostart: $(cat "$WORK/nm.out")"
ok "the host starts the agent on demand"
kill_ours
rm -f "$WORK/run/agent.sock"

start_agent
# 3. Origin outside the allow-list: refused by the agent, the pinentry never runs.
rm -f "$GS_TEST_PINENTRY_RECORD"
nm '{"id":1,"cmd":"authenticate","origin":"https://evil.example.com","args":{"challenge":"abcdefgh12345678"}}' \
    '{"id":2,"cmd":"sign","origin":"https://evil.example.com","args":{"data":"eA=="}}' || fail "evil"
[ "$(reply_field 1 'm["error"]["code"]')" = ORIGIN_NOT_ALLOWED ] && [ "$(reply_field 2 'm["error"]["code"]')" = ORIGIN_NOT_ALLOWED ] ||
    fail "evil origin: $(cat "$WORK/nm.out")"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "the pinentry was started for a refused origin"
ok "origin outside the allow-list: ORIGIN_NOT_ALLOWED, no PIN dialog"

# 3b. The agent's local-only commands (its recent errors and PIN pauses, stop, unpause) are not
# forwarded for pages, even from an allowed site.
nm '{"id":1,"cmd":"status","origin":"https://lk.example.ru"}' \
    '{"id":2,"cmd":"shutdown","origin":"https://lk.example.ru"}' || fail "status from a page"
[ "$(reply_field 1 'm["error"]["code"]')" = UNKNOWN_COMMAND ] && [ "$(reply_field 2 'm["error"]["code"]')" = UNKNOWN_COMMAND ] ||
    fail "a page reached a local-only command: $(cat "$WORK/nm.out")"
if grep -q recent_errors "$WORK/nm.out"; then fail "a page got the agent's recent errors"; fi
kill -0 "$AGENT_PID" || fail "a page stopped the agent"
ok "local-only commands (status, shutdown) are refused by the host for pages"

# 4. The full authenticate through the host.
CHALLENGE=test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
nm '{"id":1,"cmd":"certificates","origin":"'$ORIGIN'"}' \
    '{"id":"auth","cmd":"authenticate","origin":"'$ORIGIN'","args":{"challenge":"'$CHALLENGE'"}}' ||
    fail "authenticate: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["result"][0]["subject"]["ogrn"]')" = 1027700132195 ] || fail "certificates: $(head -c 300 "$WORK/nm.out")"
[ "$(reply_field 2 'm["event"]')" = pin-requested ] || fail "no pin-requested event"
reply_field last 'm["result"]["cms"]' | base64 -d >"$WORK/auth.p7s" || fail "no cms: $(tail -1 "$WORK/nm.out" | head -c 400)"
reply_field last 'm["result"]["signed_text"]' >"$WORK/signed_text.reply"
grep -q "^SETDESC" "$GS_TEST_PINENTRY_RECORD" || fail "the PIN dialog was not shown"
ok "authenticate through the host: events pin-requested/signing, then the CMS"
"$GOSTSIGN" verify --ca-file "$WORK/demo/ca.pem" "$WORK/auth.p7s" >"$WORK/verify.out" ||
    { cat "$WORK/verify.out"; fail "gostsign verify rejects the login signature"; }
grep -q "1027700132195" "$WORK/verify.out" || fail "verify report lacks the OGRN"
ok "gostsign verify --ca-file accepts the signature"
ossl cms -verify -engine gost -inform DER -in "$WORK/auth.p7s" -CAfile "$WORK/demo/ca.pem" \
    -binary -out "$WORK/content" 2>"$WORK/ossl.err" || { cat "$WORK/ossl.err"; fail "openssl cms -verify"; }
ok "openssl cms -verify -engine gost accepts the signature"
head -3 "$WORK/content" >"$WORK/content.head"
printf 'gostsign-authenticate-v1\norigin: %s\nchallenge: %s\n' "$ORIGIN" "$CHALLENGE" | cmp -s - "$WORK/content.head" ||
    { cat "$WORK/content"; fail "the signed text does not bind origin and challenge"; }
ok "the signed content binds the origin and the challenge"
# the check can fail: a flipped byte in the content must not verify
sed 's/challenge: test-/challenge: tesT-/' "$WORK/content" >"$WORK/content.bad"
if ossl cms -verify -engine gost -inform DER -in "$WORK/auth.p7s" -CAfile "$WORK/demo/ca.pem" \
    -binary -content "$WORK/content.bad" -out /dev/null 2>/dev/null; then
    fail "openssl accepted altered content"
fi
ok "altered content is rejected (the check can fail)"

# 5. Replies overtake a request waiting in the PIN dialog; an agent dying fails it cleanly.
echo "hang" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
python3 - "$NMHOST" "$NMCLIENT" "$AGENT_PID" "$ORIGIN" <<'PY' || { tail -5 "$WORK/agent.log" >&2; fail "concurrency / dying agent"; }
import os, signal, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from nm_client import Host
h = Host(sys.argv[1], timeout=20)
h.send({"id": "slow", "cmd": "authenticate", "origin": sys.argv[4], "args": {"challenge": "abcdefgh12345678"}})
m = h.receive()
assert m.get("event") == "pin-requested", m
r = h.call({"id": "quick", "cmd": "hello", "origin": sys.argv[4]})
assert r["ok"] and r["result"]["agent"] == "gostsign-agent", r
print("ok: hello answered while authenticate waits for the PIN")
os.kill(int(sys.argv[3]), signal.SIGKILL)
m = h.receive()
assert m["id"] == "slow" and m["error"]["code"] == "AGENT_UNAVAILABLE", m
r = h.call({"id": "after", "cmd": "hello", "origin": sys.argv[4]})
assert r.get("ok") and r["result"]["agent"] == "gostsign-agent", r
h.close_stdin()
assert h.wait() == 0
print("ok: the agent died: the pending request got AGENT_UNAVAILABLE; the next request restarted it")
PY
ok "replies overtake a pending PIN dialog; a dying agent fails the pending request; the next one restarts it"
echo "$PASSED passed, 0 failed"
