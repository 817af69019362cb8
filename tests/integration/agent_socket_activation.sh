#!/usr/bin/env bash
# Socket activation of gostsign-agent the way the user units do it, with systemd's own
# systemd-socket-activate (systemd package): it binds ListenStream of agent/systemd's
# gostsign-agent.socket (%t = XDG_RUNTIME_DIR) in a 0700 folder, then runs the agent with the
# listening socket as fd 3 and LISTEN_FDS=1, LISTEN_PID=its pid, and only the environment given
# with -E (as a user manager does). Checked: a client that connects before the agent has even
# started is queued on the socket and served; the agent listens on the passed socket without
# binding one of its own; a real request (certificates, a signature openssl accepts) is served;
# the socket file stays when the agent stops (it belongs to the manager, as with systemd); a
# second activation on the same place serves again; and an agent given a socket it does not
# own (LISTEN_PID of another process) ignores it and binds its own, as sd_listen_fds(3) says.
. "$(dirname "$0")/lib.sh"
command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate missing (apt install systemd)"

UNIT_DIR=$SOURCE_ROOT/agent/systemd
export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config HOME=$WORK/home
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export GOSTSIGN_AUDIT_FILE=$WORK/audit.log
# The clients must never start an agent themselves here: activation is what is tested.
export GOSTSIGN_AGENT_BIN=/nonexistent/gostsign-agent
unset GOSTSIGN_AGENT_SOCKET
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/gostsign" "$HOME" "$GOSTSIGN_SOFTTOKEN_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "demo token setup"; }
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<EOF
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY"}
EOF
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"

