#!/usr/bin/env bash
# End-to-end test in a real browser: headless Debian Chromium loads the gostsign extension, the
# host is registered with `gostsign browser install` in a temporary HOME, the agent runs on the
# demo software token with the scripted pinentry, and two demo cabinets are served over TLS:
# https://lk.example.ru (allowed) and https://evil.example.com (not allowed); Chromium maps both
# names to 127.0.0.1. playwright-core (npm ci from tests/e2e) drives the browser.
# Skips (77) only when chromium or node is missing. Screenshots go to $BUILD_ROOT/e2e/.
# Usage: cabinet_login.sh  (env: GOSTSIGN, SOURCE_ROOT, BUILD_ROOT as set by meson)
. "$(dirname "$0")/../integration/lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
B=$BUILD_ROOT
E2E=$SOURCE_ROOT/tests/e2e
AGENT_PID="" LK_PID="" EVIL_PID=""

# Stops the processes this test started (by pid), then removes the work directory.
stop_all() {
    for pid in $LK_PID $EVIL_PID $AGENT_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_all EXIT

# playwright-core from the lock file (npm ci); never downloads a browser.
bash "$E2E/npm-ci.sh" "$WORK/npm.log" || fail "npm ci in tests/e2e"
ok "playwright-core installed from tests/e2e/package-lock.json"

# The demo token (key + certificate on the token, test CA).
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$WORK/home"
chmod 700 "$WORK/run" # the agent refuses a socket directory others may enter
"$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" >/dev/null ||
    fail "gostsign-softtoken-setup"

# TLS for the two cabinets (self-signed; Chromium runs with --ignore-certificate-errors).
for name in lk.example.ru evil.example.com; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name" -keyout "$WORK/$name.key" -out "$WORK/$name.crt" \
        >/dev/null 2>&1 || fail "TLS certificate for $name"
done

# start_cabinet NAME: serves the cabinet for https://NAME:PORT; prints the port.
start_cabinet() {
    python3 "$SOURCE_ROOT/native-messaging/cabinet/cabinet.py" --gostsign "$GOSTSIGN" \
        --ca-file "$WORK/demo/ca.pem" --tls-cert "$WORK/$1.crt" --tls-key "$WORK/$1.key" \
        --origin "https://$1:{port}" --port-file "$WORK/$1.port" 2>"$WORK/$1.log" &
    echo $! >"$WORK/$1.pid"
    for _ in $(seq 100); do [ -s "$WORK/$1.port" ] && break; sleep 0.05; done
    [ -s "$WORK/$1.port" ] || { cat "$WORK/$1.log"; fail "cabinet $1 did not start"; }
}
start_cabinet lk.example.ru
start_cabinet evil.example.com
LK_PID=$(cat "$WORK/lk.example.ru.pid") EVIL_PID=$(cat "$WORK/evil.example.com.pid")
LK_URL="https://lk.example.ru:$(cat "$WORK/lk.example.ru.port")"
EVIL_URL="https://evil.example.com:$(cat "$WORK/evil.example.com.port")"
ok "cabinets serve $LK_URL and $EVIL_URL"

# The agent: allow-list holds only the lk cabinet; localhost development mode off.
echo "pin 12345678" >"$WORK/pinentry.script"
cat >"$WORK/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY",
 "allow_localhost": false, "allowed_origins": ["$LK_URL"]}
JSON
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
"$GOSTSIGN_AGENT" --user-config "$WORK/agent.json" --system-config /nonexistent 2>"$WORK/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$WORK/run/agent.sock" ] || { cat "$WORK/agent.log"; fail "agent did not start"; }
ok "agent listens on $WORK/run/agent.sock"

# The host manifest, written by the project's own command into the temporary HOME.
export HOME=$WORK/home
unset XDG_CONFIG_HOME
"$GOSTSIGN" browser install --browser chromium --host "$GOSTSIGN_NMHOST" >"$WORK/install.log" ||
    { cat "$WORK/install.log"; fail "gostsign browser install"; }
"$GOSTSIGN" browser status --browser chromium >"$WORK/status.log" ||
    { cat "$WORK/status.log"; fail "gostsign browser status"; }
ok "gostsign browser install/status: $(grep -o 'ok: .*' "$WORK/status.log")"
# Chromium started with --user-data-dir=DIR reads per-user manifests from DIR/NativeMessagingHosts
# (not ~/.config/chromium): register the host in the temporary profile too.
"$GOSTSIGN" browser install --browser chromium --host "$GOSTSIGN_NMHOST" --profile "$WORK/profile" \
    >"$WORK/install.log" || { cat "$WORK/install.log"; fail "gostsign browser install --profile"; }
[ -f "$WORK/profile/NativeMessagingHosts/ru.gostsign.nmhost.json" ] || fail "no manifest in the profile"
ok "gostsign browser install --profile writes DIR/NativeMessagingHosts"

EXT_ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
export CHROMIUM EXTENSION_ID=$EXT_ID EXTENSION_DIR=$SOURCE_ROOT/native-messaging/extension
export PROFILE_DIR=$WORK/profile LK_URL EVIL_URL PINENTRY_RECORD=$GS_TEST_PINENTRY_RECORD
export SCREENSHOT_DIR=$BUILD_ROOT/e2e
export EXPECT_LOGIN='вошли как ООО "Ромашка", ИНН 7707083893, ОГРН 1027700132195'
node "$E2E/cabinet_login.mjs" | tee "$WORK/node.log" || {
    echo "--- agent log"; cat "$WORK/agent.log"; echo "--- cabinet logs"; cat "$WORK"/*.example.*.log
    fail "browser scenario"
}
n=$(grep -c '^ok ' "$WORK/node.log")
grep -q "login ok" "$WORK/lk.example.ru.log" || fail "the cabinet did not log the login"
ok "the cabinet server verified the login (gostsign verify --ca-file)"
grep -q "login ok" "$WORK/evil.example.com.log" && fail "the refused site logged someone in"
ok "screenshots: $SCREENSHOT_DIR/e2e-login.png, e2e-refused.png"
echo "$((PASSED + n)) passed, 0 failed"
