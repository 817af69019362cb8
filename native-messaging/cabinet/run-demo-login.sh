#!/usr/bin/env bash
# The main job's login step without a browser: starts gostsign-agent (on the demo software token)
# and the demo cabinet on localhost, then drives the cabinet login through gostsign-nmhost exactly
# as the browser extension does, and prints each step and the final "вошли как ..." line.
#
# Usage: run-demo-login.sh BUILD_DIR OUT_DIR
#   OUT_DIR holds the demo token made by `gostsign-softtoken-setup --out OUT_DIR` with
#   GOSTSIGN_SOFTTOKEN_DIR=OUT_DIR/tokens (made here when missing) and OUT_DIR/ca.pem.
# The PIN: the demo answers the PIN dialog with the demo token's PIN through the scripted test
# pinentry (set GOSTSIGN_DEMO_PINENTRY=/usr/bin/pinentry-tty to type it yourself).
set -euo pipefail
BUILD=$(cd "${1:?usage: run-demo-login.sh BUILD_DIR OUT_DIR}" && pwd)
OUT=$(mkdir -p "${2:?usage: run-demo-login.sh BUILD_DIR OUT_DIR}" && cd "$2" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
# Where the build puts each program: one build folder per source folder.
GOSTSIGN_BIN=$BUILD/cli/gostsign
AGENT_BIN=$BUILD/agent/gostsign-agent
NMHOST_BIN=$BUILD/native-messaging/gostsign-nmhost
MODULE=$BUILD/pkcs11/softtoken/gostsign-softtoken.so
SETUP_BIN=$BUILD/pkcs11/softtoken/gostsign-softtoken-setup
SCRIPTED_PINENTRY_BIN=$BUILD/tests/pinentry/scripted-pinentry
for prog in "$GOSTSIGN_BIN" "$AGENT_BIN" "$NMHOST_BIN" "$MODULE" "$SETUP_BIN" "$SCRIPTED_PINENTRY_BIN"; do
    [ -e "$prog" ] || { echo "run-demo-login.sh: $prog is not built" >&2; exit 1; }
done
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gostsign-demo-login.XXXXXX")
AGENT_PID="" CABINET_PID=""
# The demo token is made anew each run: its wrong-PIN counters start fresh too.
export XDG_STATE_HOME=$RUN/state

# Stops what this script started (by pid) and removes its runtime directory.
cleanup() {
    [ -z "$CABINET_PID" ] || kill "$CABINET_PID" 2>/dev/null || true
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$RUN"
}
trap cleanup EXIT

export GOSTSIGN_SOFTTOKEN_DIR=${GOSTSIGN_SOFTTOKEN_DIR:-$OUT/tokens}
if ! ls "$GOSTSIGN_SOFTTOKEN_DIR"/*.token >/dev/null 2>&1 || [ ! -f "$OUT/ca.pem" ]; then
    echo "   демо-токен / demo token: creating with gostsign-softtoken-setup"
    mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR"
    "$SETUP_BIN" --out "$OUT" --module "$MODULE" >/dev/null
fi

# The agent: its own socket, the software token module, the PIN dialog, localhost allowed (demo).
. "$HERE/demo_pinentry.sh"
PINENTRY=$(demo_pinentry "$RUN" "$SCRIPTED_PINENTRY_BIN")
echo "pin 12345678" >"$RUN/pinentry.script"
cat >"$RUN/agent.json" <<JSON
{"modules": ["$MODULE"], "pinentry": "$PINENTRY",
 "allow_localhost": true, "allowed_origins": []}
JSON
export XDG_RUNTIME_DIR=$RUN GOSTSIGN_AGENT_SOCKET=$RUN/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$RUN/pinentry.script GS_TEST_PINENTRY_RECORD=$RUN/pinentry.record
"$AGENT_BIN" --user-config "$RUN/agent.json" --system-config /nonexistent \
    2>"$RUN/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$RUN/agent.sock" ] && break; sleep 0.05; done
[ -S "$RUN/agent.sock" ] || { cat "$RUN/agent.log"; echo "agent did not start"; exit 1; }
echo "   агент / agent: pid $AGENT_PID, socket $RUN/agent.sock"

python3 "$HERE/cabinet.py" --gostsign "$GOSTSIGN_BIN" --ca-file "$OUT/ca.pem" \
    --port-file "$RUN/port" 2>"$RUN/cabinet.log" &
CABINET_PID=$!
for _ in $(seq 100); do [ -s "$RUN/port" ] && break; sleep 0.05; done
[ -s "$RUN/port" ] || { cat "$RUN/cabinet.log"; echo "cabinet did not start"; exit 1; }
URL="http://localhost:$(cat "$RUN/port")"
echo "   кабинет / cabinet: $URL (проверяет подписи: gostsign verify --ca-file $OUT/ca.pem)"

python3 "$HERE/demo_login.py" "$NMHOST_BIN" "$URL" --out "$OUT"
