#!/usr/bin/env bash
# The first request with no agent running (issue 17, target 2), as a browser makes it through
# gostsign-nmhost and as gostsign makes it: the host a browser starts for every native port
# loads no libcrypto, libssl, libxml2 or libsystemd (it relays frames without opening binary
# fields); with no agent running it starts one, hears its READY=1 on a private channel instead
# of waiting for the launcher to exit, and sends the page's request on the one connection it
# made, with no `hello` probe before it; with an agent already running the probe still goes
# first (an agent being torn down can accept a connection it will never answer). A launcher
# that lingers does not hold the first reply back and is reaped; one that never says READY=1
# still works; the caller's own NOTIFY_SOCKET never reaches the agent it starts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nmhost_lib.sh"
make_demo_token
write_agent_config https://lk.example.ru
HELLO='{"id":"page-hello","cmd":"hello","origin":"https://lk.example.ru"}'
HEAVY='libcrypto|libssl|libxml2|libsystemd'

# 1. The libraries of the host: none of the heavy ones, neither linked nor mapped while serving.
ldd "$NMHOST" >"$WORK/ldd" || fail "ldd $NMHOST"
if grep -E "$HEAVY" "$WORK/ldd"; then fail "gostsign-nmhost links a library it does not need"; fi
grep -q libjson-c "$WORK/ldd" || fail "ldd output without libjson-c: $(cat "$WORK/ldd")"
GOSTSIGN_AGENT_BIN=/bin/false python3 - "$NMHOST" "$SOURCE_ROOT/native-messaging/tools" >"$WORK/maps" <<'PY' ||
import sys
sys.path.insert(0, sys.argv[2])
import nm_client
h = nm_client.Host(sys.argv[1])
h.send({"id": 1, "cmd": "hello", "origin": "https://lk.example.ru"})
reply = h.receive()
assert reply["error"]["code"] == "AGENT_UNAVAILABLE", reply
print(open("/proc/%d/maps" % h.proc.pid).read())
h.proc.stdin.close()
h.proc.wait(timeout=30)
PY
    fail "the host's memory map: $(cat "$WORK/maps")"
grep -q "gostsign-nmhost" "$WORK/maps" || fail "not the host's map: $(head -3 "$WORK/maps")"
if grep -E "$HEAVY" "$WORK/maps"; then fail "the serving host has mapped a library it does not need"; fi
ok "gostsign-nmhost needs and maps none of libcrypto, libssl, libxml2, libsystemd"

# traced_nm ARGS...: nm with the host's main thread under strace (connect, write, recvmsg and
# wait4; not its other threads or children: the agent it starts is not traced). LeakSanitizer
# cannot run under a tracer.
cat >"$WORK/traced-nmhost" <<SH
#!/bin/sh
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0 exec strace -qq -s 256 \
    -o "$WORK/host.strace" -e trace=connect,write,recvmsg,wait4 "$NMHOST" "\$@"
SH
chmod +x "$WORK/traced-nmhost"
traced_nm() { NMHOST=$WORK/traced-nmhost nm "$@"; }
# connections_made: how many connects to the agent socket succeeded in the traced host.
connections_made() { grep -c "connect(.*agent\.sock.*= 0$" "$WORK/host.strace" || true; }

# 2. No agent running: it is started on demand, and the page's hello is the first thing sent on
# the first and only connection.
rm -f "$WORK/run/agent.sock"
GOSTSIGN_AGENT_BIN=$GOSTSIGN_AGENT traced_nm "$HELLO" || fail "on-demand start: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["result"]["agent"]')" = gostsign-agent ] || fail "on-demand start: $(cat "$WORK/nm.out")"
grep -q "agent\.sock.*ENOENT" "$WORK/host.strace" || fail "the agent was running already"
[ "$(connections_made)" = 1 ] || { cat "$WORK/host.strace"; fail "the host connected $(connections_made) times"; }
if grep -q nmhost-probe "$WORK/host.strace"; then
    cat "$WORK/host.strace"
    fail "the host probed an agent it had just started"
fi
grep -q 'write(.*page-hello' "$WORK/host.strace" || fail "the page's hello was not sent"
grep -q 'recvmsg(.*"READY=1"' "$WORK/host.strace" || { cat "$WORK/host.strace"; fail "no READY=1 from the agent"; }
# the main thread went from READY=1 to the connection without waiting for the launcher
sed -n '/READY=1/,/agent\.sock.*= 0$/p' "$WORK/host.strace" >"$WORK/after-ready"
if grep -q wait4 "$WORK/after-ready"; then
    cat "$WORK/host.strace"
    fail "the host waited for the launcher after READY=1"
fi
ok "no agent running: started on demand, READY=1 heard, one connection, the page's hello first"
# The agent it started: spawned straight into a session of its own (no launcher, no forks of its
# own), stdin and stdout on /dev/null, and never a zombie of the host that has exited since.
OURS=""
for p in /proc/[0-9]*; do
    grep -qz "^GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock\$" "$p/environ" 2>/dev/null &&
        [ "$(readlink "$p/exe")" = "$(readlink -f "$GOSTSIGN_AGENT")" ] && OURS=${p#/proc/}
done
[ -n "$OURS" ] || fail "no agent of this test runs"
python3 - "$OURS" <<'PY' || fail "the spawned agent: $(tr '\0' ' ' </proc/$OURS/cmdline)"
import os, sys
pid = sys.argv[1]
fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
state, sid = fields[0], int(fields[3])
assert state != "Z", "a zombie"
assert sid == int(pid), "not the leader of a session of its own (sid %d)" % sid
for fd in (0, 1):
    assert os.readlink("/proc/%s/fd/%d" % (pid, fd)) == "/dev/null", "fd %d: %s" % (fd, os.readlink("/proc/%s/fd/%d" % (pid, fd)))
assert open("/proc/%s/cmdline" % pid).read().split("\0")[1] == "--detached"
PY
ok "the agent runs in a session of its own (spawned with --detached, no launcher), stdin and stdout /dev/null"

# 3. The agent is running now: the host probes it with hello before the page's request.
traced_nm "$HELLO" || fail "running agent: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["result"]["agent"]')" = gostsign-agent ] || fail "running agent: $(cat "$WORK/nm.out")"
if grep -q "agent\.sock.*ENOENT" "$WORK/host.strace"; then fail "the started agent went away"; fi
[ "$(connections_made)" = 1 ] || { cat "$WORK/host.strace"; fail "the host connected $(connections_made) times"; }
grep -n 'write(' "$WORK/host.strace" | grep -E "nmhost-probe|page-hello" | cut -d: -f1 >"$WORK/order"
[ "$(grep -n nmhost-probe "$WORK/host.strace" | head -1 | cut -d: -f1)" = "$(head -1 "$WORK/order")" ] ||
    { cat "$WORK/host.strace"; fail "a running agent was not probed before the page's request"; }
