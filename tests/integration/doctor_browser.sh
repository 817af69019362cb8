#!/usr/bin/env bash
# gostsign doctor, browser layer: no manifest (warning with the install fix), a valid Chromium
# manifest (ok), a broken one (fail naming `gostsign browser install`), one whose host program is
# missing (fail), and a Flatpak copy of Firefox (confinement warning).
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
echo "$PASSED passed, 0 failed"
