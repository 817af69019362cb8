#!/usr/bin/env bash
# End-to-end test of the compatibility adapters in a real browser: headless Debian Chromium loads
# the gostsign extension; three test sites written from the public facts of the page APIs
# (tests/e2e/sites: a CryptoPro-style EDO site, the Gosuslugi cabinet with the Gosplugin protocol,
# an ESIA-style login with the IFCPlugin protocol) are served over TLS under the real host names
# sign.example-edo.ru, lk.gosuslugi.ru and esia.gosuslugi.ru (and evil.example.com, not allowed;
# sign.other-edo.ru, allowed later through the popup's path), all mapped to 127.0.0.1. The agent
# runs on the demo software token with the scripted pinentry; the server verifies every CMS with
# `openssl cms -verify` and the GOST engine against the demo CA. Then the browser starts again
# with the agent serving no token. Skips (77) only when chromium or node is missing.
# Usage: adapters.sh  (env: GOSTSIGN, SOURCE_ROOT, BUILD_ROOT as set by meson)
. "$(dirname "$0")/../integration/lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
E2E=$SOURCE_ROOT/tests/e2e
AGENT_PID="" SITE_PID=""

# Stops the processes this test started (by pid), then removes the work directory.
stop_all() {
    for pid in $SITE_PID $AGENT_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_all EXIT

# The adapters' Streebog against RFC 6986 and openssl first: the sites rely on it.
node "$E2E/adapters_streebog.mjs" "$SOURCE_ROOT/native-messaging/extension/adapters/common.js" \
    >"$WORK/streebog.log" || { cat "$WORK/streebog.log"; fail "adapters' GOST R 34.11-2012"; }
ok "adapters' GOST R 34.11-2012: $(grep -c '^ok' "$WORK/streebog.log") checks against RFC 6986 and openssl dgst"

if [ ! -d "$E2E/node_modules/playwright-core" ]; then
    (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) ||
        { cat "$WORK/npm.log"; fail "npm ci in tests/e2e"; }
fi

export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$WORK/home"
chmod 700 "$WORK/run" # the agent refuses a socket directory others may enter
"$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" >/dev/null || fail "gostsign-softtoken-setup"

# One TLS certificate for every test host (self-signed; Chromium trusts exactly its key).
HOSTS="sign.example-edo.ru lk.gosuslugi.ru esia.gosuslugi.ru evil.example.com sign.other-edo.ru"
SAN=$(for h in $HOSTS; do printf 'DNS:%s,' "$h"; done)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gostsign adapters test" \
    -addext "subjectAltName=${SAN%,}" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" >/dev/null 2>&1 ||
    fail "TLS certificate"
SPKI=$(openssl x509 -in "$WORK/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | base64)

python3 "$E2E/sites/server.py" --root "$E2E/sites" --ca-file "$WORK/demo/ca.pem" \
    --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" --port-file "$WORK/site.port" 2>"$WORK/site.log" &
SITE_PID=$!
for _ in $(seq 100); do [ -s "$WORK/site.port" ] && break; sleep 0.05; done
[ -s "$WORK/site.port" ] || { cat "$WORK/site.log"; fail "test sites did not start"; }
PORT=$(cat "$WORK/site.port")
ok "test sites serve https://{${HOSTS// /,}}:$PORT"

# The agent: three sites allowed; hash signing only for the ESIA-style origin.
export HOME=$WORK/home
unset XDG_CONFIG_HOME
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
cat >"$WORK/pinentry.script" <<SCRIPT
pin 12345678
cancel
pin 00000000
pin 12345678
pin 12345678
pin 12345678
pin 12345678
cancel
pin 00000000
pin 12345678
pin 12345678
cancel
pin 00000000
pin 12345678
pin 12345678
pin 12345678
pin 12345678
SCRIPT
# write_config MODULES: the system config the agent reads (the allow-lists live there).
write_config() {
    cat >"$WORK/system.json" <<JSON
{"modules": $1, "pinentry": "$SCRIPTED_PINENTRY", "allow_localhost": false,
 "allowed_origins": ["https://sign.example-edo.ru:$PORT", "https://lk.gosuslugi.ru:$PORT",
                     "https://esia.gosuslugi.ru:$PORT"],
 "hash_sign_origins": ["https://esia.gosuslugi.ru:$PORT"]}
JSON
}
# start_agent: the agent on the current config, waiting for its socket.
start_agent() {
    rm -f "$WORK/run/agent.sock"
    "$GOSTSIGN_AGENT" --system-config "$WORK/system.json" --user-config "$WORK/user.json" \
        2>>"$WORK/agent.log" &
    AGENT_PID=$!
    for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && break; sleep 0.05; done
    [ -S "$WORK/run/agent.sock" ] || { cat "$WORK/agent.log"; fail "agent did not start"; }
}
echo '{}' >"$WORK/user.json"
write_config "[\"$SOFTTOKEN_MODULE\"]"
start_agent
ok "agent listens; allowed: sign.example-edo.ru, lk.gosuslugi.ru, esia.gosuslugi.ru (hash signing: esia only)"

"$GOSTSIGN" browser install --browser chromium --host "$GOSTSIGN_NMHOST" --profile "$WORK/profile" \
    >"$WORK/install.log" || { cat "$WORK/install.log"; fail "gostsign browser install --profile"; }

EXT_ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
export CHROMIUM EXTENSION_ID=$EXT_ID EXTENSION_DIR=$SOURCE_ROOT/native-messaging/extension
export PROFILE_DIR=$WORK/profile PORT SPKI PINENTRY_RECORD=$GS_TEST_PINENTRY_RECORD SITE_LOG=$WORK/site.log
export SCREENSHOT_DIR=$BUILD_ROOT/e2e
# run_phase NAME: one browser session of adapters.mjs.
run_phase() {
    PHASE=$1 node "$E2E/adapters.mjs" | tee "$WORK/node-$1.log" || {
        echo "--- agent log"; tail -50 "$WORK/agent.log"; echo "--- site log"; tail -30 "$WORK/site.log"
        echo "--- pinentry record"; grep -a 'SETDESC\|SETERROR' "$GS_TEST_PINENTRY_RECORD" | tail -5
        fail "browser phase $1"
    }
    PASSED=$((PASSED + $(grep -c '^ok ' "$WORK/node-$1.log")))
}
run_phase tokens
n=$(grep -c '^VERIFIED' "$WORK/site.log")
grep -q '^REFUSED' "$WORK/site.log" && { grep '^REFUSED' "$WORK/site.log"; fail "the server refused a signature"; }
ok "the test server verified $n signatures with openssl cms -verify and the GOST engine"
for api in 'КриптоПро ЭЦП Browser plug-in' 'плагина Госуслуг'; do
    grep -aq "через интерфейс $api" "$GS_TEST_PINENTRY_RECORD" || fail "the PIN dialog never named «через интерфейс $api»"
done
ok "the PIN dialog names the API that asked (КриптоПро, плагин Госуслуг)"

# The browser starts again; the agent now serves no token.
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
write_config '[]'
start_agent
run_phase notoken
echo "$PASSED passed, 0 failed"
