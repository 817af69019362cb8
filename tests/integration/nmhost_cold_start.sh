#!/usr/bin/env bash
# gostsign-nmhost's share of a browser's first request (issue 17, target 2): the host a browser
# starts for every native port loads no libcrypto, libssl, libxml2 or libsystemd (it relays
# frames without opening binary fields); with no agent running it starts one and sends the
# page's request on the one connection it made after the agent's readiness, with no `hello`
# probe before it; with an agent already running the probe still goes first (an agent being
# torn down can accept a connection it will never answer).
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

# traced_nm ARGS...: nm with the host's main thread under strace (connect and write calls, not
# its children: the agent it starts is not traced). LeakSanitizer cannot run under a tracer.
cat >"$WORK/traced-nmhost" <<SH
#!/bin/sh
ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0 exec strace -qq -s 256 \
    -o "$WORK/host.strace" -e trace=connect,write "$NMHOST" "\$@"
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
ok "no agent running: started on demand, one connection, the page's hello sent first"

# 3. The agent is running now: the host probes it with hello before the page's request.
traced_nm "$HELLO" || fail "running agent: $(cat "$WORK/nm.err")"
[ "$(reply_field 1 'm["result"]["agent"]')" = gostsign-agent ] || fail "running agent: $(cat "$WORK/nm.out")"
if grep -q "agent\.sock.*ENOENT" "$WORK/host.strace"; then fail "the started agent went away"; fi
[ "$(connections_made)" = 1 ] || { cat "$WORK/host.strace"; fail "the host connected $(connections_made) times"; }
grep -n 'write(' "$WORK/host.strace" | grep -E "nmhost-probe|page-hello" | cut -d: -f1 >"$WORK/order"
[ "$(grep -n nmhost-probe "$WORK/host.strace" | head -1 | cut -d: -f1)" = "$(head -1 "$WORK/order")" ] ||
    { cat "$WORK/host.strace"; fail "a running agent was not probed before the page's request"; }
ok "agent running: the host probes it with hello before the page's request"
echo "$PASSED passed, 0 failed"
