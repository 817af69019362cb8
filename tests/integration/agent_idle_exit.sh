#!/usr/bin/env bash
# The user units' socket activation with the agent exiting when idle and started again by the
# next client (issue 16, item 6).
#
# The units (agent/systemd): systemd-analyze verifies them, and their options are the ones the
# rest relies on (ListenStream where clients look, SocketMode=0600, DirectoryMode=0700, a
# Type=notify service started in the foreground, tied to its socket).
#
# A real `systemd --user` cannot run here: systemd 252 refuses with "Trying to run as user
# instance, but the system has not been booted with systemd" (sd_booted(): no
# /run/systemd/system; PID 1 is not systemd on a CI machine or container), and faking that
# folder would change the host for every program on it. So the socket unit's part is played by
# a loop around systemd's own systemd-socket-activate (systemd package): it binds the unit's
# ListenStream, waits for the first client, then execs the agent with the listening socket as
# fd 3 and LISTEN_FDS/LISTEN_PID, exactly as the user manager starts the service. When the agent
# exits the loop binds again and waits; the next client's connection starts a new agent, as a
# socket unit does (systemd keeps the same socket; here it is bound anew between two agents).
#
# Checked: the agent serves, exits after the idle time (2 s here) with status 0, and the next
# client is served by a new process; a quiet open connection, a PIN dialog, a chunked upload
# paused for longer than the idle time and a request whose client already half-closed all hold
# the exit off; idle_exit_seconds in agent.json sets it too; the default is 300 s under socket
# activation and off for an agent on its own socket; an agent on its own socket that exits when
# idle removes its socket file and the next client starts one on demand; wrong values are refused.
. "$(dirname "$0")/lib.sh"
command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate missing (apt install systemd)"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (apt install systemd)"
HERE=$(dirname "$0")
UNIT_DIR=$SOURCE_ROOT/agent/systemd

export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config HOME=$WORK/home
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export GOSTSIGN_AUDIT_FILE=$WORK/audit.log
# Clients must not start an agent themselves: activation is what is tested (until the end).
REAL_AGENT_BIN=$GOSTSIGN_AGENT_BIN
export GOSTSIGN_AGENT_BIN=/nonexistent/gostsign-agent
unset GOSTSIGN_AGENT_SOCKET
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/gostsign" "$HOME" "$GOSTSIGN_SOFTTOKEN_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "demo token setup"; }
# write_config [EXTRA_JSON_MEMBERS]
write_config() {
    cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<EOF
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY"${1:+, $1}}
EOF
}
write_config
# pinentry_script LINE: the next PIN dialogs answer so (the counter starts again).
pinentry_script() { echo "$1" >"$GS_TEST_PINENTRY_SCRIPT"; rm -f "$GS_TEST_PINENTRY_SCRIPT.next"; }
pinentry_script "pin 12345678"

# --- the units ---------------------------------------------------------------------------
unit_value() { sed -n "s/^$2=//p" "$UNIT_DIR/$1"; }
[ "$(unit_value gostsign-agent.socket ListenStream)" = "%t/gostsign/agent.sock" ] || fail "ListenStream"
[ "$(unit_value gostsign-agent.socket SocketMode)" = 0600 ] || fail "SocketMode"
[ "$(unit_value gostsign-agent.socket DirectoryMode)" = 0700 ] || fail "DirectoryMode"
[ "$(unit_value gostsign-agent.socket WantedBy)" = sockets.target ] || fail "socket WantedBy"
[ "$(unit_value gostsign-agent.service Type)" = notify ] || fail "Type must be notify (the agent sends READY=1)"
# In the foreground (--daemon would fork away from the notify socket's main pid).
[ "$(unit_value gostsign-agent.service ExecStart)" = "@bindir@/gostsign-agent" ] || fail "ExecStart"
[ "$(unit_value gostsign-agent.service Requires)" = gostsign-agent.socket ] || fail "Requires"
mkdir -p "$WORK/units"
sed "s|@bindir@|$(dirname "$GOSTSIGN_AGENT")|" "$UNIT_DIR/gostsign-agent.service" >"$WORK/units/gostsign-agent.service"
cp "$UNIT_DIR/gostsign-agent.socket" "$WORK/units/"
systemd-analyze --user verify "$WORK/units/gostsign-agent.socket" "$WORK/units/gostsign-agent.service" \
    >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
