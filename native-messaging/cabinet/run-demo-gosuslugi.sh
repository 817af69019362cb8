#!/usr/bin/env bash
# The main job's second login, in a real browser and through the Gosuslugi adapter: starts
# gostsign-agent on the demo software token, the ESIA-style test site of tests/e2e/sites over TLS
# as https://esia.gosuslugi.ru (mapped to 127.0.0.1 inside the browser only), registers
# gostsign-nmhost for a fresh Chromium profile, and has headless Debian Chromium with the gostsign
# extension log in there through the IFCPlugin page protocol (tests/e2e/demo_gosuslugi.mjs). The
# site's server verifies the CMS with `openssl cms -verify` and the GOST engine and names who signed
# in. Prints each step, the «вошли как ...» line and the path of a screenshot.
#
# Usage: run-demo-gosuslugi.sh BUILD_DIR OUT_DIR
#   OUT_DIR holds the demo token (as for run-demo-login.sh; made here when missing) and receives
#   gosuslugi-login.png. The PIN: the scripted test pinentry answers with the demo token's PIN;
#   GOSTSIGN_DEMO_PINENTRY=/usr/bin/pinentry-tty lets you type it. Needs chromium and node
#   (scripts/deps.sh installs both); the npm packages come from tests/e2e/npm-ci.sh.
set -euo pipefail
BUILD=$(cd "${1:?usage: run-demo-gosuslugi.sh BUILD_DIR OUT_DIR}" && pwd)
OUT=$(mkdir -p "${2:?usage: run-demo-gosuslugi.sh BUILD_DIR OUT_DIR}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
E2E=$ROOT/tests/e2e
GOSTSIGN_BIN=$BUILD/cli/gostsign
AGENT_BIN=$BUILD/agent/gostsign-agent
NMHOST_BIN=$BUILD/native-messaging/gostsign-nmhost
MODULE=$BUILD/pkcs11/softtoken/gostsign-softtoken.so
SETUP_BIN=$BUILD/pkcs11/softtoken/gostsign-softtoken-setup
SCRIPTED_PINENTRY_BIN=$BUILD/tests/pinentry/scripted-pinentry
for prog in "$GOSTSIGN_BIN" "$AGENT_BIN" "$NMHOST_BIN" "$MODULE" "$SETUP_BIN" "$SCRIPTED_PINENTRY_BIN"; do
    [ -e "$prog" ] || { echo "run-demo-gosuslugi.sh: $prog is not built" >&2; exit 1; }
done
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "run-demo-gosuslugi.sh: chromium is not installed (scripts/deps.sh)" >&2; exit 1; }
command -v node >/dev/null || { echo "run-demo-gosuslugi.sh: node is not installed (scripts/deps.sh)" >&2; exit 1; }
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gostsign-demo-gosuslugi.XXXXXX")
chmod 700 "$RUN" # the agent refuses a socket directory others may enter
AGENT_PID="" SITE_PID=""
export XDG_STATE_HOME=$RUN/state

