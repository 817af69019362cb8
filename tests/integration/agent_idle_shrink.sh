#!/usr/bin/env bash
# The idle shrink (issue 17, target 1): an agent with nothing under way for idle_shrink_seconds
# becomes gostsign-agent-listener in the same process (same pid, same socket), which maps libc
# and nothing of OpenSSL, p11-kit or systemd; the next client's connection brings the whole
# agent back and is served; the agent's recent errors (the support bundle's) survive the trip.
# Checked on the agent's own socket and under socket activation (systemd-socket-activate, the
# listener then also waits out the rest of the idle exit), with the signals the agent obeys,
# a signature made after a shrink (verified by openssl), and the settings that turn it off.
. "$(dirname "$0")/lib.sh"
command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate missing (apt install systemd)"
PROTO="python3 $SOURCE_ROOT/tests/integration/agent_proto.py"
LISTENER=$(dirname "$GOSTSIGN_AGENT")/gostsign-agent-listener
[ -x "$LISTENER" ] || fail "no $LISTENER next to the agent"

export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config HOME=$WORK/home XDG_STATE_HOME=$WORK/state
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GOSTSIGN_AUDIT_FILE=$WORK/audit.log
export GOSTSIGN_AGENT_BIN=/nonexistent/gostsign-agent # clients never start another agent
unset GOSTSIGN_AGENT_SOCKET
SOCK=$XDG_RUNTIME_DIR/gostsign/agent.sock
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/gostsign" "$HOME" "$GOSTSIGN_SOFTTOKEN_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "demo token setup"; }
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"
write_config() {
    cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY"${1:+, $1}}
JSON
}
write_config
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

exe_of() { readlink "/proc/$1/exe" 2>/dev/null || echo gone; }
is_listener() { [ "$(exe_of "$1")" = "$(readlink -f "$LISTENER")" ]; }
is_agent() { [ "$(exe_of "$1")" = "$(readlink -f "$GOSTSIGN_AGENT")" ]; }
# wait_listener PID SECONDS: the process has shrunk within SECONDS.
wait_listener() {
    for _ in $(seq $(($2 * 20))); do is_listener "$1" && return 0; sleep 0.05; done
    cat "$WORK/agent.log"; fail "pid $1 did not shrink within $2 s (exe: $(exe_of "$1"))"
}
# Nothing heavy left in the listener's memory: these are what the whole agent maps.
check_light() {
    local maps
    maps=$(cat "/proc/$1/maps") || fail "no maps of $1"
    for lib in libcrypto libp11-kit libsystemd libjson-c libudev gostsign-softtoken gost.so; do
        ! grep -q "$lib" <<<"$maps" || fail "the shrunk agent $1 still maps $lib"
    done
    grep -q 'libc\.so' <<<"$maps" || fail "the listener maps no libc? $(cat "/proc/$1/maps")"
}
start_own() {
    rm -f "$SOCK"
    "$GOSTSIGN_AGENT" --system-config /nonexistent "$@" >"$WORK/agent.log" 2>&1 &
    AGENT=$!
    PIDS+=("$AGENT")
    for _ in $(seq 200); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
    cat "$WORK/agent.log"; fail "the agent did not bind $SOCK"
}

# --- own socket: shrink, come back, errors kept ------------------------------------------
start_own --idle-shrink 1
grep -q "(pid $AGENT, own socket, no idle exit, idle shrink after 1 s)" "$WORK/agent.log" ||
    fail "startup line: $(cat "$WORK/agent.log")"
"$GOSTSIGN" certs --json >"$WORK/certs.json" 2>"$WORK/err" || { cat "$WORK/err" "$WORK/agent.log"; fail "certs"; }
CERT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$WORK/certs.json") ||
    fail "no certificate: $(cat "$WORK/certs.json")"
grep -q libcrypto "/proc/$AGENT/maps" || fail "the serving agent maps no libcrypto: the check below proves nothing"
$PROTO "$SOCK" '{"id":1,"cmd":"no_such_command","origin":"local:test"}' >"$WORK/r1"
grep -q UNKNOWN_COMMAND "$WORK/r1" || fail "unknown command: $(cat "$WORK/r1")"
wait_listener "$AGENT" 5
check_light "$AGENT"
[ -S "$SOCK" ] || fail "the listener gave up the socket file"
grep -q "idle for 1 s, waiting for the next client as .*gostsign-agent-listener (pid $AGENT)" "$WORK/agent.log" ||
    fail "no shrink line: $(cat "$WORK/agent.log")"