[ ! -s "$WORK/verify.log" ] || { cat "$WORK/verify.log"; fail "systemd-analyze has remarks"; }
ok "units: ListenStream=%t/gostsign/agent.sock, SocketMode=0600, DirectoryMode=0700, Type=notify in the foreground; systemd-analyze verify is silent"

SOCK=$XDG_RUNTIME_DIR/gostsign/agent.sock
mkdir -m 0700 "$(dirname "$SOCK")"
MANAGER_PID=""
cleanup() {
    touch "$WORK/stop"
    [ ! -s "$WORK/pids" ] || kill "$(tail -1 "$WORK/pids")" 2>/dev/null || true
    [ -z "$MANAGER_PID" ] || kill "$MANAGER_PID" 2>/dev/null || true
    GOSTSIGN_AGENT_BIN=/nonexistent "$GOSTSIGN" agent stop >/dev/null 2>&1 || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# manager AGENT_ARGS...: the socket unit's part (see the top): bind, wait for a client, run the
# agent; again after each exit. Each start appends its pid to pids, each exit "pid status ms".
manager() {
    while [ ! -e "$WORK/stop" ]; do
        rm -f "$SOCK"
        systemd-socket-activate -l "$SOCK" -E HOME -E XDG_RUNTIME_DIR -E XDG_CONFIG_HOME \
            -E XDG_STATE_HOME -E GOSTSIGN_SOFTTOKEN_DIR -E GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS \
            -E GS_TEST_PINENTRY_SCRIPT -E GS_TEST_PINENTRY_RECORD -E GOSTSIGN_AUDIT_FILE \
            -E LSAN_OPTIONS -E ASAN_OPTIONS -E UBSAN_OPTIONS -E PATH \
            "$GOSTSIGN_AGENT" --system-config /nonexistent "$@" >>"$WORK/agent.log" 2>&1 &
        local pid=$! status=0
        echo "$pid" >>"$WORK/pids"
        wait "$pid" || status=$?
        echo "$pid $status $(($(date +%s%N) / 1000000))" >>"$WORK/exits"
    done
}
start_manager() {
    rm -f "$WORK/stop" "$WORK/pids" "$WORK/exits"
    touch "$WORK/pids" "$WORK/exits"
    manager "$@" &
    MANAGER_PID=$!
    wait_bound 1
}
stop_manager() {
    touch "$WORK/stop"
    kill "$(tail -1 "$WORK/pids")" 2>/dev/null || true
    wait "$MANAGER_PID" 2>/dev/null || true
    MANAGER_PID=""
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
lines() { wc -l <"$1"; }
# wait_bound N: the Nth start is listening (bound, waiting for its first client).
wait_bound() {
    for _ in $(seq 300); do
        [ "$(lines "$WORK/pids")" -ge "$1" ] && [ -S "$SOCK" ] && return 0
        sleep 0.05
    done
    cat "$WORK/agent.log"; fail "start $1 did not bind $SOCK"
}
# wait_exits N: N agents have exited (within 20 s).
wait_exits() {
    for _ in $(seq 400); do [ "$(lines "$WORK/exits")" -ge "$1" ] && return 0; sleep 0.05; done
    cat "$WORK/agent.log"; fail "no idle exit (wanted $1 exits, $(lines "$WORK/exits") so far)"
}
is_agent() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$GOSTSIGN_AGENT")" ]; }
current() { tail -1 "$WORK/pids"; }
# exited_cleanly PID STATUS LOG: the agent's exit status is 0. In the ASan build one exception:
# a LeakSanitizer report (status 1) whose every allocation comes from an unloaded module, a
# third-party PKCS#11 module of the p11-kit registry that keeps globals and is dlclosed at exit
# (LSan then loses those globals as roots); a leak with a frame in any loaded code still fails.
exited_cleanly() {
    [ "$2" = 0 ] && return 0
    [ "$2" = 1 ] || return 1
    python3 - "$1" "$3" <<'PY'
import re, sys
pid, log = sys.argv[1], open(sys.argv[2], errors="replace").read()
start = log.find("==%s==ERROR: LeakSanitizer" % pid)
end = log.find("SUMMARY:", start)
if start < 0 or end < 0 or "==%s==ERROR: AddressSanitizer" % pid in log:
    sys.exit(1)
frames = re.findall(r"^\s+#1 .*$", log[start:end], re.M)
sys.exit(0 if frames and all("<unknown module>" in f for f in frames) else 1)
PY
}