# Stops what this script started (by pid) and removes its runtime directory.
cleanup() {
    [ -z "$SITE_PID" ] || kill "$SITE_PID" 2>/dev/null || true
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT

# Prints the last lines of the logs this script keeps, then exits with a message.
die() {
    for log in "$RUN"/agent.log "$RUN"/site.log; do
        [ -s "$log" ] && { echo "--- $(basename "$log")"; tail -20 "$log"; }
    done >&2
    echo "run-demo-gosuslugi.sh: $*" >&2
    exit 1
}

bash "$E2E/npm-ci.sh" "$RUN/npm.log" || die "npm ci in tests/e2e failed"

export GOSTSIGN_SOFTTOKEN_DIR=${GOSTSIGN_SOFTTOKEN_DIR:-$OUT/tokens}
if ! ls "$GOSTSIGN_SOFTTOKEN_DIR"/*.token >/dev/null 2>&1 || [ ! -f "$OUT/ca.pem" ]; then
    echo "   демо-токен / demo token: creating with gostsign-softtoken-setup"
    mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR"
    "$SETUP_BIN" --out "$OUT" --module "$MODULE" >/dev/null
fi

# The site's TLS certificate (self-signed): the browser trusts exactly its key, nothing more.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=esia.gosuslugi.ru (gostsign demo)" \
    -addext "subjectAltName=DNS:esia.gosuslugi.ru,DNS:lk.gosuslugi.ru" \
    -keyout "$RUN/tls.key" -out "$RUN/tls.crt" >/dev/null 2>&1 || die "TLS certificate"
SPKI=$(openssl x509 -in "$RUN/tls.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -binary | base64)

python3 "$E2E/sites/server.py" --root "$E2E/sites" --ca-file "$OUT/ca.pem" \
    --tls-cert "$RUN/tls.crt" --tls-key "$RUN/tls.key" --port-file "$RUN/site.port" 2>"$RUN/site.log" &
SITE_PID=$!
for _ in $(seq 100); do [ -s "$RUN/site.port" ] && break; sleep 0.05; done
[ -s "$RUN/site.port" ] || die "the test site did not start"
PORT=$(cat "$RUN/site.port")
ORIGIN="https://esia.gosuslugi.ru:$PORT"
echo "   сайт / site: $ORIGIN (127.0.0.1 только для браузера / for the browser only; проверяет подписи: openssl cms -verify -engine gost)"

# The agent: this origin allowed (the built-in Gosuslugi defaults have no port), the PIN dialog.
. "$HERE/demo_pinentry.sh"
PINENTRY=$(demo_pinentry "$RUN" "$SCRIPTED_PINENTRY_BIN")
echo "pin 12345678" >"$RUN/pinentry.script"
cat >"$RUN/system.json" <<JSON
{"modules": ["$MODULE"], "pinentry": "$PINENTRY", "allow_localhost": false,
 "allowed_origins": ["$ORIGIN"]}
JSON
echo '{}' >"$RUN/user.json"
export XDG_RUNTIME_DIR=$RUN GOSTSIGN_AGENT_SOCKET=$RUN/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$RUN/pinentry.script GS_TEST_PINENTRY_RECORD=$RUN/pinentry.record
"$AGENT_BIN" --system-config "$RUN/system.json" --user-config "$RUN/user.json" 2>"$RUN/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$RUN/agent.sock" ] && break; sleep 0.05; done
[ -S "$RUN/agent.sock" ] || die "the agent did not start"
echo "   агент / agent: pid $AGENT_PID, разрешён / allowed: $ORIGIN"

# The host manifest for this browser profile, written by the project's own command.
export HOME=$RUN/home
unset XDG_CONFIG_HOME
mkdir -p "$HOME"
"$GOSTSIGN_BIN" browser install --browser chromium --host "$NMHOST_BIN" --profile "$RUN/profile" \
    >"$RUN/install.log" 2>&1 || { cat "$RUN/install.log" >&2; die "gostsign browser install"; }
echo "   gostsign browser install --browser chromium: $RUN/profile/NativeMessagingHosts/ru.gostsign.nmhost.json"

EXT_ID=$(sed -n 's/.*NM_CHROMIUM_EXTENSION_ID "\([a-p]*\)".*/\1/p' "$ROOT/native-messaging/native_messaging.h")
PIN_TIMEOUT_MS=90000
[ -z "${GOSTSIGN_DEMO_PINENTRY:-}" ] || PIN_TIMEOUT_MS=600000 # a person types the PIN
BROWSER_VERSION=$("$CHROMIUM" --version 2>/dev/null | sed 's/ built on.*//' || true)
export CHROMIUM BROWSER_VERSION EXTENSION_ID=$EXT_ID EXTENSION_DIR=$ROOT/native-messaging/extension PORT SPKI
export PROFILE_DIR=$RUN/profile SITE_LOG=$RUN/site.log SCREENSHOT=$OUT/gosuslugi-login.png PIN_TIMEOUT_MS
node "$E2E/demo_gosuslugi.mjs" || die "the login through the Gosuslugi adapter failed"
# What the agent's PIN dialog said (the scripted pinentry keeps a record of it).
desc=$(grep -a '^SETDESC' "$RUN/pinentry.record" 2>/dev/null | tail -1 | cut -d' ' -f2- |
    python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()).strip().split("\n")[0])' || true)
[ -z "$desc" ] || echo "   окно PIN-кода агента / the agent's PIN dialog: «$desc»"
