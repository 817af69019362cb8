# Shared set-up for the gostsign-nmhost shell tests (sourced after lib.sh): paths of the built
# programs, a Python driver that speaks native messaging as a browser does, and helpers to run
# the agent on the demo software token with the scripted pinentry. Processes are stopped by pid.
: "${BUILD_ROOT:?}"
NMHOST=$GOSTSIGN_NMHOST
NMCLIENT=$SOURCE_ROOT/native-messaging/tools/nm_client.py
AGENT_PID=""
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export XDG_CONFIG_HOME=$WORK/config GOSTSIGN_NMHOST_CONFIG=$WORK/nmhost.json
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$WORK/run" "$WORK/config/gostsign" "$GOSTSIGN_SOFTTOKEN_DIR"
chmod 700 "$WORK/run" # the agent and its clients refuse a socket directory others may enter
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"

# kill_ours: stops the agents and pinentries of THIS test (an agent the host started on demand,
# a pinentry orphaned by a killed agent), found by this test's own socket path in their
# environment; nothing else is touched.
kill_ours() {
    for p in /proc/[0-9]*; do
        if grep -qz "^GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock\$" "$p/environ" 2>/dev/null &&
            grep -qE "gostsign-agent|scripted-pinentry" "$p/cmdline" 2>/dev/null; then
            kill -9 "${p#/proc/}" 2>/dev/null || true
        fi
    done
}

# Stops the agent this test started (by pid) and kill_ours, then removes the work directory.
nm_cleanup() {
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
    kill_ours
    rm -rf "$WORK"
}
trap nm_cleanup EXIT

# write_agent_config [ALLOWED_ORIGIN]: the agent's user config (softtoken, scripted pinentry).
write_agent_config() {
    cat >"$WORK/config/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY",
 "allow_localhost": false, "allowed_origins": ["${1:-https://lk.example.ru}"],
 "request_timeout_seconds": 20}
JSON
}

# make_demo_token: the demo token with a key and certificate, and the test CA in $WORK/demo.
make_demo_token() {
    "$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" \
        >/dev/null || fail "gostsign-softtoken-setup"
}

# start_agent: runs the agent in the foreground (background job) on the test config.
start_agent() {
    "$GOSTSIGN_AGENT" --user-config "$WORK/config/gostsign/agent.json" \
        --system-config /nonexistent 2>>"$WORK/agent.log" &
    AGENT_PID=$!
    for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && return 0; sleep 0.05; done
    cat "$WORK/agent.log"
    fail "agent did not start"
}

# stop_agent: stops the agent started by start_agent.
stop_agent() {
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=""
}

# nm ARGS...: runs the driver against the host (see nm_client.py); output in $WORK/nm.out.
nm() { timeout 60 python3 "$NMCLIENT" "$NMHOST" "$@" >"$WORK/nm.out" 2>"$WORK/nm.err"; }

# reply_field N|last EXPR: evaluates a Python expression over message N (1-based) of $WORK/nm.out.
reply_field() {
    python3 -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; m=L[-1] if sys.argv[2]=="last" else L[int(sys.argv[2])-1]; print(eval(sys.argv[3]))' \
        "$WORK/nm.out" "$1" "$2"
}