# check_idle_exit N SINCE_MS: the Nth exit is the current agent's, status 0, at least 1.5 s
# (the idle time, 2 s, less the clock's grain) and at most 8 s after SINCE_MS.
check_idle_exit() {
    local pid status at
    read -r pid status at < <(sed -n "$1p" "$WORK/exits")
    exited_cleanly "$pid" "$status" "$WORK/agent.log" || { cat "$WORK/agent.log"; fail "agent $pid exited with $status"; }
    [ $((at - $2)) -ge 1500 ] || fail "agent $pid exited $((at - $2)) ms after its last work: not idle long enough"
    [ $((at - $2)) -le 8000 ] || fail "agent $pid exited only $((at - $2)) ms after its last work"
    grep -q "idle for 2 s, exiting (pid $pid)" "$WORK/agent.log" || fail "no idle line for $pid"
}

# --- idle exit and the next client --------------------------------------------------------
start_manager --idle-exit 2
P1=$(current)
! is_agent "$P1" || fail "an agent runs before any client came"
"$GOSTSIGN" tokens --json >"$WORK/tokens.json" 2>"$WORK/err" || { cat "$WORK/err" "$WORK/agent.log"; fail "tokens"; }
T1=$(now_ms)
is_agent "$P1" || fail "pid $P1 is not the agent that served"
grep -q "listening on $SOCK (pid $P1, socket from systemd, idle exit after 2 s)" "$WORK/agent.log" ||
    fail "startup line: $(cat "$WORK/agent.log")"
wait_exits 1
check_idle_exit 1 "$T1"
ok "activated agent $P1 served \`gostsign tokens\` and exited (status 0) 2 s after it"

wait_bound 2
P2=$(current)
[ "$P2" != "$P1" ] || fail "same pid"
! is_agent "$P2" || fail "an agent started with no client"
"$GOSTSIGN" certs --json >"$WORK/certs.json" 2>"$WORK/err" || { cat "$WORK/err" "$WORK/agent.log"; fail "certs"; }
T2=$(now_ms)
is_agent "$P2" || fail "the second client was not served by a new agent"
CERT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$WORK/certs.json") ||
    fail "no certificate: $(cat "$WORK/certs.json")"
wait_exits 2
check_idle_exit 2 "$T2"
ok "the next client (\`gostsign certs\`) started a new agent $P2, which exited when idle too"

# verify_cms OUT: the CMS of OUT.p7s over OUT.bin, checked by openssl.
verify_cms() {
    ossl cms -verify -engine gost -binary -inform DER -in "$1.p7s" -content "$1.bin" \
        -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>"$WORK/ossl.err" || { cat "$WORK/ossl.err"; fail "openssl: $1"; }
}
# held N WHAT: while WHAT ran (longer than the idle time) the Nth agent stayed, and it exits
# 2 s after WHAT ended.
held() {
    local n=$1 t
    t=$(now_ms)
    [ "$(lines "$WORK/exits")" -eq $((n - 1)) ] || fail "the agent exited during $2"
    wait_exits "$n"
    check_idle_exit "$n" "$t"
}

# A client connected and silent for 4 s.
wait_bound 3
python3 "$HERE/idle_client.py" "$SOCK" hold 4 || fail "hold"
held 3 "a quiet connection"
ok "a quiet open connection (4 s) holds the exit off; 2 s after it closes the agent goes"

# A PIN dialog whose user takes 4 s.
wait_bound 4
pinentry_script "delay 4 12345678"
head -c 50000 /dev/urandom >"$WORK/doc.bin"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.bin" -o "$WORK/doc.p7s" >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err" "$WORK/agent.log"; fail "sign with a slow PIN dialog"; }
held 4 "a PIN dialog"
verify_cms "$WORK/doc"
ok "a PIN dialog open for 4 s holds the exit off; the signature verifies with openssl"

# A chunked upload silent for 3 s between its chunks.
wait_bound 5
pinentry_script "pin 12345678"
python3 "$HERE/idle_client.py" "$SOCK" upload "$CERT" 3 "$WORK/up" >/dev/null || fail "upload"
held 5 "a chunked upload"
verify_cms "$WORK/up"
ok "a chunked upload paused 3 s holds the exit off; its signature verifies"

