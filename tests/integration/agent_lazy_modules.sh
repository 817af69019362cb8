#!/usr/bin/env bash
# An idle agent holds no vendor or registered PKCS#11 module (issue 17). A MOCK module registered
# through p11-kit under the name of the Rutoken ECP's module (librtpkcs11ecp.so, wrapping a copy
# of the software token) is not in the agent's /proc/PID/maps while no device is present; a fake
# Rutoken ECP (umockdev) loads it and `gostsign tokens` lists its token; after the device leaves
# and module_unload_seconds pass, it is unmapped. A reader of unknown kind loads the registered
# modules (OpenSC), "modules" in agent.json and load_registered_modules "always" load at start,
# "never" keeps unknown readers from loading anything; SoftHSM2 (a software token) loads only
# with "always" or when configured.
# Root: p11-kit reads no user config, so a private mount namespace puts our .module files over
# the system directory; otherwise they go to $XDG_CONFIG_HOME/pkcs11/modules.
if [ "$(id -u)" = 0 ] && [ -z "${GS_LAZY_IN_NS:-}" ]; then
    GS_LAZY_IN_NS=1 exec unshare -m bash "$0" "$@" ||
        { echo "cannot create a mount namespace: skipped"; exit 77; }
fi
. "$(dirname "$0")/lib.sh"
: "${UMOCKDEV_CTL:?UMOCKDEV_CTL must point at tests/integration/umockdev-ctl}"
PRELOAD=$(ls /usr/lib/x86_64-linux-gnu/libumockdev-preload.so.0 2>/dev/null || true)
[ -n "$PRELOAD" ] || fail "libumockdev-preload.so.0 missing (scripts/deps.sh installs umockdev)"

export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock XDG_CONFIG_HOME=$WORK/config
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$XDG_CONFIG_HOME/gostsign" "$WORK/lib" "$WORK/p11"
chmod 700 "$WORK/run"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "demo token setup"; }
# The mock's token is "in the device": its file is in the token directory only while plugged.
mkdir -p "$WORK/unplugged"
plug() { mv "$WORK/unplugged/"*.token "$GOSTSIGN_SOFTTOKEN_DIR/"; }
unplug() { mv "$GOSTSIGN_SOFTTOKEN_DIR/"*.token "$WORK/unplugged/"; }
unplug

# The MOCK vendor module: the combined-only proxy over its own copy of the software token.
MOCK=$WORK/lib/librtpkcs11ecp.so
cp "$COMBINED_ONLY_MODULE" "$MOCK"
cp "$SOFTTOKEN_MODULE" "$WORK/lib/real-softtoken.so"
export GOSTSIGN_TEST_REAL_MODULE=$WORK/lib/real-softtoken.so
printf 'module: %s\n' "$MOCK" >"$WORK/p11/librtpkcs11ecp.module"
OPENSC=/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so
[ -e "$OPENSC" ] || fail "opensc-pkcs11 missing (scripts/deps.sh installs it)"
printf 'module: opensc-pkcs11.so\n' >"$WORK/p11/opensc-pkcs11.module"
SOFTHSM=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
[ -e "$SOFTHSM" ] || fail "softhsm2 missing (scripts/deps.sh installs it)"
printf 'module: %s\n' "$SOFTHSM" >"$WORK/p11/softhsm2.module"
if [ "$(id -u)" = 0 ]; then
    sysdir=$(pkg-config --variable=p11_module_configs p11-kit-1 2>/dev/null || echo /usr/share/p11-kit/modules)
    mount --bind "$WORK/p11" "$sysdir" || { echo "cannot bind $sysdir: skipped"; exit 77; }
else
    mkdir -p "$XDG_CONFIG_HOME/pkcs11"
    cp -r "$WORK/p11" "$XDG_CONFIG_HOME/pkcs11/modules"
fi

# The testbed: the agent runs under umockdev's preload library with its directory.
coproc CTL { LD_PRELOAD=$PRELOAD exec "$UMOCKDEV_CTL"; } # sending looks under its /sys
read -r -u "${CTL[0]}" TESTBED || fail "umockdev-ctl did not start"
ctl() { echo "$*" >&"${CTL[1]}"; local r; read -r -u "${CTL[0]}" r; echo "$r"; }

