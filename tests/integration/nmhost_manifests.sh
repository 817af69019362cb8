#!/usr/bin/env bash
# `gostsign browser install|uninstall|status`: manifests for Chromium, Chrome, Yandex Browser, Edge
# and Firefox in a temporary HOME (per-user places), their content, status checks (missing program,
# wrong extension), Snap/Flatpak warnings, --profile for a custom Chromium user-data-dir, and
# uninstall; --system into a staging root (GOSTSIGN_BROWSER_SYSTEM_ROOT), and status falling back,
# as the browsers do, from a missing per-user manifest to the system-wide one a package installs.
. "$(dirname "$0")/lib.sh"
export HOME=$WORK/home
unset XDG_CONFIG_HOME
mkdir -p "$HOME"
NMHOST=$GOSTSIGN_NMHOST
ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
NUM=$(error_number NMHOST_NOT_REGISTERED)

expect_status "$NUM" "$GOSTSIGN" browser status
grep -q "not registered" "$WORK/out" || fail "status before install"
ok "status before install: not registered (exit $NUM)"

expect_status 0 "$GOSTSIGN" browser install --host "$NMHOST"
for f in .config/chromium/NativeMessagingHosts .config/google-chrome/NativeMessagingHosts \
    .config/yandex-browser/NativeMessagingHosts .config/microsoft-edge/NativeMessagingHosts \
    .mozilla/native-messaging-hosts; do
    [ -f "$HOME/$f/ru.gostsign.nmhost.json" ] || fail "missing $f"
done
ok "install writes the five per-user manifests"
python3 - "$HOME" "$NMHOST" "$ID" <<'PY' || fail "manifest content"
import json, sys
home, host, ext = sys.argv[1:]
c = json.load(open(home + "/.config/chromium/NativeMessagingHosts/ru.gostsign.nmhost.json"))
assert c["name"] == "ru.gostsign.nmhost" and c["type"] == "stdio" and c["path"] == host, c
assert c["allowed_origins"] == ["chrome-extension://%s/" % ext] and "allowed_extensions" not in c, c
f = json.load(open(home + "/.mozilla/native-messaging-hosts/ru.gostsign.nmhost.json"))
assert f["allowed_extensions"] == ["gostsign@gostsign.ru"] and "allowed_origins" not in f, f
PY
ok "Chromium family: allowed_origins chrome-extension://$ID/; Firefox: allowed_extensions"
expect_status 0 "$GOSTSIGN" browser status
[ "$(grep -c ' ok: ' "$WORK/out")" = 5 ] || fail "status after install: $(cat "$WORK/out")"
ok "status after install: five ok"

# A manifest naming a missing program, or another extension, is reported broken.
sed -i "s|$NMHOST|/nonexistent/gostsign-nmhost|" "$HOME/.config/google-chrome/NativeMessagingHosts/ru.gostsign.nmhost.json"
expect_status "$NUM" "$GOSTSIGN" browser status
grep -q "Google Chrome.*missing or not executable" "$WORK/out" || fail "missing program not reported: $(cat "$WORK/out")"
ok "status reports a manifest naming a missing program"
expect_status 0 "$GOSTSIGN" browser install --browser chrome --host "$NMHOST" --extension-id aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
expect_status "$NUM" "$GOSTSIGN" browser status
grep -q "Google Chrome.*not among the allowed" "$WORK/out" || fail "foreign extension not reported"
ok "status reports a manifest that lets another extension in"
expect_status 0 "$GOSTSIGN" browser status --extension-id aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --browser chrome
ok "status --extension-id checks for that extension"

# Snap and Flatpak browsers cannot start native hosts: say so.
mkdir -p "$HOME/snap/chromium" "$HOME/.var/app/org.mozilla.firefox"
"$GOSTSIGN" browser status >"$WORK/out" 2>&1 || true
grep -q "Chromium is installed as a Snap" "$WORK/out" || fail "snap not detected: $(cat "$WORK/out")"
grep -q "Firefox runs as a Flatpak" "$WORK/out" || fail "flatpak not detected"
ok "Snap Chromium and Flatpak Firefox are detected and explained"