# A request whose client shut its sending side at once: the connection's reader is gone, the
# request (a 4 s PIN dialog) is not.
wait_bound 6
pinentry_script "delay 4 12345678"
python3 "$HERE/idle_client.py" "$SOCK" halfclose "$CERT" "$WORK/half" >/dev/null || fail "halfclose"
held 6 "a request of a half-closed connection"
verify_cms "$WORK/half"
ok "a request under way after its client half-closed holds the exit off"
stop_manager

# --- where the idle time comes from -------------------------------------------------------
: >"$WORK/agent.log"
write_config '"idle_exit_seconds": 2'
start_manager
P=$(current)
"$GOSTSIGN" tokens --json >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "tokens (config)"; }
T=$(now_ms)
wait_exits 1
check_idle_exit 1 "$T"
ok "idle_exit_seconds: 2 in agent.json sets the idle time of an activated agent"
stop_manager

write_config
start_manager
"$GOSTSIGN" tokens --json >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "tokens (default)"; }
P=$(current)
grep -q "(pid $P, socket from systemd, idle exit after 300 s, idle shrink after 10 s)" "$WORK/agent.log" ||
    fail "default under activation: $(tail -1 "$WORK/agent.log")"
stop_manager
write_config '"idle_exit_seconds": 0'
start_manager --idle-exit 2 # the command line wins over the file
"$GOSTSIGN" tokens --json >/dev/null 2>&1 || fail "tokens (flag over file)"
grep -q "(pid $(current), socket from systemd, idle exit after 2 s)" "$WORK/agent.log" || fail "flag over file"
stop_manager
ok "under activation the default is 300 s; --idle-exit wins over the file"

# On its own socket: no idle exit unless asked; asked, it removes its socket file when it goes,
# and the next client starts one on demand.
write_config
rm -f "$SOCK"
"$GOSTSIGN_AGENT" --system-config /nonexistent >"$WORK/own.log" 2>&1 &
OWN=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
"$GOSTSIGN" tokens --json >/dev/null 2>&1 || { cat "$WORK/own.log"; fail "own socket"; }
grep -q "(pid $OWN, own socket, no idle exit, idle shrink after 10 s)" "$WORK/own.log" || fail "own socket line: $(cat "$WORK/own.log")"
sleep 3
kill -0 "$OWN" 2>/dev/null || fail "an agent on its own socket exited with no idle time set"
kill "$OWN"; wait "$OWN" || true
"$GOSTSIGN_AGENT" --system-config /nonexistent --idle-exit 1 >"$WORK/own.log" 2>&1 &
OWN=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
"$GOSTSIGN" tokens --json >/dev/null 2>&1 || fail "own socket, idle 1"
STATUS=0
wait "$OWN" || STATUS=$?
exited_cleanly "$OWN" "$STATUS" "$WORK/own.log" || { cat "$WORK/own.log"; fail "own-socket agent exited with $STATUS"; }
grep -q "idle for 1 s, exiting (pid $OWN)" "$WORK/own.log" || fail "no idle line: $(cat "$WORK/own.log")"
[ ! -e "$SOCK" ] || fail "the agent left its socket file"
GOSTSIGN_AGENT_BIN=$REAL_AGENT_BIN "$GOSTSIGN" tokens --json >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err"; fail "the next client did not start an agent on demand"; }
ok "own socket: no idle exit by default; with --idle-exit it removes its socket and the next client starts one"
# Wrong values are refused, not taken for "never" or the default.
"$GOSTSIGN" agent stop >/dev/null 2>&1 || true
write_config '"idle_exit_seconds": -5'
STATUS=0
"$GOSTSIGN_AGENT" --system-config /nonexistent >"$WORK/bad.log" 2>&1 || STATUS=$?
[ "$STATUS" = "$(error_number BAD_JSON)" ] && grep -q '"idle_exit_seconds" must be a whole number' "$WORK/bad.log" ||
    fail "idle_exit_seconds -5: status $STATUS, $(cat "$WORK/bad.log")"
write_config
STATUS=0
"$GOSTSIGN_AGENT" --system-config /nonexistent --idle-exit soon >"$WORK/bad.log" 2>&1 || STATUS=$?
[ "$STATUS" = "$(error_number USAGE)" ] || fail "--idle-exit soon: status $STATUS"
ok "a negative idle_exit_seconds (BAD_JSON) and --idle-exit soon (USAGE) are refused"
echo "$PASSED passed, 0 failed"
