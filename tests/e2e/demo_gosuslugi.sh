#!/usr/bin/env bash
# The demo's second login, as scripts/demo.sh runs it: native-messaging/cabinet/run-demo-gosuslugi.sh
# logs in through the Gosuslugi (IFCPlugin) adapter in a real headless Chromium on the ESIA-style
# page; the site's server verifies the CMS with openssl and the GOST engine. Checks the steps the
# demo prints, the «вошли как ...» line and the screenshot. Skips (77) only when chromium or node
# is missing. Usage: demo_gosuslugi.sh  (env: GOSTSIGN, SOURCE_ROOT, BUILD_ROOT as set by meson)
. "$(dirname "$0")/../integration/lib.sh"
command -v "${CHROMIUM:-chromium}" >/dev/null || { echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
export GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
unset GOSTSIGN_DEMO_PINENTRY
bash "$SOURCE_ROOT/native-messaging/cabinet/run-demo-gosuslugi.sh" "$BUILD_ROOT" "$WORK/out" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "run-demo-gosuslugi.sh"; }
cat "$WORK/log"
grep -q 'плагин найден / plugin found: маркеры ifcplugin-extension-is-installed, ifc-plugin-is-installed' "$WORK/log" ||
    fail "the page did not see the IFCPlugin markers"
ok "the ESIA-style page found the plugin's markers"
grep -q 'сертификат в списке страницы / certificate listed: Иванов Иван Иванович' "$WORK/log" ||
    fail "the page listed no certificate"
ok "the page listed the demo certificate through the adapter"
grep -q 'сервер проверил подпись / server verified: openssl cms -verify -engine gost (CMS login, attached)' "$WORK/log" ||
    fail "the server did not verify the login"
ok "the server verified the login CMS with openssl and the GOST engine"
grep -q '^   вошли как ООО "Ромашка", ИНН 7707083893, ОГРН 1027700132195 (Иванов Иван Иванович, Главный бухгалтер)$' "$WORK/log" ||
    fail "no «вошли как» line"
ok "demo adapter login: $(grep -o 'вошли как.*' "$WORK/log")"
grep -q 'через интерфейс плагина Госуслуг' "$WORK/log" || fail "the PIN dialog did not name the Gosuslugi plugin"
ok "the agent's PIN dialog named the site and «через интерфейс плагина Госуслуг»"
shot=$WORK/out/gosuslugi-login.png
grep -q "снимок экрана / screenshot: $shot" "$WORK/log" && [ "$(head -c 4 "$shot" | tail -c 3)" = PNG ] ||
    fail "no screenshot at $shot"
mkdir -p "$BUILD_ROOT/e2e" && cp "$shot" "$BUILD_ROOT/e2e/e2e-demo-gosuslugi.png"
ok "screenshot: $BUILD_ROOT/e2e/e2e-demo-gosuslugi.png"
echo "$PASSED passed, 0 failed"
