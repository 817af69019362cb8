#!/usr/bin/env bash
# End-to-end test of the extension's own pages in a real browser (issue 14 items 15 and 6):
# headless Debian Chromium loads the gostsign extension; the agent runs on the demo software token
# with a second usable certificate imported from the test PKI (tests/data/make-test-pki.sh), the
# scripted pinentry answers. Two demo cabinets over TLS: https://lk.example.ru (on the
# administrator's allow-list) and https://user.example.org (not on it). popup.mjs checks, in
# Russian and in English (LANGUAGE for Chromium's UI, whose Russian comes with chromium-l10n): the popup describes the site's tab
# (not itself), allow / forbid change the agent's user list (origins.json) and the page then can /
# cannot sign, tokens with their PIN state and the agent's pause, certificates with the days left
# that openssl computes from notAfter; the agent's state when it cannot be reached. Then the
# certificate chooser: the page calls authenticate without a certificate, the extension's window
# lists both, the test picks the imported one, and openssl (GOST engine) verifies that the page's
# CMS is signed by exactly that certificate; a cancel reaches the page as USER_CANCELLED, a
# document signature gets the chooser too, and a page that aborts meanwhile gets CANCELLED.
# Skips (77) only when chromium or node is missing.
# Usage: popup.sh  (env: GOSTSIGN, SOURCE_ROOT, BUILD_ROOT as set by meson)
. "$(dirname "$0")/../integration/lib.sh"
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
[ -e "$(dirname "$(readlink -f "$CHROMIUM")")/locales/ru.pak" ] || [ -e /usr/lib/chromium/locales/ru.pak ] ||
    fail "Chromium has no Russian UI: apt-get install chromium-l10n (scripts/deps.sh)"
E2E=$SOURCE_ROOT/tests/e2e
AGENT_PID="" LK_PID="" USER_PID=""

# Stops the processes this test started (by pid), then removes the work directory.
stop_all() {
    for pid in $LK_PID $USER_PID $AGENT_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_all EXIT

bash "$E2E/npm-ci.sh" "$WORK/npm.log" || fail "npm ci in tests/e2e"

# The demo token, plus a second usable certificate (the test PKI's employee) imported onto it.
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$WORK/home"
chmod 700 "$WORK/run" # the agent refuses a socket directory others may enter
"$SOFTTOKEN_SETUP" --out "$WORK/demo" --module "$SOFTTOKEN_MODULE" >/dev/null || fail "gostsign-softtoken-setup"
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >/dev/null || fail "test PKI"
ossl pkcs12 -export -engine gost -inkey "$WORK/pki/employee.key" -in "$WORK/pki/employee.pem" \
    -passout pass:secret -out "$WORK/employee.p12" 2>/dev/null || fail "openssl pkcs12 -export"
printf 'secret\n' >"$WORK/pw"
cat "$WORK/demo/ca.pem" "$WORK/pki/ca.pem" >"$WORK/cas.pem"

for name in lk.example.ru user.example.org; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name" -keyout "$WORK/$name.key" -out "$WORK/$name.crt" \
        >/dev/null 2>&1 || fail "TLS certificate for $name"
done
# start_cabinet NAME: serves the cabinet for https://NAME:PORT (both CAs trusted).
start_cabinet() {
    python3 "$SOURCE_ROOT/native-messaging/cabinet/cabinet.py" --gostsign "$GOSTSIGN" \
        --ca-file "$WORK/cas.pem" --tls-cert "$WORK/$1.crt" --tls-key "$WORK/$1.key" \
        --origin "https://$1:{port}" --port-file "$WORK/$1.port" 2>"$WORK/$1.log" &
    echo $! >"$WORK/$1.pid"
    for _ in $(seq 100); do [ -s "$WORK/$1.port" ] && break; sleep 0.05; done
    [ -s "$WORK/$1.port" ] || { cat "$WORK/$1.log"; fail "cabinet $1 did not start"; }
}
start_cabinet lk.example.ru
start_cabinet user.example.org
LK_PID=$(cat "$WORK/lk.example.ru.pid") USER_PID=$(cat "$WORK/user.example.org.pid")
LK_URL="https://lk.example.ru:$(cat "$WORK/lk.example.ru.port")"
USER_URL="https://user.example.org:$(cat "$WORK/user.example.org.port")"
ok "cabinets serve $LK_URL (allowed by the administrator) and $USER_URL (not allowed)"

export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
for _ in $(seq 12); do echo "pin 12345678"; done >"$WORK/pinentry.script"
mkdir -p "$XDG_CONFIG_HOME/gostsign"
# the agent's config, where `gostsign import` also finds the pinentry
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY", "pin_max_failures": 3,
 "allow_localhost": false, "allowed_origins": ["$LK_URL"]}