ok "idle 1 s: pid $AGENT is gostsign-agent-listener now, without libcrypto, p11-kit, systemd, json-c, the token; the socket stays"

head -c 3000 /dev/urandom >"$WORK/doc.bin"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.bin" -o "$WORK/doc.p7s" >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err" "$WORK/agent.log"; fail "sign after the shrink"; }
is_agent "$AGENT" || fail "pid $AGENT did not come back as the agent ($(exe_of "$AGENT"))"
grep -q "back for a client (pid $AGENT)" "$WORK/agent.log" || fail "no comeback line"
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/doc.p7s" -content "$WORK/doc.bin" \
    -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>"$WORK/ossl.err" || { cat "$WORK/ossl.err"; fail "openssl verify"; }
ok "the next client brought pid $AGENT back as the agent; its signature verifies with openssl"

$PROTO "$SOCK" '{"id":2,"cmd":"status","origin":"local:test"}' >"$WORK/r2"
python3 - "$WORK/r2" <<'PY' || fail "recent errors after the shrink: $(cat "$WORK/r2")"
import json, sys
r = json.load(open(sys.argv[1]))
errs = r["result"]["recent_errors"]
assert any(e["code"] == "UNKNOWN_COMMAND" and e["cmd"] == "no_such_command" for e in errs), errs
PY
ok "the recent errors (UNKNOWN_COMMAND from before the shrink) came back with the agent"

# a quiet open connection holds the shrink off, as it holds the idle exit off
python3 "$SOURCE_ROOT/tests/integration/idle_client.py" "$SOCK" hold 3 || fail "hold"
is_agent "$AGENT" || fail "the agent shrank with a connection open"
wait_listener "$AGENT" 5
ok "an open connection (3 s) holds the shrink off; after it the agent shrinks again"

# parallel clients waking the listener at once are all served by the one agent
BEFORE=$(grep -c "back for a client (pid $AGENT)" "$WORK/agent.log")
CLIENTS=()
for i in 1 2 3 4; do "$GOSTSIGN" tokens --json >"$WORK/t$i" 2>&1 & CLIENTS+=($!); done
for i in 0 1 2 3; do wait "${CLIENTS[$i]}" || fail "parallel client $((i + 1)): $(cat "$WORK/t$((i + 1))")"; done
for i in 1 2 3 4; do grep -q '"label"' "$WORK/t$i" || fail "parallel client $i: $(cat "$WORK/t$i")"; done
AFTER=$(grep -c "back for a client (pid $AGENT)" "$WORK/agent.log")
[ "$AFTER" = $((BEFORE + 1)) ] || fail "comebacks $BEFORE -> $AFTER: $(cat "$WORK/agent.log")"
ok "four clients at once woke the listener: one comeback, all four served"

# SIGTERM to the listener: it goes and takes its socket file with it
wait_listener "$AGENT" 5
kill -TERM "$AGENT"
STATUS=0
wait "$AGENT" || STATUS=$?
[ "$STATUS" = 0 ] || fail "the listener exited with $STATUS on SIGTERM"
[ ! -e "$SOCK" ] || fail "the listener left its socket file"
ok "SIGTERM stops the shrunk agent (status 0) and removes its socket file"

# --- turned off: idle_shrink_seconds 0, --idle-shrink 0 ------------------------------------
write_config '"idle_shrink_seconds": 0'
start_own
"$GOSTSIGN" tokens --json >/dev/null 2>&1 || fail "tokens (no shrink)"
sleep 2
is_agent "$AGENT" || fail "idle_shrink_seconds 0 still shrank"
grep -q "(pid $AGENT, own socket, no idle exit)" "$WORK/agent.log" || fail "line: $(cat "$WORK/agent.log")"
kill "$AGENT"; wait "$AGENT" || true
write_config '"idle_shrink_seconds": 1'
start_own --idle-shrink 0 # the command line wins over the file
"$GOSTSIGN" tokens --json >/dev/null 2>&1 || fail "tokens (flag 0)"
sleep 2
is_agent "$AGENT" || fail "--idle-shrink 0 still shrank"
kill "$AGENT"; wait "$AGENT" || true
write_config '"idle_shrink_seconds": 1'
start_own
wait_listener "$AGENT" 5
kill "$AGENT"; wait "$AGENT" || true
write_config '"idle_shrink_seconds": "soon"'
STATUS=0
"$GOSTSIGN_AGENT" --system-config /nonexistent >"$WORK/bad.log" 2>&1 || STATUS=$?
[ "$STATUS" = "$(error_number BAD_JSON)" ] || fail "idle_shrink_seconds soon: status $STATUS, $(cat "$WORK/bad.log")"
write_config
ok "idle_shrink_seconds: 0 and --idle-shrink 0 keep the agent whole, 1 in the file shrinks, a string is BAD_JSON"