AGENT_PID=
start_agent() { # start_agent CONFIG-JSON
    echo "$1" >"$XDG_CONFIG_HOME/gostsign/agent.json"
    UMOCKDEV_DIR=$TESTBED LD_PRELOAD=$PRELOAD "$GOSTSIGN_AGENT" --system-config /nonexistent \
        --socket "$GOSTSIGN_AGENT_SOCKET" 2>>"$WORK/agent.log" &
    AGENT_PID=$!
    for _ in $(seq 50); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && return 0; sleep 0.1; done
    cat "$WORK/agent.log"; fail "the agent did not start"
}
stop_agent() {
    [ -z "$AGENT_PID" ] || { kill "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null || true; }
    AGENT_PID=
    rm -f "$GOSTSIGN_AGENT_SOCKET"
}
trap 'stop_agent; rm -rf "$WORK"' EXIT
mapped() { grep -qF "$1" "/proc/$AGENT_PID/maps"; }
wait_mapped() { # wait_mapped FILE yes|no SECONDS
    for _ in $(seq $(($3 * 10))); do
        if mapped "$1"; then [ "$2" = yes ] && return 0; else [ "$2" = no ] && return 0; fi
        sleep 0.1
    done
    cat "$WORK/agent.log" >&2; fail "$1 mapped=$2 not reached in $3 s"
}
token_modules() { "$GOSTSIGN" tokens --json | python3 -c 'import json, sys
print(" ".join(sorted(t["module"] for t in json.load(sys.stdin))))'; }

# --- idle: nothing but the agent
start_agent '{"module_unload_seconds": 3}'
sleep 0.5
! mapped "$MOCK" || fail "the registered mock module is loaded with no device"
! mapped opensc-pkcs11.so || fail "OpenSC is loaded with no device"
! mapped libsofthsm2.so || fail "SoftHSM2 is loaded with no device"
! mapped engines-3/gost.so || fail "the GOST engine is set up before any request"
[ "$(token_modules)" = "" ] || fail "tokens listed with no device: $(token_modules)"
mapped engines-3/gost.so || fail "the first request did not set the GOST engine up"
ok "idle agent: neither the registered mock nor OpenSC nor the GOST engine is in /proc/PID/maps; the first request loads the engine; no token"

# --- a Rutoken ECP appears: its module (the mock) loads, OpenSC does not
plug
RUTOKEN=$(ctl add rutoken 0a89 0030 usb)
[ "$RUTOKEN" != error ] || fail "testbed add"
wait_mapped "$MOCK" yes 5
[ "$(token_modules)" = "librtpkcs11ecp.so" ] || fail "tokens after the device came: '$(token_modules)'"
! mapped opensc-pkcs11.so || fail "OpenSC loaded for a device the table gives to another module"
ok "fake Rutoken ECP: the mock librtpkcs11ecp.so is loaded and its token listed; OpenSC is not"

# --- it leaves: the module stays for the grace period, then is unmapped
unplug
[ "$(ctl remove "$RUTOKEN")" = ok ] || fail "testbed remove"
sleep 0.5
mapped "$MOCK" || fail "the module went before module_unload_seconds"
wait_mapped "$MOCK" no 8
[ "$(token_modules)" = "" ] || fail "tokens after unloading: $(token_modules)"
ok "device removed: the module stays during module_unload_seconds, then leaves /proc/PID/maps"

# --- it comes back: loaded again (a fresh load of the same place)
plug
RUTOKEN=$(ctl add rutoken2 0a89 0030 usb)
wait_mapped "$MOCK" yes 5
[ "$(token_modules)" = "librtpkcs11ecp.so" ] || fail "tokens after reloading: '$(token_modules)'"
ok "the device again: the module reloads and lists its token"
unplug
ctl remove "$RUTOKEN" >/dev/null

# --- a reader of unknown kind: every registered module may serve it
READER=$(ctl add reader 072f 90cc ccid)
wait_mapped opensc-pkcs11.so yes 5
wait_mapped "$MOCK" yes 5
! mapped libsofthsm2.so || fail "a reader loaded SoftHSM2, a software token"
ok "a CCID reader the table does not know loads the registered modules (OpenSC, the mock), not SoftHSM2"
ctl remove "$READER" >/dev/null
wait_mapped opensc-pkcs11.so no 10
wait_mapped "$MOCK" no 10
ok "the reader removed: both unloaded after the grace period"
stop_agent

# --- the configuration names the module: loaded from the start, no device needed
plug
start_agent "{\"modules\": [\"$MOCK\"], \"module_unload_seconds\": 1}"
wait_mapped "$MOCK" yes 3
[ "$(token_modules)" = "librtpkcs11ecp.so" ] || fail "configured module's token: '$(token_modules)'"
! mapped opensc-pkcs11.so || fail "OpenSC loaded with the configured module"
sleep 2
mapped "$MOCK" || fail "a configured module was unloaded"
ok "agent.json \"modules\" names it: loaded at start with no device, never unloaded"
stop_agent

# --- load_registered_modules: "always" loads all at start, "never" ignores unknown readers
start_agent '{"load_registered_modules": "always", "module_unload_seconds": 1}'
wait_mapped opensc-pkcs11.so yes 3
wait_mapped "$MOCK" yes 3
wait_mapped libsofthsm2.so yes 3
ok "load_registered_modules \"always\": the registered modules (SoftHSM2 too) load at start"
stop_agent
start_agent '{"load_registered_modules": "never", "module_unload_seconds": 1}'
READER=$(ctl add reader2 072f 90cc ccid)
sleep 1.5
! mapped opensc-pkcs11.so || fail "\"never\" loaded OpenSC for an unknown reader"
RUTOKEN=$(ctl add rutoken3 0a89 0030 usb)
wait_mapped "$MOCK" yes 5
ok "load_registered_modules \"never\": an unknown reader loads nothing, a known token its module"
stop_agent

echo '{"load_registered_modules": "sometimes"}' >"$XDG_CONFIG_HOME/gostsign/agent.json"
expect_status "$(error_number BAD_JSON)" "$GOSTSIGN_AGENT" --system-config /nonexistent \
    --socket "$GOSTSIGN_AGENT_SOCKET"
grep -q load_registered_modules "$WORK/err" || fail "the refusal does not name the key"
ok "an unknown load_registered_modules value is refused with BAD_JSON"
echo "$PASSED passed, 0 failed"
