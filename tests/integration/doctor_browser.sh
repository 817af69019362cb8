#!/usr/bin/env bash
# gostsign doctor, browser layer: no manifest (warning with the install fix), a valid Chromium
# manifest (ok), a broken one (fail naming `gostsign browser install`), one whose host program is
# missing (fail), a Flatpak copy of Firefox (confinement warning), manifests registered with
# `browser install --profile DIR`, and the count "3 of 4 manifests fine".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
export PCSCLITE_CSOCK_NAME="$WORK/no-pcscd.comm"
MANIFEST="$XDG_CONFIG_HOME/chromium/NativeMessagingHosts/ru.gostsign.nmhost.json"

doctor "$WORK/none.json" --no-p11-kit
verdict "$WORK/none.json" browsers.none warn NMHOST_NOT_REGISTERED "gostsign browser install"
ok "no manifest anywhere: warning with the install fix"

printf '#!/bin/sh\nexit 0\n' >"$WORK/host" && chmod +x "$WORK/host"
"$GOSTSIGN" browser install --browser chromium --host "$WORK/host" >/dev/null || fail "browser install"
doctor "$WORK/good.json" --no-p11-kit
verdict "$WORK/good.json" browsers.manifest ok OK "" browser=chromium "manifest=$MANIFEST"
no_verdict "$WORK/good.json" browsers.none warn
ok "valid Chromium manifest: ok"

echo '{"name": "ru.gostsign.nmhost",' >"$MANIFEST"
doctor "$WORK/broken.json" --no-p11-kit
verdict "$WORK/broken.json" browsers.manifest fail NMHOST_NOT_REGISTERED "gostsign browser install --browser chromium" browser=chromium
ok "truncated manifest: fail with the reinstall fix"

"$GOSTSIGN" browser install --browser chromium --host "$WORK/host" >/dev/null || fail "reinstall"
rm "$WORK/host"
doctor "$WORK/nohost.json" --no-p11-kit
verdict "$WORK/nohost.json" browsers.manifest fail NMHOST_NOT_REGISTERED "gostsign browser install"
grep -q "host program .*missing" "$WORK/nohost.json" || fail "the missing host is not named"
ok "manifest naming a missing host program: fail"

mkdir -p "$HOME/.var/app/org.mozilla.firefox"
doctor "$WORK/flatpak.json" --no-p11-kit
verdict "$WORK/flatpak.json" browsers.sandbox warn NMHOST_NOT_REGISTERED "Debian packages" browser=firefox
ok "Flatpak Firefox: confinement warning"
# another vendor's extension for the same page APIs in a profile: a conflict warning naming it
mkdir -p "$XDG_CONFIG_HOME/chromium/Default/Extensions/jabjbhgjaidecageckilhonbggakppme/1.0"
mkdir -p "$XDG_CONFIG_HOME/google-chrome/Profile 1/Extensions/iifchhfnnmpdbibifmljnfjhpififfog"
doctor "$WORK/conflict.json" --no-p11-kit
verdict "$WORK/conflict.json" browsers.conflict warn OK "Disable one of them" \
    extension_id=jabjbhgjaidecageckilhonbggakppme
verdict "$WORK/conflict.json" browsers.conflict warn OK "Disable one of them" \
    extension_id=iifchhfnnmpdbibifmljnfjhpififfog
rm -rf "$XDG_CONFIG_HOME/chromium/Default/Extensions" "$XDG_CONFIG_HOME/google-chrome"
doctor "$WORK/noconflict.json" --no-p11-kit
no_verdict "$WORK/noconflict.json" browsers.conflict warn
ok "the Gosuslugi plugin's or CryptoPro's extension in a profile: a conflict warning with the fix"

# manifests registered with --profile are checked too, and the verdict counts them (item 13)
printf '#!/bin/sh\nexit 0\n' >"$WORK/host2" && chmod +x "$WORK/host2"
"$GOSTSIGN" browser install --browser chromium --host "$WORK/host2" >/dev/null || fail "reinstall chromium"
"$GOSTSIGN" browser install --browser firefox --host "$WORK/host2" >/dev/null || fail "install firefox"
"$GOSTSIGN" browser install --profile "$WORK/prof one" --host "$WORK/host2" >/dev/null || fail "install --profile"
"$GOSTSIGN" browser install --profile "$WORK/prof2" --host "$WORK/host2" >/dev/null || fail "install --profile 2"
echo '{"name": "ru.gostsign.nmhost"' >"$WORK/prof2/NativeMessagingHosts/ru.gostsign.nmhost.json"
doctor "$WORK/profiles.json" --no-p11-kit
verdict "$WORK/profiles.json" browsers.manifest ok OK "" "profile=$WORK/prof one"
verdict "$WORK/profiles.json" browsers.manifest fail NMHOST_NOT_REGISTERED "--profile $WORK/prof2" "profile=$WORK/prof2"
verdict "$WORK/profiles.json" browsers.manifests warn NMHOST_NOT_REGISTERED "" total=4 fine=3
python3 - "$WORK/profiles.json" "$WORK/prof2" <<'PY' || fail "the summary does not count and name the broken manifest"
import json, sys
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "browsers.manifests"][0]
assert c["message"].startswith("3 of 4 manifests fine; broken: " + sys.argv[2] + " (not a JSON object)"), c
assert "3 из 4" in c["message_ru"] and "это не объект JSON" in c["message_ru"], c
b = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "browsers.manifest" and c["evidence"].get("profile") == sys.argv[2]][0]
assert "not a JSON object" in b["message"] and "это не объект JSON" in b["message_ru"] and "not a JSON" not in b["message_ru"], b
assert not [c for l in doc["layers"] for c in l["checks"] if c["id"] == "browsers.none"], "browsers.none with manifests"
PY
no_verdict "$WORK/profiles.json" browsers.none warn
LANG=C.UTF-8 "$GOSTSIGN" browser status >"$WORK/status.en" 2>&1 && fail "status with a broken manifest exited 0"
grep -q "^3 of 4 manifests fine$" "$WORK/status.en" || fail "browser status does not count: $(cat "$WORK/status.en")"
grep -q "broken: .*prof2 (.*not a JSON object)" "$WORK/status.en" || fail "browser status does not name the broken one: $(cat "$WORK/status.en")"
LANG=ru_RU.UTF-8 "$GOSTSIGN" browser status >"$WORK/status.ru" 2>&1 || true
grep -q "^Исправно манифестов: 3 из 4$" "$WORK/status.ru" || fail "no Russian count: $(cat "$WORK/status.ru")"
ok "manifests of --profile installs are checked; \"3 of 4 manifests fine\" names the broken one with its reason"
"$GOSTSIGN" browser uninstall --profile "$WORK/prof2" >/dev/null || fail "uninstall --profile"
doctor "$WORK/profiles2.json" --no-p11-kit
verdict "$WORK/profiles2.json" browsers.manifests ok OK "" total=3 fine=3
ok "uninstall --profile forgets the profile: 3 of 3 manifests fine"
echo "$PASSED passed, 0 failed"
