#!/usr/bin/env bash
# A config file that others own or may write can name a pinentry or a PKCS#11 module that would
# then run as the user (issue 18, item 8): the agent refuses to start with CONFIG_UNSAFE, naming
# the file and what is wrong, and runs nothing named in it. uid 65534 plays the other user.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || fail "this test needs root (it gives files to another uid)"
UNSAFE=$(error_number CONFIG_UNSAFE)
[ -n "$UNSAFE" ] || fail "no CONFIG_UNSAFE in the error table"
mkdir -m 700 "$WORK/run" "$WORK/cfg"
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
cat >"$WORK/evil-pinentry" <<SH
#!/bin/sh
touch "$WORK/pwned"
SH
chmod 755 "$WORK/evil-pinentry"
CFG=$WORK/cfg/agent.json
echo '{"pinentry": "'"$WORK/evil-pinentry"'", "modules": ["'"$WORK/evil.so"'"]}' >"$CFG"

# start_agent_expect WANT: runs the agent on $CFG; WANT is its exit status (it must not listen).
start_agent_expect() {
    expect_status "$1" timeout 20 "$GOSTSIGN_AGENT" --system-config /nonexistent --user-config "$CFG"
    [ ! -S "$GOSTSIGN_AGENT_SOCKET" ] || fail "the agent listened with an unsafe config"
    [ ! -e "$WORK/pwned" ] || fail "the pinentry named in an unsafe config ran"
}

chmod 666 "$CFG"
start_agent_expect "$UNSAFE"
grep -q "CONFIG_UNSAFE" "$WORK/err" && grep -q "$CFG is writable by group or others" "$WORK/err" ||
    fail "the message does not name the file and the reason: $(cat "$WORK/err")"
ok "a world-writable user config: the agent refuses to start, naming the file"

chmod 644 "$CFG" && chown 65534:65534 "$CFG"
start_agent_expect "$UNSAFE"
grep -q "$CFG belongs to another user" "$WORK/err" || fail "owner not named: $(cat "$WORK/err")"
ok "a user config owned by another uid: refused"

chown 0:0 "$CFG" && chmod 777 "$WORK/cfg"
start_agent_expect "$UNSAFE"
grep -q "directory $WORK/cfg of $CFG is writable" "$WORK/err" || fail "directory not named: $(cat "$WORK/err")"
ok "a user config in a directory others may write: refused"

chmod 700 "$WORK/cfg" && chmod 620 "$CFG"
expect_status "$UNSAFE" timeout 20 "$GOSTSIGN_AGENT" --system-config "$CFG" --user-config /nonexistent
ok "a group-writable system config: refused"
echo "$PASSED passed, 0 failed"