# A Chromium started with --user-data-dir reads DIR/NativeMessagingHosts.
expect_status 0 "$GOSTSIGN" browser install --browser chromium --host "$NMHOST" --profile "$WORK/profile"
[ -f "$WORK/profile/NativeMessagingHosts/ru.gostsign.nmhost.json" ] || fail "--profile"
"$GOSTSIGN" browser status >"$WORK/out" 2>&1 || true # Chrome's manifest is still the wrong one
grep -q "^Profile $WORK/profile ok: $WORK/profile/NativeMessagingHosts/ru.gostsign.nmhost.json" "$WORK/out" ||
    fail "status does not check the --profile manifest: $(cat "$WORK/out")"
expect_status 0 "$GOSTSIGN" browser uninstall --profile "$WORK/profile"
[ ! -f "$WORK/profile/NativeMessagingHosts/ru.gostsign.nmhost.json" ] || fail "uninstall --profile"
[ -f "$HOME/.mozilla/native-messaging-hosts/ru.gostsign.nmhost.json" ] || fail "uninstall --profile removed Firefox's manifest"
"$GOSTSIGN" browser status >"$WORK/out" 2>&1 || true
if grep -q "^Profile " "$WORK/out"; then fail "uninstall --profile did not forget the profile"; fi
ok "--profile DIR writes DIR/NativeMessagingHosts; status checks it until uninstall --profile"

expect_status 2 "$GOSTSIGN" browser install --extension-id NOTANID
expect_status 2 "$GOSTSIGN" browser install --browser netscape
expect_status 2 "$GOSTSIGN" browser frobnicate
ok "bad options are usage errors"

expect_status 0 "$GOSTSIGN" browser uninstall
[ -z "$(find "$HOME" -name ru.gostsign.nmhost.json)" ] || fail "uninstall left files"
expect_status 0 "$GOSTSIGN" browser uninstall
ok "uninstall removes every per-user manifest (twice is fine)"

# System-wide manifests, written under a staging root instead of /etc and /usr/lib.
export GOSTSIGN_BROWSER_SYSTEM_ROOT=$WORK/sysroot
expect_status "$NUM" "$GOSTSIGN" browser status
expect_status 0 "$GOSTSIGN" browser install --system --host "$NMHOST"
for f in etc/chromium/native-messaging-hosts etc/opt/chrome/native-messaging-hosts \
    etc/opt/yandex/browser/native-messaging-hosts etc/opt/edge/native-messaging-hosts \
    usr/lib/mozilla/native-messaging-hosts; do
    [ -f "$WORK/sysroot/$f/ru.gostsign.nmhost.json" ] || fail "--system: missing $f"
done
[ -z "$(find "$HOME" -name ru.gostsign.nmhost.json)" ] || fail "--system wrote per-user files"
ok "install --system writes the five system-wide manifests and no per-user one"
expect_status 0 "$GOSTSIGN" browser status
[ "$(grep -c " ok: $WORK/sysroot/" "$WORK/out")" = 5 ] || fail "no fallback: $(cat "$WORK/out")"
ok "status without --system falls back to the system-wide manifests"
expect_status 0 "$GOSTSIGN" browser install --browser chromium --host /nonexistent/gostsign-nmhost
expect_status "$NUM" "$GOSTSIGN" browser status --browser chromium
grep -q "Chromium.*broken: $HOME/.config/chromium/.*missing or not executable" "$WORK/out" ||
    fail "a per-user manifest does not take precedence: $(cat "$WORK/out")"
ok "a per-user manifest takes precedence over the system-wide one, as in the browser"
expect_status 0 "$GOSTSIGN" browser uninstall --system
[ -z "$(find "$WORK/sysroot" -name ru.gostsign.nmhost.json)" ] || fail "uninstall --system left files"
ok "uninstall --system removes them"
unset GOSTSIGN_BROWSER_SYSTEM_ROOT
# The extension: the manifest's key gives exactly the ID the host and the manifests allow.
python3 - "$SOURCE_ROOT/native-messaging/extension/manifest.json" "$ID" <<'PY' || fail "extension key/ID"
import base64, hashlib, json, sys
m = json.load(open(sys.argv[1]))
digest = hashlib.sha256(base64.b64decode(m["key"])).hexdigest()[:32]
derived = "".join(chr(ord("a") + int(c, 16)) for c in digest)
assert derived == sys.argv[2], (derived, sys.argv[2])
assert m["manifest_version"] == 3 and "nativeMessaging" in m["permissions"], m
assert m["background"] == {"service_worker": "background.js"}, m["background"]
PY
ok "manifest.json key derives the extension ID $ID that nmhost.h allows"
grep -q "chrome-extension://$ID/" "$NMHOST_MANIFEST_DIR/ru.gostsign.nmhost.chromium.json" &&
    grep -q '"gostsign@gostsign.ru"' "$NMHOST_MANIFEST_DIR/ru.gostsign.nmhost.firefox.json" ||
    fail "packaged manifests name other extension IDs"