LISTEN=$(sed -n 's/^ListenStream=//p' "$UNIT_DIR/gostsign-agent.socket")
[ "$(sed -n 's/^DirectoryMode=//p' "$UNIT_DIR/gostsign-agent.socket")" = 0700 ] || fail "DirectoryMode"
SOCK=${LISTEN//%t/$XDG_RUNTIME_DIR}
[ "$SOCK" = "$XDG_RUNTIME_DIR/gostsign/agent.sock" ] || fail "ListenStream $LISTEN is not where clients look"
mkdir -m 0700 "$(dirname "$SOCK")"

ACT_PID=""
cleanup() {
    [ -z "$ACT_PID" ] || kill "$ACT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# activate DELAY: systemd-socket-activate on SOCK; the agent starts DELAY seconds after the
# socket is listening (sh then execs it in the same process, so LISTEN_PID stays right).
activate() {
    systemd-socket-activate -l "$SOCK" -E HOME -E XDG_RUNTIME_DIR -E XDG_CONFIG_HOME \
        -E XDG_STATE_HOME -E GOSTSIGN_SOFTTOKEN_DIR -E GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS \
        -E GS_TEST_PINENTRY_SCRIPT -E GS_TEST_PINENTRY_RECORD -E GOSTSIGN_AUDIT_FILE \
        -E LSAN_OPTIONS -E ASAN_OPTIONS -E UBSAN_OPTIONS -E PATH \
        /bin/sh -c "sleep $1; exec \"\$0\" --system-config /nonexistent" "$GOSTSIGN_AGENT" \
        >>"$WORK/agent.log" 2>&1 &
    ACT_PID=$!
    for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.02; done
    cat "$WORK/agent.log"; fail "systemd-socket-activate did not bind $SOCK"
}

# stop_agent: SIGTERM to the activated agent, and its exit.
stop_agent() {
    kill "$ACT_PID"
    wait "$ACT_PID" 2>/dev/null || true
    ACT_PID=""
}

activate 2
# The socket listens, nothing accepts yet: the client connects now and waits in the queue.
[ "$(readlink "/proc/$ACT_PID/exe")" != "$(readlink -f "$GOSTSIGN_AGENT")" ] || fail "agent started too early"
T0=$(date +%s%N)
"$GOSTSIGN" certs --json >"$WORK/certs.json" 2>"$WORK/certs.err" || { cat "$WORK/certs.err" "$WORK/agent.log"; fail "certs"; }
# The answer can only come once the agent is there, about 2 s after the socket was.
[ $(( ($(date +%s%N) - T0) / 1000000 )) -ge 1000 ] || fail "answered before the agent could have started"
CERT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$WORK/certs.json") ||
    fail "no certificate: $(cat "$WORK/certs.json")"
ok "a client that connected before the agent started was served ($CERT)"

[ "$(readlink "/proc/$ACT_PID/exe")" = "$(readlink -f "$GOSTSIGN_AGENT")" ] || fail "pid $ACT_PID is not the agent"
tr '\0' '\n' <"/proc/$ACT_PID/environ" >"$WORK/environ"
grep -qx LISTEN_FDS=1 "$WORK/environ" && grep -qx "LISTEN_PID=$ACT_PID" "$WORK/environ" ||
    fail "not activated the systemd way: $(grep LISTEN "$WORK/environ")"
# Exactly one listening socket of the agent: fd 3, the one systemd-socket-activate bound.
FD3=$(readlink "/proc/$ACT_PID/fd/3")
[[ $FD3 == socket:* ]] || fail "fd 3 is $FD3"
python3 - "$ACT_PID" "${FD3//[^0-9]/}" "$SOCK" <<'PY' || fail "the agent listens on another socket"
import os, sys
pid, inode, path = sys.argv[1], sys.argv[2], sys.argv[3]
mine = {os.readlink("/proc/%s/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%s/fd" % pid)}
listening = {}
for line in open("/proc/net/unix").read().splitlines()[1:]:
    f = line.split()
    # Flags 00010000 = __SO_ACCEPTCON (listening); the path is the 8th field when bound.
    if len(f) >= 8 and f[3] == "00010000":
        listening["socket:[%s]" % f[6]] = f[7]
ours = {s: p for s, p in listening.items() if s in mine}
assert ours == {"socket:[%s]" % inode: path}, ours
PY
ok "activated with LISTEN_FDS=1 and LISTEN_PID, the agent listens only on the passed fd 3 ($LISTEN)"

head -c 100000 /dev/urandom >"$WORK/doc.bin"
"$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.bin" -o "$WORK/doc.p7s" >/dev/null 2>"$WORK/sign.err" ||
    { cat "$WORK/sign.err" "$WORK/agent.log"; fail "sign through the activated agent"; }
ossl cms -verify -engine gost -binary -inform DER -in "$WORK/doc.p7s" -content "$WORK/doc.bin" \
    -CAfile "$WORK/demo/ca.pem" -out /dev/null 2>"$WORK/ossl.err" || { cat "$WORK/ossl.err"; fail "openssl"; }
grep -q '^GETPIN' "$GS_TEST_PINENTRY_RECORD" || fail "no PIN asked"
ok "a signature through the activated agent, accepted by openssl cms -verify"

INODE=$(stat -c %i "$SOCK")
stop_agent
[ -S "$SOCK" ] && [ "$(stat -c %i "$SOCK")" = "$INODE" ] || fail "the agent removed the manager's socket file"
"$GOSTSIGN" agent status >/dev/null 2>&1 && fail "a client was served with no agent"
ok "the agent stops; the socket file is the manager's and stays; nothing answers meanwhile"

# The manager binds again on the next start (systemd-socket-activate unlinks nothing: do it as
# systemd does when it re-creates a socket unit).
rm -f "$SOCK"
activate 0
"$GOSTSIGN" agent status >"$WORK/status" 2>&1 || { cat "$WORK/status" "$WORK/agent.log"; fail "second activation"; }
"$GOSTSIGN" certs --json >/dev/null 2>&1 || fail "certs after the second activation"
ok "a second activation on the same place serves the next client"
stop_agent

# A socket passed to another process (LISTEN_PID is not the agent's) is not the agent's to use:
# it binds its own, as when started without systemd.
rm -f "$SOCK"
LISTEN_FDS=1 LISTEN_PID=1 "$GOSTSIGN_AGENT" --system-config /nonexistent 3</dev/null \
    >>"$WORK/agent.log" 2>&1 &
ACT_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
"$GOSTSIGN" agent status >/dev/null 2>&1 || { cat "$WORK/agent.log"; fail "agent with a foreign LISTEN_PID"; }
ok "with another process's LISTEN_PID the agent binds its own socket"
echo "$PASSED passed, 0 failed"
