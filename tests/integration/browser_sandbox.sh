#!/usr/bin/env bash
# Browsers beyond the five manifest folders (issue 16, item 5), in a fake HOME and a fake system
# root (GOSTSIGN_BROWSER_SYSTEM_ROOT: programs, /snap/bin, the system Flatpak installation and
# the desktop portal are looked up under it, never on this machine):
# - Chromium-Gost: hidden while not installed; installed (/opt/chromium-gost/chrome), it reads
#   Chromium's manifests and then Google Chrome's system folder; `--browser chromium-gost`
#   writes Chromium's file; install-all writes that file once;
# - Microsoft Edge: its per-user and system folders;
# - Snap and Flatpak copies (~/snap/NAME, /snap/bin/NAME, ~/.var/app/ID,
#   ~/.local/share/flatpak/app/ID, /var/lib/flatpak/app/ID): a Chromium-family one is "not
#   supported" with the unconfined way; a Firefox one works through the WebExtensions portal
#   when the xdg-desktop-portal program serves it and is a warning when it does not;
# - the doctor turns each into a verdict (ok for the portal, warn with the way otherwise) and
#   skips a Chromium-Gost that is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
export HOME=$WORK/home
unset XDG_CONFIG_HOME
export GOSTSIGN_BROWSER_SYSTEM_ROOT=$WORK/root
export PCSCLITE_CSOCK_NAME=$WORK/no-pcscd.comm
mkdir -p "$HOME" "$WORK/root"
printf '#!/bin/sh\nexit 0\n' >"$WORK/host" && chmod +x "$WORK/host"
HOSTS=ru.gostsign.nmhost.json
status() { "$GOSTSIGN" browser status "$@" >"$WORK/out" 2>&1 || true; }
has() { grep -qF -- "$1" "$WORK/out" || fail "no \"$1\" in: $(cat "$WORK/out")"; }
hasnt() { ! grep -qF -- "$1" "$WORK/out" || fail "\"$1\" in: $(cat "$WORK/out")"; }

# --- Chromium-Gost ---------------------------------------------------------------------------
status
has "Chromium-Gost   not installed (/opt/chromium-gost/chrome)"
doctor "$WORK/d0.json" --no-p11-kit
python3 - "$WORK/d0.json" <<'PY' || fail "the doctor checked a Chromium-Gost that is not installed"
import json, sys
d = json.load(open(sys.argv[1]))
assert not [c for l in d["layers"] for c in l["checks"]
            if c["evidence"].get("browser") == "chromium-gost"]
PY
ok "Chromium-Gost not installed: status says so, the doctor does not check it"

mkdir -p "$WORK/root/opt/chromium-gost" && touch "$WORK/root/opt/chromium-gost/chrome"
expect_status 0 "$GOSTSIGN" browser install --host "$WORK/host"
grep -c "$HOSTS" "$WORK/out" | grep -qx 5 || fail "install-all wrote other than 5 files: $(cat "$WORK/out")"
grep -q "^Chromium-Gost" "$WORK/out" && fail "install-all wrote Chromium's file twice"
status
has "Chromium-Gost   ok: $HOME/.config/chromium/NativeMessagingHosts/$HOSTS"
has "Chromium-Gost reads the Chromium manifests (the user's, then /etc/chromium/native-messaging-hosts), then /etc/opt/chrome/native-messaging-hosts."
ok "Chromium-Gost installed: served by Chromium's per-user manifest"

expect_status 0 "$GOSTSIGN" browser uninstall
rm -rf "$HOME/.config"
expect_status 0 "$GOSTSIGN" browser install --browser chrome --system --host "$WORK/host"
status --browser chromium-gost
has "Chromium-Gost   ok: $WORK/root/etc/opt/chrome/native-messaging-hosts/$HOSTS"
expect_status 0 "$GOSTSIGN" browser install --browser chromium-gost --system --host "$WORK/host"
[ -f "$WORK/root/etc/chromium/native-messaging-hosts/$HOSTS" ] || fail "--browser chromium-gost --system"
status --browser chromium-gost
has "Chromium-Gost   ok: $WORK/root/etc/chromium/native-messaging-hosts/$HOSTS"
expect_status 0 "$GOSTSIGN" browser install --browser chromium-gost --host "$WORK/host"
[ -f "$HOME/.config/chromium/NativeMessagingHosts/$HOSTS" ] || fail "--browser chromium-gost"
ok "Chromium-Gost takes Chrome's system manifest when Chromium has none, Chromium's first; --browser chromium-gost writes Chromium's"
doctor "$WORK/d1.json" --no-p11-kit
verdict "$WORK/d1.json" browsers.manifest ok OK "" browser=chromium-gost \
    "manifest=$HOME/.config/chromium/NativeMessagingHosts/$HOSTS"