ok "the packaged manifest templates name the same extension IDs"
bash "$SOURCE_ROOT/native-messaging/extension/build-firefox.sh" "$WORK/ff" "$WORK/gostsign.xpi" >/dev/null ||
    fail "build-firefox.sh"
python3 - "$WORK/gostsign.xpi" "$SOURCE_ROOT/native-messaging/extension/manifest.json" <<'PY' || fail "firefox package"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert sorted(z.namelist()) == sorted(["manifest.json", "background.js", "content.js", "page-api.js",
                                       "popup.html", "popup.js", "chooser.html", "chooser.js",
                                       "ui.js", "_locales/ru/messages.json",
                                       "_locales/en/messages.json", "adapters/common.js",
                                       "adapters/cryptopro.js", "adapters/gosplugin.js",
                                       "adapters/ifcplugin.js", "adapters/end.js"]), z.namelist()
m = json.loads(z.read("manifest.json"))
assert m["browser_specific_settings"]["gecko"]["id"] == "gostsign@gostsign.ru", m
assert m["background"] == {"scripts": ["background.js"]} and "key" not in m, m
# the extension's own errors reach web pages: no shell commands (backticks), no local paths
bg = z.read("background.js").decode()
table = bg[bg.index("const ERRORS = {"):bg.index("};", bg.index("const ERRORS = {"))]
assert "`" not in table and "systemctl" not in table and "/usr/" not in table and "~/" not in table, table
# the texts of both languages, the same keys in each; every key a page or the manifest names exists
ru, en = (json.loads(z.read("_locales/%s/messages.json" % l)) for l in ("ru", "en"))
assert m["default_locale"] == "ru" and sorted(ru) == sorted(en), sorted(set(ru) ^ set(en))
import re
used = set(re.findall(r"__MSG_(\w+)__", z.read("manifest.json").decode()))
for name in ("popup.html", "popup.js", "chooser.html", "chooser.js", "ui.js"):
    text = z.read(name).decode()
    used |= set(re.findall(r"data-i18n=\"(\w+)\"", text)) | set(re.findall(r"ui\.t\('(\w+)'", text))
assert used <= set(ru), sorted(used - set(ru))
# the Chromium form in step with the Firefox form: the same texts, permissions and pages
c = json.load(open(sys.argv[2]))
for k in ("name", "short_name", "version", "default_locale", "description", "permissions",
          "host_permissions", "optional_host_permissions", "content_scripts", "action"):
    assert c.get(k) == m.get(k), (k, c.get(k), m.get(k))
PY
ok "build-firefox.sh packs an .xpi with the Gecko ID and background scripts, the ru/en texts, in step with manifest.json"
# The fleet examples of docs/deploy (shipped in the package) name the same IDs and host.
python3 - "$SOURCE_ROOT/docs/deploy" "$ID" <<'PY' || fail "docs/deploy examples"
import json, sys, xml.etree.ElementTree as ET
d, ext = sys.argv[1], sys.argv[2]
p = json.load(open(d + "/chromium-policy.json"))
assert [e.split(";")[0] for e in p["ExtensionInstallForcelist"]] == [ext], p
assert p["NativeMessagingAllowlist"] == ["ru.gostsign.nmhost"], p
app = ET.parse(d + "/updates.xml").getroot()[0]
assert app.get("appid") == ext, app.attrib
x = json.load(open(d + "/%s.json" % ext))
assert x["external_crx"].endswith(".crx") and x["external_version"], x
f = json.load(open(d + "/firefox-policies.json"))
assert list(f["policies"]["ExtensionSettings"]) == ["gostsign@gostsign.ru"], f
PY
ok "docs/deploy: Chromium policy, update manifest, external-extensions file and Firefox policy name $ID / gostsign@gostsign.ru"
echo "$PASSED passed, 0 failed"