ok "agent running: the host probes it with hello before the page's request"

# The agent this host started is stopped for the following cases, each a fresh start.
kill_ours
rm -f "$WORK/run/agent.sock"

# 4. A launcher that lingers (here: a wrapper that runs the agent in the foreground, so the agent
# says READY=1 itself, and stays 6 s): the first reply comes long before, and once the launcher
# has gone the host has no zombie child left.
cat >"$WORK/lingering-agent" <<SH
#!/bin/sh
exec </dev/null >/dev/null 2>>"$WORK/agent.log"
"$GOSTSIGN_AGENT" &
sleep 6
SH
chmod +x "$WORK/lingering-agent"
GOSTSIGN_AGENT_BIN=$WORK/lingering-agent python3 - "$NMHOST" "$SOURCE_ROOT/native-messaging/tools" <<'PY' ||
import os, sys, time
sys.path.insert(0, sys.argv[2])
import nm_client
t0 = time.monotonic()
h = nm_client.Host(sys.argv[1])
reply = h.call({"id": 1, "cmd": "hello", "origin": "https://lk.example.ru"})
took = time.monotonic() - t0
assert reply.get("ok"), reply
assert took < 3.0, "the first reply took %.1f s: the host waited for the launcher" % took
def zombies(parent):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(pid)
    return found
time.sleep(7.5)  # the launcher has exited by now
assert not zombies(h.proc.pid), "the launcher is left a zombie of the host"
assert h.call({"id": 2, "cmd": "hello", "origin": "https://lk.example.ru"}).get("ok")
h.close_stdin()
assert h.wait() == 0
print("first reply after %.2f s; no zombie" % took)
PY
    fail "a lingering launcher"
ok "a launcher that lingers: the first reply does not wait for it, and it is reaped"
kill_ours
rm -f "$WORK/run/agent.sock"

# 5. An agent that never says READY=1 (its NOTIFY_SOCKET removed): the client spawned it
# directly (no launcher whose exit could tell), so after its start wait (5 s) it connects all the
# same and is served: slow, but never a failure.
cat >"$WORK/silent-agent" <<SH
#!/bin/sh
exec env -u NOTIFY_SOCKET "$GOSTSIGN_AGENT" "\$@"
SH
chmod +x "$WORK/silent-agent"
T0=$(date +%s%N)
GOSTSIGN_AGENT_BIN=$WORK/silent-agent nm "$HELLO" || fail "silent agent: $(cat "$WORK/nm.err")"
SILENT_MS=$((($(date +%s%N) - T0) / 1000000))
[ "$(reply_field 1 'm["result"]["agent"]')" = gostsign-agent ] || fail "silent agent: $(cat "$WORK/nm.out")"
[ "$SILENT_MS" -ge 4500 ] && [ "$SILENT_MS" -le 9000 ] || fail "silent agent served after $SILENT_MS ms (want the 5 s start wait)"
ok "an agent that does not notify is still served, after the 5 s start wait ($SILENT_MS ms)"
kill_ours
rm -f "$WORK/run/agent.sock"

# 6. The caller's own NOTIFY_SOCKET (gostsign run by a Type=notify service) does not reach the
# agent it starts on demand: nothing arrives there, and the agent's environment names the
# client's private channel instead.
python3 - "$GOSTSIGN" "$WORK" <<'PY' || fail "the caller's NOTIFY_SOCKET"
import os, socket, subprocess, sys, time
gostsign, work = sys.argv[1], sys.argv[2]
path = os.path.join(work, "caller.notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setblocking(False)
r = subprocess.run([gostsign, "tokens"], env=dict(os.environ, NOTIFY_SOCKET=path),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
assert r.returncode == 0, r.stderr.decode()
time.sleep(0.5)
try:
    got = s.recv(4096)
except BlockingIOError:
    got = None
assert got is None, "the caller's NOTIFY_SOCKET got %r" % got
sock = os.environ["GOSTSIGN_AGENT_SOCKET"]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
        cmd = open("/proc/%s/cmdline" % pid, "rb").read()
    except OSError:
        continue
    if b"gostsign-agent" in cmd and ("GOSTSIGN_AGENT_SOCKET=" + sock).encode() in env:
        notify = [e for e in env if e.startswith(b"NOTIFY_SOCKET=")]
        assert notify and notify[0].startswith(b"NOTIFY_SOCKET=@gostsign-start-"), notify
        print("agent %s: %s" % (pid, notify[0].decode()))
        break
else:
    raise AssertionError("no agent was started")
PY
ok "gostsign's own NOTIFY_SOCKET is not passed to the agent it starts"
echo "$PASSED passed, 0 failed"