ok "the doctor checks an installed Chromium-Gost"
rm -rf "$WORK/root/etc" "$HOME/.config"

# --- Microsoft Edge --------------------------------------------------------------------------
expect_status 0 "$GOSTSIGN" browser install --browser edge --host "$WORK/host"
[ -f "$HOME/.config/microsoft-edge/NativeMessagingHosts/$HOSTS" ] || fail "edge per user"
expect_status 0 "$GOSTSIGN" browser install --browser edge --system --host "$WORK/host"
[ -f "$WORK/root/etc/opt/edge/native-messaging-hosts/$HOSTS" ] || fail "edge system"
status --browser edge
has "Microsoft Edge  ok: $HOME/.config/microsoft-edge/NativeMessagingHosts/$HOSTS"
ok "Edge: ~/.config/microsoft-edge/NativeMessagingHosts and /etc/opt/edge/native-messaging-hosts"
rm -rf "$WORK/root/etc" "$HOME/.config"

# --- Snap and Flatpak ----------------------------------------------------------------------
expect_status 0 "$GOSTSIGN" browser install --host "$WORK/host"
mkdir -p "$WORK/root/snap/bin" && touch "$WORK/root/snap/bin/chromium" "$WORK/root/snap/bin/firefox"
mkdir -p "$HOME/.local/share/flatpak/app/com.microsoft.Edge" \
    "$WORK/root/var/lib/flatpak/app/org.mozilla.firefox"
status
has "Chromium is installed as a Snap ($WORK/root/snap/bin/chromium): its sandbox cannot start gostsign-nmhost"
has "not supported; instead: apt-get install chromium."
has "Microsoft Edge runs as a Flatpak ($HOME/.local/share/flatpak/app/com.microsoft.Edge)"
has "instead: Microsoft's .deb (microsoft-edge-stable)."
has "warning: Firefox is installed as a Snap ($WORK/root/snap/bin/firefox): confined, it can start native-messaging hosts only through the WebExtensions portal"
has "warning: Firefox runs as a Flatpak ($WORK/root/var/lib/flatpak/app/org.mozilla.firefox)"
has "instead: apt-get install firefox-esr."
ok "Snap Chromium, Flatpak Edge: not supported, with the way out; Snap/Flatpak Firefox without the portal: warning"

doctor "$WORK/d2.json" --no-p11-kit
verdict "$WORK/d2.json" browsers.sandbox warn NMHOST_NOT_REGISTERED "apt-get install chromium" browser=chromium
verdict "$WORK/d2.json" browsers.sandbox warn NMHOST_NOT_REGISTERED "microsoft-edge-stable" browser=edge
verdict "$WORK/d2.json" browsers.sandbox warn NMHOST_NOT_REGISTERED "apt-get install firefox-esr" browser=firefox
ok "the doctor warns about each confined copy with its way out"

# A portal program of Debian 12's kind (other interfaces only), then one that serves WebExtensions.
mkdir -p "$WORK/root/usr/libexec"
printf 'ELF\0org.freedesktop.portal.FileChooser\0' >"$WORK/root/usr/libexec/xdg-desktop-portal"
status --browser firefox
has "this system's portal has none"
{ head -c 70000 /dev/zero; printf 'org.freedesktop.portal.WebExtensions\0'; } \
    >"$WORK/root/usr/libexec/xdg-desktop-portal"
status --browser firefox
has "note: Firefox is installed as a Snap ($WORK/root/snap/bin/firefox): it starts gostsign-nmhost through the WebExtensions portal of xdg-desktop-portal ($WORK/root/usr/libexec/xdg-desktop-portal)"
has "note: Firefox runs as a Flatpak"
hasnt "warning"
ok "Firefox Snap/Flatpak with a portal that serves WebExtensions: it works, says so"
doctor "$WORK/d3.json" --no-p11-kit
verdict "$WORK/d3.json" browsers.sandbox ok OK "" browser=firefox
python3 - "$WORK/d3.json" <<'PY' || fail "doctor: Firefox sandbox verdicts"
import json, sys
d = json.load(open(sys.argv[1]))
fx = [c for l in d["layers"] for c in l["checks"]
      if c["id"] == "browsers.sandbox" and c["evidence"].get("browser") == "firefox"]
assert [c["status"] for c in fx] == ["ok", "ok"], fx
assert "Snap" in fx[0]["message"] and "Flatpak" in fx[1]["message"], fx
PY
ok "the doctor: Firefox Snap and Flatpak through the portal are ok"
echo "$PASSED passed, 0 failed"
