#!/usr/bin/env bash
# gostsign doctor with a running agent on the software token: the agent layer reports it, and
# --test-sign makes one signature through the agent (scripted pinentry) and verifies it; a
# cancelled PIN dialog turns that check into a failure with its code.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
: "${BUILD_ROOT:?}"
MODULE=$SOFTTOKEN_MODULE
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$XDG_CONFIG_HOME/gostsign"
"$SOFTTOKEN_SETUP" --module "$MODULE" --out "$WORK/demo" >/dev/null 2>&1 || fail "demo token"
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$MODULE"], "pinentry": "$SCRIPTED_PINENTRY"}
JSON
"$GOSTSIGN_AGENT" --system-config /nonexistent 2>"$WORK/agent.log" &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && break; sleep 0.1; done
mkdir -p "$WORK/cadir" && cp "$WORK/demo/ca.pem" "$WORK/cadir/" && ossl rehash "$WORK/cadir" >/dev/null 2>&1

echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"
doctor "$WORK/ok.json" --test-sign --no-p11-kit --module "$MODULE" --ca-dir "$WORK/cadir"
verdict "$WORK/ok.json" agent.running ok OK "" agent_version=0.1.0 protocol=2
ok "the agent layer reports the running agent with its version"
verdict "$WORK/ok.json" test_sign.signature ok OK "" chain_checked=true
ok "--test-sign: one signature through the agent, verified with the chain"

echo "cancel" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
doctor "$WORK/cancel.json" --test-sign --no-p11-kit --module "$MODULE" --ca-dir "$WORK/cadir"
verdict "$WORK/cancel.json" test_sign.signature fail USER_CANCELLED
[ "$DOCTOR_RC" = 91 ] || fail "doctor exit $DOCTOR_RC with a failed test signature, expected 91"
ok "a cancelled PIN dialog fails the test signature with USER_CANCELLED (exit 91)"

# the agent's PIN pause per token (item 13): wrong PINs counted, then the pause with its end
verdict "$WORK/cancel.json" agent.pin_pause ok OK "" failures=0 max_failures=3 paused=false
echo "pin 00000000" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
doctor "$WORK/wrong1.json" --test-sign --no-p11-kit --module "$MODULE"
verdict "$WORK/wrong1.json" test_sign.signature fail PIN_INCORRECT
doctor "$WORK/after1.json" --no-p11-kit --module "$MODULE" # the agent layer runs before the signature
verdict "$WORK/after1.json" agent.pin_pause ok OK "" failures=1 max_failures=3 paused=false
for _ in 2 3; do
    rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
    doctor "$WORK/wrong.json" --test-sign --no-p11-kit --module "$MODULE"
done
doctor "$WORK/paused.json" --no-p11-kit --module "$MODULE"
verdict "$WORK/paused.json" agent.pin_pause warn PIN_LIMITER "gostsign agent unpause" failures=3 paused=true
python3 - "$WORK/paused.json" <<'PY' || fail "the pause's end is not shown"
import calendar, json, sys, time
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "agent.pin_pause"][0]
until = calendar.timegm(time.strptime(c["evidence"]["paused_until"], "%Y-%m-%dT%H:%M:%SZ"))
assert time.time() < until <= time.time() + 900 + 5, c
assert c["evidence"]["paused_until"] in c["message"] and c["evidence"]["paused_until"] in c["message_ru"], c
PY
LANG=ru_RU.UTF-8 "$GOSTSIGN" doctor --no-p11-kit --module "$MODULE" >"$WORK/paused.txt" 2>&1 || true
grep -q "приостановил ввод PIN-кода до" "$WORK/paused.txt" || fail "the text report does not show the pause: $(cat "$WORK/paused.txt")"
ok "doctor shows the agent's PIN pause per token: attempts counted, paused until when, how to end it"
echo "$PASSED passed, 0 failed"
