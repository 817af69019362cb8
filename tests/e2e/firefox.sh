#!/usr/bin/env bash
# End-to-end test in a real Firefox: Debian's firefox-esr, headless, driven over WebDriver BiDi by
# puppeteer-core (npm; never downloads a browser), installs the Firefox build of the extension
# (build-firefox.sh) as a temporary add-on (BiDi webExtension.install, which release Firefox
# allows for unsigned add-ons), finds gostsign-nmhost through the manifest that
# `gostsign browser install --browser firefox` writes into ~/.mozilla/native-messaging-hosts, and
# logs in to the demo cabinet (https://lk.example.ru, allowed; https://evil.example.com, refused),
# signs one document through the page API (verified here with openssl and the GOST engine and with
# `gostsign verify`), logs in on the ESIA-style page through the IFCPlugin adapter, and sees the
# idle native port closed after the extension's 30 s (the host ends; a new request reopens).
# The names resolve to 127.0.0.1 in that Firefox only (network.dns.localDomains). Screenshots go
# to $BUILD_ROOT/e2e/. Skips (77) only when firefox-esr or node is missing.
# Usage: firefox.sh  (env: GOSTSIGN, SOURCE_ROOT, BUILD_ROOT as set by meson)
. "$(dirname "$0")/../integration/lib.sh"
FIREFOX=${FIREFOX:-$(command -v firefox-esr || true)}
[ -n "$FIREFOX" ] || { echo "SKIP: firefox-esr is not installed (apt-get install firefox-esr)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
E2E=$SOURCE_ROOT/tests/e2e
AGENT_PID="" LK_PID="" EVIL_PID="" SITE_PID=""

# Stops the processes this test started (by pid), then removes the work directory.
stop_all() {
    for pid in $LK_PID $EVIL_PID $SITE_PID $AGENT_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_all EXIT

bash "$E2E/npm-ci.sh" "$WORK/npm.log" || fail "npm ci in tests/e2e"
ok "puppeteer-core installed from tests/e2e/package-lock.json"

bash "$SOURCE_ROOT/native-messaging/extension/build-firefox.sh" "$WORK/ext" "$WORK/gostsign.xpi" >/dev/null ||
    fail "build-firefox.sh"
ok "Firefox build of the extension: $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["browser_specific_settings"]["gecko"]["id"], "MV%d" % m["manifest_version"])' "$WORK/ext/manifest.json")"

# The demo token (key + certificate on the token, test CA).
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$WORK/home"
chmod 700 "$WORK/run" # the agent refuses a socket directory others may enter
"$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" >/dev/null || fail "gostsign-softtoken-setup"

# TLS (self-signed) for the cabinets and the ESIA-style site; the session accepts them
# (BiDi acceptInsecureCerts: Firefox has no per-key exception on its command line).
for name in lk.example.ru evil.example.com esia.gosuslugi.ru; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name" -keyout "$WORK/$name.key" -out "$WORK/$name.crt" \
        >/dev/null 2>&1 || fail "TLS certificate for $name"
done

# wait_port FILE: waits for a server's port file.
wait_port() {
    for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done
    return 1
}
# start_cabinet NAME: serves the demo cabinet for https://NAME:PORT.
start_cabinet() {
    python3 "$SOURCE_ROOT/native-messaging/cabinet/cabinet.py" --gostsign "$GOSTSIGN" \
        --ca-file "$WORK/demo/ca.pem" --tls-cert "$WORK/$1.crt" --tls-key "$WORK/$1.key" \
        --origin "https://$1:{port}" --port-file "$WORK/$1.port" 2>"$WORK/$1.log" &
    echo $! >"$WORK/$1.pid"
    wait_port "$WORK/$1.port" || { cat "$WORK/$1.log"; fail "cabinet $1 did not start"; }
}
start_cabinet lk.example.ru
start_cabinet evil.example.com
LK_PID=$(cat "$WORK/lk.example.ru.pid") EVIL_PID=$(cat "$WORK/evil.example.com.pid")
LK_URL="https://lk.example.ru:$(cat "$WORK/lk.example.ru.port")"
EVIL_URL="https://evil.example.com:$(cat "$WORK/evil.example.com.port")"
python3 "$E2E/sites/server.py" --root "$E2E/sites" --ca-file "$WORK/demo/ca.pem" \
    --tls-cert "$WORK/esia.gosuslugi.ru.crt" --tls-key "$WORK/esia.gosuslugi.ru.key" \
    --port-file "$WORK/site.port" 2>"$WORK/site.log" &
SITE_PID=$!
wait_port "$WORK/site.port" || { cat "$WORK/site.log"; fail "the ESIA-style site did not start"; }
ESIA_URL="https://esia.gosuslugi.ru:$(cat "$WORK/site.port")"
ok "sites serve $LK_URL, $EVIL_URL and $ESIA_URL"

# The agent: the lk cabinet and the ESIA-style site allowed; localhost development mode off.
printf 'pin 12345678\npin 12345678\npin 12345678\n' >"$WORK/pinentry.script"
cat >"$WORK/system.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY",
 "allow_localhost": false, "allowed_origins": ["$LK_URL", "$ESIA_URL"]}
JSON
echo '{}' >"$WORK/user.json"
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
"$GOSTSIGN_AGENT" --system-config "$WORK/system.json" --user-config "$WORK/user.json" 2>"$WORK/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$WORK/run/agent.sock" ] || { cat "$WORK/agent.log"; fail "agent did not start"; }
ok "agent listens; allowed: $LK_URL $ESIA_URL"

