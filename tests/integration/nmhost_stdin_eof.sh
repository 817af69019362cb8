#!/usr/bin/env bash
# gostsign-nmhost when the browser closes the port (issue 17): the browser closes the host's
# stdin (and its stdout), and the host must exit at once and close its agent connection, so the
# agent can go idle. The agent's local-only `status` counts its open connections: 2 while a host
# is connected (the host's and the asker's), 1 again once the host is gone. Checked for an idle
# host (stdin closed only) and for a host with a request waiting in the PIN dialog (stdin and
# stdout closed, as Chromium does), which must not wait for the dialog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
make_demo_token
write_agent_config https://lk.example.ru
start_agent

python3 - "$NMHOST" "$NMCLIENT" "$GOSTSIGN_AGENT_SOCKET" "$GS_TEST_PINENTRY_SCRIPT" <<'PY' ||
import json, os, socket, struct, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[2]))
from nm_client import Host
host_exe, sock_path, pinentry_script = sys.argv[1], sys.argv[3], sys.argv[4]


def agent_connections():
    """The agent's count of open connections, asked on a connection of our own (counted)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock_path)
    body = json.dumps({"id": 1, "cmd": "status", "origin": "local:nmhost-test"}).encode()
    s.sendall(struct.pack("=I", len(body)) + body)
    (n,) = struct.unpack("=I", s.recv(4, socket.MSG_WAITALL))
    reply = json.loads(s.recv(n, socket.MSG_WAITALL))
    s.close()
    assert reply.get("ok"), reply
    return reply["result"]["connections"]


def connections_become(want, seconds=2.0):
    """Polls the count until it is `want` (the agent's reader notices a close asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        got = agent_connections()
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def exits_within(h, seconds):
    """The host's exit status if it exits within `seconds` of now, else None."""
    start = time.monotonic()
    try:
        rc = h.proc.wait(timeout=seconds)
    except Exception:
        h.proc.kill()  # ours: leave no host behind on failure
        return None, time.monotonic() - start
    return rc, time.monotonic() - start


assert connections_become(1) == 1, "the asker alone should be connected"
print("ok 1 - status counts the asker's own connection: 1")

h = Host(host_exe, timeout=20)
r = h.call({"id": "a", "cmd": "hello", "origin": "https://lk.example.ru"})
assert r.get("ok"), r
got = agent_connections()
assert got == 2, "a connected host is not counted: %d" % got
print("ok 2 - a connected host holds a connection: status counts 2")
h.close_stdin()
rc, took = exits_within(h, 3.0)
assert rc == 0, "the host did not exit within 3 s of stdin EOF (status %r)" % rc
print("ok 3 - stdin closed: the host exits with 0 after %.3f s" % took)
got = connections_become(1)
assert got == 1, "the host's agent connection stays open: %d" % got
print("ok 4 - the host's agent connection is closed: status counts 1")

with open(pinentry_script, "w") as f:
    f.write("hang\n")
h = Host(host_exe, timeout=20)
h.send({"id": "slow", "cmd": "authenticate", "origin": "https://lk.example.ru",
        "args": {"challenge": "abcdefgh12345678"}})
m = h.receive()
assert m.get("event") == "pin-requested", m
assert agent_connections() == 2
h.close_stdin()
h.proc.stdout.close()
rc, took = exits_within(h, 3.0)
assert rc is not None, "the host waits for the PIN dialog after the browser closed the port"
print("ok 5 - port closed during a PIN dialog: the host exits after %.3f s (status %d)" % (took, rc))
got = connections_become(1)
assert got == 1, "the host's agent connection stays open: %d" % got
print("ok 6 - and its agent connection is closed: status counts 1")
PY
    { tail -20 "$WORK/agent.log" >&2; fail "gostsign-nmhost at the end of its input"; }
PASSED=$((PASSED + 6))
echo "$PASSED passed, 0 failed"