# a configuration broken while the agent was shrunk: the comeback fails with its error, the
# socket file goes (no agent would answer on it), the next client could start a new agent
start_own --idle-shrink 1
wait_listener "$AGENT" 5
echo '{"modules": [' >"$XDG_CONFIG_HOME/gostsign/agent.json"
"$GOSTSIGN" tokens --json >/dev/null 2>&1 && fail "tokens served by an agent with a broken configuration"
STATUS=0
wait "$AGENT" || STATUS=$?
[ "$STATUS" = "$(error_number BAD_JSON)" ] || fail "comeback with a broken config: status $STATUS, $(cat "$WORK/agent.log")"
[ ! -e "$SOCK" ] || fail "the failed comeback left its socket file"
write_config
ok "a configuration broken while shrunk: the comeback exits with BAD_JSON and removes its socket file"

# the default: 10 s on its own socket
start_own
grep -q "(pid $AGENT, own socket, no idle exit, idle shrink after 10 s)" "$WORK/agent.log" ||
    fail "default line: $(cat "$WORK/agent.log")"
kill "$AGENT"; wait "$AGENT" || true
ok "the default idle shrink is 10 s"

# --- under socket activation: shrink, then the listener's share of the idle exit -------------
rm -f "$SOCK"
mkdir -p "$(dirname "$SOCK")"
systemd-socket-activate -l "$SOCK" -E HOME -E XDG_RUNTIME_DIR -E XDG_CONFIG_HOME -E XDG_STATE_HOME \
    -E GOSTSIGN_SOFTTOKEN_DIR -E GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS -E GS_TEST_PINENTRY_SCRIPT \
    -E GOSTSIGN_AUDIT_FILE -E LSAN_OPTIONS -E ASAN_OPTIONS -E UBSAN_OPTIONS -E PATH \
    "$GOSTSIGN_AGENT" --system-config /nonexistent --idle-shrink 1 --idle-exit 4 >"$WORK/agent.log" 2>&1 &
ACT=$!
PIDS+=("$ACT")
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
"$GOSTSIGN" tokens --json >/dev/null 2>"$WORK/err" || { cat "$WORK/err" "$WORK/agent.log"; fail "tokens (activated)"; }
T0=$(date +%s%N)
grep -q "(pid $ACT, socket from systemd, idle exit after 4 s, idle shrink after 1 s)" "$WORK/agent.log" ||
    fail "activated line: $(cat "$WORK/agent.log")"
wait_listener "$ACT" 5
check_light "$ACT"
"$GOSTSIGN" tokens --json >/dev/null 2>"$WORK/err" || { cat "$WORK/err" "$WORK/agent.log"; fail "tokens after the shrink (activated)"; }
is_agent "$ACT" || fail "the activated agent did not come back"
T1=$(date +%s%N)
STATUS=0
wait "$ACT" || STATUS=$?
T2=$(date +%s%N)
[ "$STATUS" = 0 ] || { cat "$WORK/agent.log"; fail "activated agent exit status $STATUS"; }
IDLE_MS=$(((T2 - T1) / 1000000))
[ "$IDLE_MS" -ge 3500 ] && [ "$IDLE_MS" -le 9000 ] || fail "exited $IDLE_MS ms after its last client (idle exit 4 s)"
grep -q "idle 3 s more as gostsign-agent-listener, exiting (pid $ACT)" "$WORK/agent.log" ||
    fail "no listener exit line: $(cat "$WORK/agent.log")"
[ -S "$SOCK" ] || fail "the socket file systemd's side owns was removed"
ok "activated: shrank after 1 s, came back for a client, and the listener exited 4 s after the last one ($IDLE_MS ms), leaving systemd's socket file"

# --- the listener alone refuses to run -------------------------------------------------------
STATUS=0
"$LISTENER" -- /bin/true 2>"$WORK/lonely.err" || STATUS=$?
[ "$STATUS" = 2 ] && grep -q "started by gostsign-agent only" "$WORK/lonely.err" ||
    fail "the listener without a socket: status $STATUS, $(cat "$WORK/lonely.err")"
ok "gostsign-agent-listener without a listening socket on fd 3 refuses (status 2)"
echo "$PASSED passed, 0 failed"