JSON
"$GOSTSIGN_AGENT" --user-config "$XDG_CONFIG_HOME/gostsign/agent.json" --system-config /nonexistent 2>"$WORK/agent.log" &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$WORK/run/agent.sock" ] && break; sleep 0.05; done
[ -S "$WORK/run/agent.sock" ] || { cat "$WORK/agent.log"; fail "agent did not start"; }
LABEL=$("$GOSTSIGN" tokens --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["label"])')
"$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --token "$LABEL" --password-file "$WORK/pw" \
    "$WORK/employee.p12" >"$WORK/import.log" 2>&1 </dev/null || { cat "$WORK/import.log"; fail "gostsign import"; }
sleep 2.1 # the agent re-reads its lists once they are older than 2 s
ok "agent on the demo token with a second certificate imported (token \"$LABEL\")"

# The two certificates as openssl sees them: SHA-1 thumbprint -> whole days to notAfter.
fingerprint() { ossl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
days_left() { python3 -c 'import sys,time,email.utils as e; print(int((e.parsedate_to_datetime(sys.argv[1]).timestamp() - time.time()) // 86400))' \
    "$(ossl x509 -in "$1" -noout -enddate | sed 's/notAfter=//')"; }
DEMO_PEM=$WORK/demo/cert.pem
DEMO_CERT=$(fingerprint "$DEMO_PEM") SECOND_CERT=$(fingerprint "$WORK/pki/employee.pem")
EXPECT_DAYS="{\"$DEMO_CERT\": $(days_left "$DEMO_PEM"), \"$SECOND_CERT\": $(days_left "$WORK/pki/employee.pem")}"
"$GOSTSIGN" certs --json | python3 -c 'import json,sys; ids={c["id"].lower() for c in json.load(sys.stdin)}; sys.exit(0 if set(sys.argv[1:]) <= ids else 1)' \
    "$DEMO_CERT" "$SECOND_CERT" || fail "the agent does not list both certificates"
ok "openssl: demo certificate $DEMO_CERT and imported $SECOND_CERT, days left $EXPECT_DAYS"

"$GOSTSIGN" browser install --browser chromium --host "$GOSTSIGN_NMHOST" --profile "$WORK/profile" \
    >"$WORK/install.log" || { cat "$WORK/install.log"; fail "gostsign browser install --profile"; }
EXT_ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
SYSTEM_HOST=no
[ -e /etc/chromium/native-messaging-hosts/ru.gostsign.nmhost.json ] && SYSTEM_HOST=yes
export CHROMIUM EXTENSION_ID=$EXT_ID EXTENSION_DIR=$SOURCE_ROOT/native-messaging/extension
export PROFILE_DIR=$WORK/profile BARE_PROFILE_DIR=$WORK/bare-profile LK_URL USER_URL WORK SYSTEM_HOST
export DEMO_CERT SECOND_CERT EXPECT_DAYS USER_ORIGINS=$XDG_CONFIG_HOME/gostsign/origins.json
export PINENTRY_RECORD=$GS_TEST_PINENTRY_RECORD SCREENSHOT_DIR=$BUILD_ROOT/e2e
node "$E2E/popup.mjs" | tee "$WORK/node.log" || {
    echo "--- agent log"; tail -40 "$WORK/agent.log"; fail "browser scenario"
}
PASSED=$((PASSED + $(grep -c '^ok ' "$WORK/node.log")))

# The page's CMS from the chooser runs: signed by exactly the chosen certificate (openssl).
for run in ru en; do
    want=$SECOND_CERT
    [ "$run" = en ] && want=$DEMO_CERT
    [ -s "$WORK/chosen-$run.cms.b64" ] || fail "no CMS from the chooser run $run"
    base64 -d "$WORK/chosen-$run.cms.b64" >"$WORK/chosen-$run.cms"
    ossl cms -verify -engine gost -inform DER -in "$WORK/chosen-$run.cms" -CAfile "$WORK/cas.pem" \
        -purpose any -signer "$WORK/signer-$run.pem" -out "$WORK/signed-$run.txt" 2>"$WORK/verify-$run.log" ||
        { cat "$WORK/verify-$run.log"; fail "openssl cms -verify of the chooser run $run"; }
    [ "$(fingerprint "$WORK/signer-$run.pem")" = "$want" ] ||
        fail "run $run: signed by $(fingerprint "$WORK/signer-$run.pem"), chosen $want"
    grep -q "^origin: $LK_URL\$" "$WORK/signed-$run.txt" || fail "run $run: the signed text names another origin"
    ok "chooser run $run: openssl verifies the page's CMS, signer = the chosen certificate $want"
done
grep -q "login ok" "$WORK/lk.example.ru.log" || fail "the cabinet did not log the login with the chosen certificate"
ok "the cabinet verified the login made with the chosen certificate"
echo "$PASSED passed, 0 failed"
