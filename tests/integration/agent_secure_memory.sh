#!/usr/bin/env bash
# When mlock fails (RLIMIT_MEMLOCK 0 and no CAP_IPC_LOCK) the agent still signs, but says so
# (issue 18, item 10): one warning in its log (no secret in it), `hello` reports
# "secure_memory": "unlocked", and `gostsign doctor` warns with MEMORY_NOT_LOCKED. With the
# normal limit `hello` says "locked" and the doctor check is ok.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
: "${BUILD_ROOT:?}"
command -v prlimit >/dev/null && command -v setpriv >/dev/null || fail "prlimit and setpriv (util-linux) are needed"
PROTO="python3 $SOURCE_ROOT/tests/integration/agent_proto.py"
DEMO_PIN=12345678
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_AGENT_SOCKET=$XDG_RUNTIME_DIR/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$XDG_CONFIG_HOME/gostsign"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >/dev/null 2>&1 || fail "demo token"
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY"}
JSON
AGENT=""
trap '[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null; rm -rf "$WORK"' EXIT

# start_agent [WRAPPER...]: the agent in the background (through WRAPPER), waiting for its socket.
start_agent() {
    rm -f "$GOSTSIGN_AGENT_SOCKET"
    "$@" "$GOSTSIGN_AGENT" --system-config /nonexistent 2>"$WORK/agent.log" &
    AGENT=$!
    for _ in $(seq 100); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && return 0; sleep 0.05; done
    cat "$WORK/agent.log"
    fail "agent did not start"
}
stop_agent() { kill "$AGENT"; wait "$AGENT" 2>/dev/null || true; AGENT=""; }

# hello_memory: the agent's "secure_memory" field.
hello_memory() {
    $PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":1,"cmd":"hello"}' |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["result"].get("secure_memory", "absent"))'
}

# --- no locked memory at all: root must lose CAP_IPC_LOCK too, or mlock ignores the limit
start_agent setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock prlimit --memlock=0:0
[ "$(hello_memory)" = unlocked ] || fail "hello does not report unlocked memory: $(hello_memory)"
ok "RLIMIT_MEMLOCK 0: hello reports \"secure_memory\": \"unlocked\""

CERT=$("$GOSTSIGN" certs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo "text" >"$WORK/doc.txt"
for i in 1 2; do
    echo "pin $DEMO_PIN" >"$GS_TEST_PINENTRY_SCRIPT"
    "$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.txt" -o "$WORK/doc$i.p7s" >/dev/null 2>"$WORK/sign.err" ||
        fail "signing with unlocked memory: $(cat "$WORK/sign.err")"
done
[ "$(grep -c 'MEMORY_NOT_LOCKED' "$WORK/agent.log")" = 1 ] ||
    fail "expected exactly one warning in the agent log: $(cat "$WORK/agent.log")"
grep -q 'mlock: Operation not permitted' "$WORK/agent.log" || fail "the warning lacks the reason: $(cat "$WORK/agent.log")"
! grep -q "$DEMO_PIN" "$WORK/agent.log" || fail "the PIN is in the agent log"
ok "signing goes on with unlocked memory; the log warns once, without secrets"

doctor "$WORK/unlocked.json" --no-p11-kit --module "$SOFTTOKEN_MODULE"
verdict "$WORK/unlocked.json" agent.secure_memory warn MEMORY_NOT_LOCKED LimitMEMLOCK secure_memory=unlocked
ok "doctor: agent.secure_memory warns MEMORY_NOT_LOCKED with the fix"
stop_agent

# --- the normal limit: locked
start_agent
[ "$(hello_memory)" = locked ] || fail "hello does not report locked memory: $(hello_memory)"
doctor "$WORK/locked.json" --no-p11-kit --module "$SOFTTOKEN_MODULE"
verdict "$WORK/locked.json" agent.secure_memory ok OK "" secure_memory=locked
! grep -q MEMORY_NOT_LOCKED "$WORK/agent.log" || fail "a warning without an mlock failure"
ok "normal limit: hello says locked, doctor agent.secure_memory ok, no warning"
stop_agent
echo "$PASSED passed, 0 failed"
