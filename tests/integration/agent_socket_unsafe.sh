#!/usr/bin/env bash
# Another local user posing as the agent (issue 18, item 7). A fake listener running as uid 65534
# serves an agent socket: in a shared 1777 XDG_RUNTIME_DIR, and moved into a directory of ours
# (only SO_PEERCRED can tell). `gostsign agent status`, `gostsign sign`, gostsign-nmhost and the
# doctor must refuse it with AGENT_SOCKET_UNSAFE and send it nothing. The agent itself refuses a
# socket directory that is a symlink or that others may enter, and never chmods it.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?}"
[ "$(id -u)" = 0 ] || fail "this test needs root (it plays a second user with setpriv)"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 is missing (the other uid cannot use a python under /root)"
OTHER=65534
UNSAFE=$(error_number AGENT_SOCKET_UNSAFE)
[ -n "$UNSAFE" ] || fail "no AGENT_SOCKET_UNSAFE in the error table"
export GOSTSIGN_AGENT_BIN=/bin/false # never start a real agent here
export GOSTSIGN_NMHOST_CONFIG=$WORK/nmhost.json XDG_CONFIG_HOME=$WORK/config
unset GOSTSIGN_AGENT_SOCKET

# Directories the other uid must reach live beside $WORK (0700), on the same file system as $OURS.
BASE=$(mktemp -d /tmp/gostsign-unsafe.XXXXXX)
chmod 755 "$BASE"
FAKE_PIDS=()
cleanup() {
    for p in "${FAKE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$BASE" "$WORK"
}
trap cleanup EXIT

# The fake agent: answers every frame with a plausible hello and logs the bytes it received.
cat >"$BASE/fake_agent.py" <<'PY'
import json, os, socket, struct, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    got = b""
    c.settimeout(2)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
            reply = json.dumps({"id": 1, "ok": True, "result": {"agent": "gostsign-agent",
                                "version": "0.1.0", "protocol": 1}}).encode()
            c.sendall(struct.pack("=I", len(reply)) + reply)
    except OSError:
        pass
    with open(log, "a") as f:
        f.write("connection %d bytes\n" % len(got))
    c.close()
PY

# fake_agent DIR: runs the fake agent as the other uid on DIR/agent.sock, logging to DIR/received.
fake_agent() {
    setpriv --reuid=$OTHER --regid=$OTHER --clear-groups \
        /usr/bin/python3 "$BASE/fake_agent.py" "$1/agent.sock" "$1/received" 2>/dev/null &
    FAKE_PIDS+=($!)
    for _ in $(seq 100); do [ -S "$1/agent.sock" ] && return 0; sleep 0.05; done
    fail "the fake agent did not start"
}

# received DIR: how many bytes the fake agent got, over all connections.
received() { awk '{ n += $2 } END { print n + 0 }' "$1/received" 2>/dev/null || echo 0; }

# refused WHAT CMD...: CMD exits AGENT_SOCKET_UNSAFE and never claims a running agent.
refused() {
    local what=$1; shift
    expect_status "$UNSAFE" "$@"
    grep -q AGENT_SOCKET_UNSAFE "$WORK/err" || fail "$what: no AGENT_SOCKET_UNSAFE in: $(cat "$WORK/err")"
    ! grep -qi running "$WORK/out" || fail "$what: reported a running agent: $(cat "$WORK/out")"
}

echo "secret document" >"$WORK/doc.txt"

# --- 1. a shared 1777 XDG_RUNTIME_DIR where the other user made gostsign/ and listens there
SHARED=$BASE/shared
mkdir "$SHARED" && chmod 1777 "$SHARED"
setpriv --reuid=$OTHER --regid=$OTHER --clear-groups mkdir -m 700 "$SHARED/gostsign"
fake_agent "$SHARED/gostsign"
export XDG_RUNTIME_DIR=$SHARED
refused "agent status, shared dir" "$GOSTSIGN" agent status
grep -q "belongs to another user" "$WORK/err" || fail "the message does not say why: $(cat "$WORK/err")"
refused "sign, shared dir" "$GOSTSIGN" sign "$WORK/doc.txt" -o "$WORK/doc.p7s"
[ ! -e "$WORK/doc.p7s" ] || fail "a signature file was written"
[ "$(received "$SHARED/gostsign")" = 0 ] || fail "the fake agent received data: $(cat "$SHARED/gostsign/received")"
ok "shared 1777 runtime dir: agent status and sign refuse another user's socket, send nothing"

