#!/usr/bin/env bash
# End-to-end test of the extension's idle native port (issue 17): headless Debian Chromium loads
# the gostsign extension, the agent runs on the demo software token with the scripted pinentry,
# and the demo cabinet is served over TLS at https://lk.example.ru. native_idle.mjs shortens the
# extension's idle constant through the service worker's own context, then checks that after a
# page request the browser's gostsign-nmhost is gone and the agent has no connection left (its
# `status` counts only the asker) within the constant plus a margin; that a login whose certificate
# chooser and PIN dialog each last longer than the constant keeps its port (a second certificate,
# from the test PKI, is imported so that the chooser opens); and that requests after a close work
# (new port); and that with the port closed the agent shrinks into gostsign-agent-listener
# (idle_shrink_seconds 3 here) and the page's next request brings it back and is served.
# Skips (77) only when chromium or node is missing.
# Usage: native_idle.sh  (env: GOSTSIGN, GOSTSIGN_AGENT, GOSTSIGN_NMHOST, SOURCE_ROOT, BUILD_ROOT)
. "$(dirname "$0")/../integration/lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
E2E=$SOURCE_ROOT/tests/e2e
AGENT_PID="" LK_PID=""

# Stops the processes this test started (by pid), then removes the work directory.
stop_all() {
    for pid in $LK_PID $AGENT_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_all EXIT

bash "$E2E/npm-ci.sh" "$WORK/npm.log" || fail "npm ci in tests/e2e"

export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$WORK/home"
chmod 700 "$WORK/run" # the agent refuses a socket directory others may enter
"$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" >/dev/null ||
    fail "gostsign-softtoken-setup"
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >/dev/null || fail "test PKI"
ossl pkcs12 -export -engine gost -inkey "$WORK/pki/employee.key" -in "$WORK/pki/employee.pem" \
    -passout pass:secret -out "$WORK/employee.p12" 2>/dev/null || fail "openssl pkcs12 -export"
printf 'secret\n' >"$WORK/pw"
cat "$WORK/demo/ca.pem" "$WORK/pki/ca.pem" >"$WORK/cas.pem"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lk.example.ru" \
    -addext "subjectAltName=DNS:lk.example.ru" -keyout "$WORK/lk.key" -out "$WORK/lk.crt" \
    >/dev/null 2>&1 || fail "TLS certificate for lk.example.ru"
python3 "$SOURCE_ROOT/native-messaging/cabinet/cabinet.py" --gostsign "$GOSTSIGN" \
    --ca-file "$WORK/cas.pem" --tls-cert "$WORK/lk.crt" --tls-key "$WORK/lk.key" \
    --origin "https://lk.example.ru:{port}" --port-file "$WORK/lk.port" 2>"$WORK/lk.log" &
LK_PID=$!
for _ in $(seq 100); do [ -s "$WORK/lk.port" ] && break; sleep 0.05; done
[ -s "$WORK/lk.port" ] || { cat "$WORK/lk.log"; fail "the cabinet did not start"; }
LK_URL="https://lk.example.ru:$(cat "$WORK/lk.port")"

# The PIN dialog answers after 4 s: longer than the shortened idle constant (1.5 s).
echo "delay 4 12345678" >"$WORK/pinentry.script"
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
mkdir -p "$XDG_CONFIG_HOME/gostsign"
# the agent's config, where `gostsign import` also finds the pinentry
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY",
 "allow_localhost": false, "allowed_origins": ["$LK_URL"], "idle_shrink_seconds": 3}
JSON
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
"$GOSTSIGN_AGENT" --user-config "$XDG_CONFIG_HOME/gostsign/agent.json" --system-config /nonexistent \
    2>"$WORK/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$WORK/run/agent.sock" ] || { cat "$WORK/agent.log"; fail "agent did not start"; }
LABEL=$("$GOSTSIGN" tokens --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["label"])')
"$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --token "$LABEL" --password-file "$WORK/pw" \
    "$WORK/employee.p12" >"$WORK/import.log" 2>&1 </dev/null || { cat "$WORK/import.log"; fail "gostsign import"; }
sleep 2.1 # the agent re-reads its lists once they are older than 2 s
# two usable certificates, so that the page's login opens the chooser (the agent may answer
# from its cache once more while it re-reads the token)
two_usable() {
    "$GOSTSIGN" certs --json | python3 -c 'import json,sys; u=[c for c in json.load(sys.stdin) if c["status"].get("usable")]; sys.exit(0 if len(u) == 2 else 1)'
}
for _ in $(seq 20); do two_usable && break; sleep 0.5; done
two_usable || fail "the agent does not list two usable certificates: $("$GOSTSIGN" certs --json | head -c 2000)"
DEMO_CERT=$(ossl x509 -in "$WORK/demo/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
ok "agent on the demo token with a second certificate, cabinet at $LK_URL"
"$GOSTSIGN" browser install --browser chromium --host "$GOSTSIGN_NMHOST" --profile "$WORK/profile" \
    >"$WORK/install.log" || { cat "$WORK/install.log"; fail "gostsign browser install --profile"; }
EXT_ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
export CHROMIUM EXTENSION_ID=$EXT_ID EXTENSION_DIR=$SOURCE_ROOT/native-messaging/extension
export PROFILE_DIR=$WORK/profile LK_URL DEMO_CERT AGENT_SOCKET=$GOSTSIGN_AGENT_SOCKET NMHOST=$GOSTSIGN_NMHOST AGENT_PID
export EXPECT_LOGIN='вошли как ООО "Ромашка", ИНН 7707083893, ОГРН 1027700132195'
node "$E2E/native_idle.mjs" | tee "$WORK/node.log" || {
    echo "--- agent log"; tail -40 "$WORK/agent.log"; fail "browser scenario"
}
PASSED=$((PASSED + $(grep -c '^ok ' "$WORK/node.log")))
grep -q "login ok" "$WORK/lk.log" || fail "the cabinet did not log the login"
ok "the cabinet server verified the login made on the second port"
echo "$PASSED passed, 0 failed"