# The host manifest, written by the project's own command where Firefox reads it.
export HOME=$WORK/home
unset XDG_CONFIG_HOME
"$GOSTSIGN" browser install --browser firefox --host "$GOSTSIGN_NMHOST" >"$WORK/install.log" ||
    { cat "$WORK/install.log"; fail "gostsign browser install --browser firefox"; }
MANIFEST=$HOME/.mozilla/native-messaging-hosts/ru.gostsign.nmhost.json
python3 - "$MANIFEST" "$GOSTSIGN_NMHOST" <<'PY' || fail "Firefox host manifest"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["path"] == sys.argv[2] and m["allowed_extensions"] == ["gostsign@gostsign.ru"], m
PY
"$GOSTSIGN" browser status --browser firefox >"$WORK/status.log" ||
    { cat "$WORK/status.log"; fail "gostsign browser status --browser firefox"; }
ok "gostsign browser install --browser firefox: $MANIFEST (allowed_extensions gostsign@gostsign.ru)"

export FIREFOX FIREFOX_MANIFEST=$MANIFEST EXTENSION_DIR=$WORK/ext LK_URL EVIL_URL ESIA_URL PINENTRY_RECORD=$GS_TEST_PINENTRY_RECORD
export SCREENSHOT_DIR=$BUILD_ROOT/e2e SIGNATURE_OUT=$WORK/document.p7s DOCUMENT_OUT=$WORK/document.txt
export EXPECT_LOGIN='вошли как ООО "Ромашка", ИНН 7707083893, ОГРН 1027700132195'
node "$E2E/firefox.mjs" | tee "$WORK/node.log" || {
    echo "--- agent log"; tail -30 "$WORK/agent.log"; echo "--- cabinet logs"; for f in "$WORK"/*.example.*.log; do tail -n 20 "$f"; done
    echo "--- site log"; tail -20 "$WORK/site.log"
    echo "--- pinentry record"; grep -a 'SETDESC\|SETERROR\|GETPIN\|^D \|^ERR' "$GS_TEST_PINENTRY_RECORD" | tail -8
    fail "Firefox scenario"
}
n=$(grep -c '^ok ' "$WORK/node.log")
grep -q "login ok" "$WORK/lk.example.ru.log" || fail "the cabinet did not log the login"
grep -q "login ok" "$WORK/evil.example.com.log" && fail "the refused site logged someone in"
ok "the cabinet server verified the Firefox login (gostsign verify --ca-file)"
ossl cms -verify -engine gost -binary -inform DER -in "$SIGNATURE_OUT" -content "$DOCUMENT_OUT" \
    -CAfile "$WORK/demo/ca.pem" -purpose any -out /dev/null >/dev/null 2>"$WORK/verify.err" ||
    { cat "$WORK/verify.err"; fail "openssl cms -verify of the document signed in Firefox"; }
"$GOSTSIGN" verify --ca-file "$WORK/demo/ca.pem" --content "$DOCUMENT_OUT" "$SIGNATURE_OUT" >/dev/null ||
    fail "gostsign verify of the document signed in Firefox"
ok "the document signed in Firefox verifies with openssl cms -verify (GOST engine) and gostsign verify"
grep -q "^VERIFIED esia.gosuslugi.ru login" "$WORK/site.log" || fail "the ESIA-style site verified no login"
ok "the ESIA-style site verified the IFCPlugin login from Firefox (openssl cms -verify)"
echo "$((PASSED + n)) passed, 0 failed"