# --- 2. our own 0700 directory, but the socket was moved in from the other user's listener
OURS=$(mktemp -d /tmp/gostsign-ours.XXXXXX) # 0700, root's
mv "$OURS" "$BASE/ours"
OURS=$BASE/ours
THEIRS=$BASE/theirs
mkdir -m 700 "$THEIRS" && chown $OTHER:$OTHER "$THEIRS"
fake_agent "$THEIRS"
mv "$THEIRS/agent.sock" "$OURS/agent.sock"
export GOSTSIGN_AGENT_SOCKET=$OURS/agent.sock
refused "agent status, foreign listener" "$GOSTSIGN" agent status
grep -q "served by uid $OTHER" "$WORK/err" || fail "the message does not name the listener: $(cat "$WORK/err")"
refused "sign, foreign listener" "$GOSTSIGN" sign "$WORK/doc.txt" -o "$WORK/doc.p7s"
[ "$(received "$THEIRS")" = 0 ] || fail "the fake agent received data: $(cat "$THEIRS/received")"
ok "a listener of another uid in our own directory: SO_PEERCRED refuses it, nothing sent"

timeout 30 python3 "$SOURCE_ROOT/native-messaging/tools/nm_client.py" "$GOSTSIGN_NMHOST" \
    '{"id":1,"cmd":"hello","origin":"https://a.ru"}' \
    '{"id":2,"cmd":"sign","origin":"https://a.ru","args":{"data":"eA=="}}' \
    >"$WORK/nm.out" 2>"$WORK/nm.err" || fail "nmhost: $(cat "$WORK/nm.err")"
python3 - "$WORK/nm.out" <<'PY' || fail "nmhost used the foreign socket: $(cat "$WORK/nm.out")"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 2 and all(m["error"]["code"] == "AGENT_SOCKET_UNSAFE" for m in msgs), msgs
PY
[ "$(received "$THEIRS")" = 0 ] || fail "the fake agent received data from nmhost"
ok "gostsign-nmhost answers AGENT_SOCKET_UNSAFE and relays nothing"

"$GOSTSIGN" doctor --json --no-p11-kit >"$WORK/doctor.json" 2>"$WORK/doctor.err" || true
python3 - "$WORK/doctor.json" <<'PY' || fail "doctor: $(cat "$WORK/doctor.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "agent.running"]
assert c and c[0]["status"] == "fail" and c[0]["code"] == "AGENT_SOCKET_UNSAFE", c
PY
ok "doctor: agent.running fails with AGENT_SOCKET_UNSAFE"
unset GOSTSIGN_AGENT_SOCKET

# --- 3. a socket directory of ours that others may enter: clients and the agent refuse, no chmod
export XDG_RUNTIME_DIR=$WORK/run3
mkdir -p "$XDG_RUNTIME_DIR/gostsign" && chmod 755 "$XDG_RUNTIME_DIR/gostsign"
refused "agent status, 0755 dir" "$GOSTSIGN" agent status
expect_status "$UNSAFE" timeout 20 "$GOSTSIGN_AGENT" --system-config /nonexistent --user-config /nonexistent
[ "$(stat -c %a "$XDG_RUNTIME_DIR/gostsign")" = 755 ] || fail "the agent changed the mode of a directory it did not create"
[ ! -e "$XDG_RUNTIME_DIR/gostsign/agent.sock" ] || fail "the agent listened in a 0755 directory"
ok "a 0755 socket directory: clients and the agent refuse it; the agent does not chmod it"

# --- 4. a symlinked socket directory: never followed
export XDG_RUNTIME_DIR=$WORK/run4
mkdir -p "$XDG_RUNTIME_DIR" "$WORK/elsewhere" && chmod 700 "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$XDG_RUNTIME_DIR/gostsign"
expect_status "$UNSAFE" timeout 20 "$GOSTSIGN_AGENT" --system-config /nonexistent --user-config /nonexistent
grep -q "symbolic link" "$WORK/err" || fail "the agent does not say why: $(cat "$WORK/err")"
[ -z "$(ls -A "$WORK/elsewhere")" ] || fail "the agent followed the symlink"
refused "agent status, symlinked dir" "$GOSTSIGN" agent status
ok "a symlinked socket directory: the agent and the clients refuse it"

# --- 5. the agent still creates a missing directory 0700 and serves there
export XDG_RUNTIME_DIR=$WORK/run5
mkdir -m 700 "$XDG_RUNTIME_DIR"
"$GOSTSIGN_AGENT" --system-config /nonexistent --user-config /nonexistent 2>"$WORK/agent5.log" &
AGENT5=$!
FAKE_PIDS+=($AGENT5)
for _ in $(seq 100); do [ -S "$XDG_RUNTIME_DIR/gostsign/agent.sock" ] && break; sleep 0.05; done
[ "$(stat -c %a "$XDG_RUNTIME_DIR/gostsign")" = 700 ] || fail "socket directory not created 0700"
expect_status 0 "$GOSTSIGN" agent status
grep -q "agent running" "$WORK/out" || fail "agent status: $(cat "$WORK/out")"
kill "$AGENT5"
ok "a fresh socket directory is created 0700 and the real agent is accepted"

echo "$PASSED passed, 0 failed"
