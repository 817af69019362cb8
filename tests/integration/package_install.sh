#!/usr/bin/env bash
# The Debian package on this very machine: scripts/package.sh builds gostsign and
# gostsign-softtoken (lintian clean), `apt-get install ./gostsign_*.deb` installs them, and then,
# from the installed files only (no program of the build tree):
#   - every file is where browsers, p11-kit, udev and systemd look, the socket is enabled for all
#     users (systemctl --global), and `gostsign doctor --json` sees the module through p11-kit,
#     the five browsers' system-wide manifests and the running agent;
#   - the cabinet login: the installed gostsign-softtoken-setup makes the demo token, the agent
#     runs as the installed user units say (ExecStart on the ListenStream socket, passed the way
#     systemd passes it, with systemd-socket-activate), /usr/bin/gostsign-nmhost relays the login,
#     and the cabinet checks the signature with /usr/bin/gostsign;
#   - an upgrade to a newer version keeps the enablement and the files;
#   - a purge leaves nothing: no path of the packages, no enablement link, nothing named
#     gostsign under /etc, /usr, /lib or /var/lib that was not there before; apt touches no
#     other package on install or purge.
# Test harness only from the source tree: the cabinet (the web site), demo_login.py (what the
# extension does) and the scripted pinentry (the user typing the PIN).
# It installs into the real system, so it runs alone (is_parallel: false), never in the ASan
# pass, refuses to touch a gostsign the machine already has, and removes it all even on failure.
. "$(dirname "$0")/lib.sh"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || fail "needs root or password-less sudo to install the package"
    SUDO="sudo -n"
fi
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300)
PKGS=(gostsign gostsign-softtoken)

# installed NAME: the package is installed (or half-installed) on this machine.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -qv '^unknown\|not-installed'; }
for p in "${PKGS[@]}"; do
    ! installed "$p" || fail "$p is already installed here; this test will not replace it"
done

# Everything named gostsign in the system's own places (the build tree, homes and /tmp aside).
system_gostsign_paths() {
    find /etc /usr /lib /var/lib -xdev -name '*gostsign*' 2>/dev/null | { grep -v '^/var/lib/apt/lists' || true; } | sort
}
system_gostsign_paths >"$WORK/named.before"

AGENT_PID="" CABINET_PID="" CHROMIUM_PID=""
# Stops what the test started and purges the packages, whatever state the test ended in.
cleanup() {
    [ -z "$CHROMIUM_PID" ] || kill "$CHROMIUM_PID" 2>/dev/null || true
    [ -z "$CABINET_PID" ] || kill "$CABINET_PID" 2>/dev/null || true
    [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    for p in "${PKGS[@]}"; do
        if installed "$p"; then
            "${APT[@]}" purge "$p" >>"$WORK/apt.log" 2>&1 || $SUDO dpkg --purge --force-all "$p" || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
GOSTSIGN_SKIP_DEPS=1 bash "$SOURCE_ROOT/scripts/package.sh" "$WORK/deb" >"$WORK/package.log" 2>&1 ||
    { cat "$WORK/package.log"; fail "scripts/package.sh"; }
VERSION=$(dpkg-parsechangelog -l "$SOURCE_ROOT/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
DEB=$WORK/deb/gostsign_${VERSION}_${ARCH}.deb
SOFT_DEB=$WORK/deb/gostsign-softtoken_${VERSION}_${ARCH}.deb
[ -f "$DEB" ] && [ -f "$SOFT_DEB" ] || fail "no $DEB / $SOFT_DEB: $(ls "$WORK/deb")"
! grep -q '^[EW]:' "$WORK/deb/lintian.log" || fail "lintian: $(grep '^[EW]:' "$WORK/deb/lintian.log")"
ok "scripts/package.sh builds gostsign_${VERSION}_${ARCH}.deb and the softtoken package, lintian clean"

# The package's own paths (for the purge check) and which of them the machine already had.
for d in "$DEB" "$SOFT_DEB"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
    sed 's|^\./|/|; s|/$||' | { grep -v '^$\|^\.$' || true; } | sort -u >"$WORK/package.paths"
while read -r p; do [ ! -e "$p" ] || echo "$p"; done <"$WORK/package.paths" >"$WORK/present.before"
for f in /usr/bin/gostsign /usr/bin/gostsign-agent /usr/bin/gostsign-nmhost; do
    grep -qxF "$f" "$WORK/package.paths" || fail "$f is not in the package"
done
grep -q '/usr/share/man/man1/gostsign.1' "$WORK/package.paths" || fail "no manual page"

# ---------------------------------------------------------------- install
# apt_touched LOG VERB: the packages apt says it did VERB to ("Setting up", "Removing"), sorted.
apt_touched() { sed -n "s/^$2 \([^ :]*\)[: ].*/\1/p" "$1" | sort -u | tr '\n' ' '; }
(cd "$WORK/deb" && "${APT[@]}" install --no-install-recommends "./${DEB##*/}" "./${SOFT_DEB##*/}") \
    >"$WORK/apt-install.log" 2>&1 || { cat "$WORK/apt-install.log"; fail "apt-get install ./gostsign_*.deb"; }
# Only the two packages: all their dependencies are on a machine that ran scripts/deps.sh.
[ "$(apt_touched "$WORK/apt-install.log" 'Setting up')" = "gostsign gostsign-softtoken " ] ||
    { cat "$WORK/apt-install.log"; fail "apt-get installed other packages too"; }
for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $VERSION" ] ||
        fail "$p is not installed"
done
ok "apt-get install ./gostsign_*.deb ./gostsign-softtoken_*.deb"

MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
MODULE=/usr/lib/$MULTIARCH/pkcs11/gostsign-softtoken.so
for f in /usr/bin/gostsign /usr/bin/gostsign-agent /usr/bin/gostsign-nmhost \
    /usr/libexec/gostsign/gostsign-doctor /usr/libexec/gostsign/gostsign-trust-update \
    /usr/libexec/gostsign/gostsign-token-admin /usr/libexec/gostsign/gostsign-agent-listener \
    /usr/bin/gostsign-softtoken-setup "$MODULE" /usr/share/p11-kit/modules/gostsign-softtoken.module \
    /lib/udev/rules.d/70-gostsign-tokens.rules /lib/udev/hwdb.d/70-gostsign-tokens.hwdb \
    /usr/lib/systemd/user/gostsign-agent.service /usr/lib/systemd/user/gostsign-agent.socket \
    /usr/share/gostsign/extension/manifest.json /usr/share/gostsign/extension-firefox/manifest.json \
    /usr/share/gostsign/gostsign-firefox.xpi /usr/share/doc/gostsign/examples/chromium-policy.json \
    /usr/share/doc/gostsign/protocol.md /usr/share/man/man1/gostsign-agent.1.gz; do
    [ -e "$f" ] || fail "missing after install: $f"
done
# the whole extension, adapters included: every file of the source form but the Firefox build's own
(cd "$SOURCE_ROOT/native-messaging/extension" && find . -type f ! -name build-firefox.sh \
    ! -name manifest.firefox.json | sort) >"$WORK/ext.want"
(cd /usr/share/gostsign/extension && find . -type f | sort) >"$WORK/ext.got"
diff -u "$WORK/ext.want" "$WORK/ext.got" || fail "the installed extension differs from the source"
for f in /lib/systemd/system/gostsign-trust-update.service /lib/systemd/system/gostsign-trust-update.timer; do
    [ -e "$f" ] || fail "missing after install: $f"
done
systemctl is-enabled gostsign-trust-update.timer 2>/dev/null | grep -qx enabled &&
    fail "the network timer was enabled without the administrator"
grep -qx "module: $MODULE" /usr/share/p11-kit/modules/gostsign-softtoken.module || fail "p11-kit module file"
grep -qx "ExecStart=/usr/bin/gostsign-agent" /usr/lib/systemd/user/gostsign-agent.service ||
    fail "the service does not start /usr/bin/gostsign-agent"
ok "programs, module and its p11-kit file, udev rules and hwdb, user units, extension, docs, man pages"

CHROMIUM_DIRS=(/etc/chromium/native-messaging-hosts /etc/opt/chrome/native-messaging-hosts
               /etc/opt/yandex/browser/native-messaging-hosts /etc/opt/edge/native-messaging-hosts)
FIREFOX_DIR=/usr/lib/mozilla/native-messaging-hosts
ID=$(python3 -c 'import re,sys; print(re.search(r"NM_CHROMIUM_EXTENSION_ID \"(\w+)\"", open(sys.argv[1]).read()).group(1))' \
    "$SOURCE_ROOT/native-messaging/native_messaging.h")
python3 - "$ID" "$FIREFOX_DIR" "${CHROMIUM_DIRS[@]}" <<'PY' || fail "browser manifests"
import json, sys
ext, firefox, chromium = sys.argv[1], sys.argv[2], sys.argv[3:]
for d in chromium:
    m = json.load(open(d + "/ru.gostsign.nmhost.json"))
    assert m["path"] == "/usr/bin/gostsign-nmhost" and m["type"] == "stdio", (d, m)
    assert m["allowed_origins"] == ["chrome-extension://%s/" % ext], (d, m)
m = json.load(open(firefox + "/ru.gostsign.nmhost.json"))
assert m["path"] == "/usr/bin/gostsign-nmhost" and m["allowed_extensions"] == ["gostsign@gostsign.ru"], m
PY
grep -qx "/etc/chromium/native-messaging-hosts/ru.gostsign.nmhost.json" /var/lib/dpkg/info/gostsign.conffiles ||
    fail "Chromium's manifest is not a conffile"
ok "host manifests for Chromium (a conffile), Chrome, Yandex Browser, Edge and Firefox name /usr/bin/gostsign-nmhost"

[ "$(readlink /etc/systemd/user/sockets.target.wants/gostsign-agent.socket)" = \
    /usr/lib/systemd/user/gostsign-agent.socket ] || fail "socket not enabled for all users"
[ "$(systemctl --global is-enabled gostsign-agent.socket)" = enabled ] || fail "systemctl --global is-enabled"
ok "gostsign-agent.socket is enabled for every user (systemctl --global)"

# ---------------------------------------------------------------- a user of the installed files
# A fresh user environment; nothing of the build tree in the environment.
unset GOSTSIGN GOSTSIGN_AGENT GOSTSIGN_AGENT_BIN GOSTSIGN_NMHOST SOFTTOKEN_MODULE SOFTTOKEN_SETUP \
    GOSTSIGN_BROWSER_SYSTEM_ROOT GOSTSIGN_SOFTTOKEN_DIR GOSTSIGN_AGENT_SOCKET LD_LIBRARY_PATH \
    COMBINED_ONLY_MODULE IMPORT_FAILING_MODULE NMHOST_MANIFEST_DIR XDG_DATA_HOME
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_RUNTIME_DIR=$WORK/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME/gostsign" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
USER_PATH=$PATH # for node and npm only (the browser check), wherever they are installed
PATH=/usr/sbin:/usr/bin:/sbin:/bin

/usr/bin/gostsign-softtoken-setup --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "installed gostsign-softtoken-setup"; }
ls "$HOME/.local/share/gostsign/tokens/"*.token >/dev/null 2>&1 || fail "no token in the default place"
ok "the installed gostsign-softtoken-setup makes the demo token in ~/.local/share/gostsign/tokens"

# The agent as the installed units start it: ExecStart of the service, on the socket of
# ListenStream (%t = XDG_RUNTIME_DIR) in a 0700 directory (DirectoryMode), with the small
# environment a user manager gives. No "modules" in the configuration: p11-kit must find it.
EXEC=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/user/gostsign-agent.service)
LISTEN=$(sed -n 's/^ListenStream=//p' /usr/lib/systemd/user/gostsign-agent.socket)
SOCK=${LISTEN//%t/$XDG_RUNTIME_DIR}
mkdir -m 0700 "$(dirname "$SOCK")"
echo "pin 12345678" >"$WORK/pinentry.script"
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"pinentry": "$SCRIPTED_PINENTRY", "allow_localhost": true}
JSON
systemd-socket-activate -l "$SOCK" -E HOME -E XDG_CONFIG_HOME -E XDG_RUNTIME_DIR -E XDG_STATE_HOME \
    -E PATH -E GS_TEST_PINENTRY_SCRIPT="$WORK/pinentry.script" \
    -E GS_TEST_PINENTRY_RECORD="$WORK/pinentry.record" $EXEC >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do /usr/bin/gostsign agent status >/dev/null 2>&1 && break; sleep 0.1; done
/usr/bin/gostsign agent status >"$WORK/status" 2>&1 || { cat "$WORK/status" "$WORK/agent.log"; fail "agent status"; }
[ "$(readlink "/proc/$AGENT_PID/exe")" = /usr/bin/gostsign-agent ] || fail "the agent is not /usr/bin/gostsign-agent"
ok "/usr/bin/gostsign-agent serves on $LISTEN, started as the installed units say"

expect_status_any() { # FILE CMD...: runs CMD with stdout to FILE; status 0, 90 or 91 (the doctor's)
    local out=$1 rc=0; shift
    "$@" >"$out" 2>"$WORK/err" || rc=$?
    case $rc in 0 | 90 | 91) ;; *) cat "$WORK/err" >&2; fail "'$*' exited $rc" ;; esac
}
expect_status_any "$WORK/doctor.json" /usr/bin/gostsign doctor --json
python3 - "$WORK/doctor.json" "$MODULE" "$FIREFOX_DIR" "${CHROMIUM_DIRS[@]}" <<'PY' || fail "doctor --json"
import json, sys
doc, module, dirs = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
checks = [c for l in doc["layers"] for c in l["checks"]]
def find(cid, **ev):
    return [c for c in checks if c["id"] == cid and all(c["evidence"].get(k) == v for k, v in ev.items())]
m = find("modules.load", path=module)
assert m and m[0]["status"] == "ok" and m[0]["evidence"]["registered_in"] == "p11-kit", m
a = find("agent.running")
assert a and a[0]["status"] == "ok", a
manifests = {c["evidence"]["browser"]: c for c in find("browsers.manifest")}
want = {"chromium": dirs[1], "chrome": dirs[2], "yandex": dirs[3], "edge": dirs[4], "firefox": dirs[0]}
for browser, d in want.items():
    c = manifests.get(browser)
    assert c and c["status"] == "ok" and c["evidence"]["manifest"] == d + "/ru.gostsign.nmhost.json", (browser, c)
assert not find("browsers.none"), find("browsers.none")
bad = [c for c in checks if c["status"] == "fail" and not c["id"].startswith(("usb", "pcsc", "driver"))]
assert not bad, bad
PY
ok "gostsign doctor --json: the module through p11-kit, the agent, all five browsers' system manifests"

python3 "$SOURCE_ROOT/native-messaging/cabinet/cabinet.py" --gostsign /usr/bin/gostsign \
    --ca-file "$WORK/demo/ca.pem" --port-file "$WORK/port" 2>"$WORK/cabinet.log" &
CABINET_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
[ -s "$WORK/port" ] || { cat "$WORK/cabinet.log"; fail "cabinet did not start"; }
python3 "$SOURCE_ROOT/native-messaging/cabinet/demo_login.py" /usr/bin/gostsign-nmhost \
    "http://localhost:$(cat "$WORK/port")" --out "$WORK/demo" >"$WORK/login.log" 2>&1 ||
    { cat "$WORK/login.log" "$WORK/agent.log"; fail "cabinet login"; }
grep -q 'вошли как' "$WORK/login.log" || { cat "$WORK/login.log"; fail "no login line"; }
grep -q 'replay: ОТКЛОНЁН / refused' "$WORK/login.log" || fail "replay not refused"
grep -q 'tampered: ОТКЛОНЕНА / refused' "$WORK/login.log" || fail "tampered signature not refused"
grep -q '^GETPIN' "$WORK/pinentry.record" 2>/dev/null || fail "the PIN was not asked through pinentry"
ok "cabinet login through /usr/bin/gostsign-nmhost and the installed agent: $(grep 'вошли как' "$WORK/login.log" | sed 's/^ *//')"

# ---------------------------------------------------------------- a browser started after install
# Debian's Chromium started through its wrapper /usr/bin/chromium, the way a user starts it, with
# a fresh profile and no --load-extension of the test's own: the wrapper's /etc/chromium.d snippets
# (Debian's "extensions", then the package's "gostsign") load /usr/share/chromium/extensions/*,
# the extension gets its stable ID, finds the host through /etc/chromium/native-messaging-hosts
# and reaches the installed agent. playwright-core (tests/e2e) only connects to that browser.
[ -x /usr/bin/chromium ] || fail "Debian's chromium is not installed (scripts/deps.sh installs it)"
PATH=$PATH:$USER_PATH bash "$SOURCE_ROOT/tests/e2e/npm-ci.sh" "$WORK/npm.log" || fail "npm ci in tests/e2e"
grep -qx /etc/chromium.d/gostsign /var/lib/dpkg/info/gostsign.conffiles || fail "/etc/chromium.d/gostsign is not a conffile"
[ "$(readlink -f /usr/share/chromium/extensions/gostsign)" = /usr/share/gostsign/extension ] ||
    fail "/usr/share/chromium/extensions/gostsign does not lead to /usr/share/gostsign/extension"
ROOT_ARGS=()
[ "$(id -u)" -ne 0 ] || ROOT_ARGS=(--no-sandbox) # Chromium refuses to run as root with its sandbox
/usr/bin/chromium --headless=new "${ROOT_ARGS[@]}" --disable-gpu --no-first-run --disable-sync \
    --user-data-dir="$WORK/chromium" --remote-debugging-port=0 about:blank >"$WORK/chromium.log" 2>&1 &
CHROMIUM_PID=$!
for _ in $(seq 300); do [ -s "$WORK/chromium/DevToolsActivePort" ] && break; sleep 0.1; done
[ -s "$WORK/chromium/DevToolsActivePort" ] || { cat "$WORK/chromium.log"; fail "chromium did not start"; }
CDP_URL="http://127.0.0.1:$(head -1 "$WORK/chromium/DevToolsActivePort")"
# what the wrapper gave the browser: Debian's --load-extension of the extensions folder
tr '\0' '\n' <"/proc/$CHROMIUM_PID/cmdline" >"$WORK/chromium.args"
LOADED=$(sed -n 's/^--load-extension=//p' "$WORK/chromium.args")
case ",$LOADED," in *,/usr/share/chromium/extensions/gostsign,*) ;;
    *) cat "$WORK/chromium.args"; fail "the wrapper did not pass /usr/share/chromium/extensions/gostsign" ;; esac
grep -q '^--disable-features=.*DisableLoadExtensionCommandLineSwitch' "$WORK/chromium.args" ||
    fail "the wrapper did not pass the gostsign snippet's --disable-features"
python3 - "$CDP_URL" "$ID" >"$WORK/targets" <<'PY' || { cat "$WORK/targets" "$WORK/chromium.log"; fail "extension not loaded"; }
import json, sys, time, urllib.request
url, ext = sys.argv[1], sys.argv[2]
want = "chrome-extension://%s/" % ext
for _ in range(150):
    targets = json.load(urllib.request.urlopen(url + "/json/list", timeout=5))
    workers = [t["url"] for t in targets if t["type"] == "service_worker" and t["url"].startswith(want)]
    if workers:
        print(workers[0])
        sys.exit(0)
    time.sleep(0.1)
print("no service worker of %s among: %s" % (want, [(t["type"], t["url"]) for t in targets]))
sys.exit(1)
PY
ok "/usr/bin/chromium (fresh profile, no --load-extension given) runs $(cat "$WORK/targets") from --load-extension=$LOADED"
echo "pin 12345678" >>"$WORK/pinentry.script" # in case the browser's login asks for the PIN again
CDP_URL=$CDP_URL EXTENSION_ID=$ID CABINET_URL="http://localhost:$(cat "$WORK/port")" \
    EXPECT_LOGIN='вошли как' \
    PATH=$PATH:$USER_PATH timeout 180 node "$SOURCE_ROOT/tests/e2e/installed_chromium.mjs" >"$WORK/node.log" 2>&1 ||
    { cat "$WORK/node.log" "$WORK/agent.log"; fail "the installed extension in Chromium"; }
while read -r line; do ok "$line"; done < <(sed -n 's/^ok [0-9]* - //p' "$WORK/node.log")
kill "$CHROMIUM_PID"; wait "$CHROMIUM_PID" 2>/dev/null || true; CHROMIUM_PID=""
# With the browser gone, the installed agent shrinks (idle_shrink_seconds, 10 s by default) into
# the installed listener and comes back for the next client, same pid.
for _ in $(seq 300); do
    [ "$(readlink "/proc/$AGENT_PID/exe")" = /usr/libexec/gostsign/gostsign-agent-listener ] && break
    sleep 0.1
done
[ "$(readlink "/proc/$AGENT_PID/exe")" = /usr/libexec/gostsign/gostsign-agent-listener ] ||
    { cat "$WORK/agent.log"; fail "the installed agent did not shrink into /usr/libexec/gostsign/gostsign-agent-listener"; }
/usr/bin/gostsign agent status >"$WORK/status" 2>&1 || { cat "$WORK/status" "$WORK/agent.log"; fail "agent status after the shrink"; }
[ "$(readlink "/proc/$AGENT_PID/exe")" = /usr/bin/gostsign-agent ] || fail "the installed agent did not come back"
ok "idle, the installed agent became /usr/libexec/gostsign/gostsign-agent-listener and came back as /usr/bin/gostsign-agent (pid $AGENT_PID)"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
kill "$CABINET_PID"; wait "$CABINET_PID" 2>/dev/null || true; CABINET_PID=""

# ---------------------------------------------------------------- upgrade
# A newer version of the same files (the package repacked with a higher version): the
# maintainer scripts run as for any upgrade.
NEXT=$VERSION+upgradetest1
for d in "$DEB" "$SOFT_DEB"; do
    name=$(dpkg-deb -f "$d" Package)
    rm -rf "$WORK/repack"
    dpkg-deb -R "$d" "$WORK/repack"
    sed -i "s/^Version: .*/Version: $NEXT/" "$WORK/repack/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$WORK/repack" "$WORK/deb/${name}_${NEXT}_${ARCH}.deb" >/dev/null
done
(cd "$WORK/deb" && "${APT[@]}" install --no-install-recommends "./gostsign_${NEXT}_${ARCH}.deb" \
    "./gostsign-softtoken_${NEXT}_${ARCH}.deb") >>"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "upgrade"; }
[ "$(dpkg-query -W -f='${Version}' gostsign)" = "$NEXT" ] || fail "not upgraded"
[ "$(systemctl --global is-enabled gostsign-agent.socket)" = enabled ] || fail "upgrade lost the enablement"
[ -f /etc/opt/edge/native-messaging-hosts/ru.gostsign.nmhost.json ] || fail "upgrade lost a manifest"
[ -z "$(find /etc -name '*.dpkg-*' -path '*native-messaging*')" ] || fail "upgrade left .dpkg-* files"
ok "upgrade to $NEXT keeps the socket enabled and the manifests, no .dpkg-* leftovers"

# ---------------------------------------------------------------- purge
"${APT[@]}" purge "${PKGS[@]}" >"$WORK/apt-purge.log" 2>&1 || { cat "$WORK/apt-purge.log"; fail "apt-get purge"; }
[ "$(apt_touched "$WORK/apt-purge.log" 'Removing')" = "gostsign gostsign-softtoken " ] ||
    { cat "$WORK/apt-purge.log"; fail "apt-get purge removed other packages too"; }
for p in "${PKGS[@]}"; do ! installed "$p" || fail "$p still installed after purge"; done
while read -r p; do [ ! -e "$p" ] || echo "$p"; done <"$WORK/package.paths" >"$WORK/present.after"
diff "$WORK/present.before" "$WORK/present.after" >"$WORK/diff" || { cat "$WORK/diff"; fail "purge: the package's paths differ from before"; }
[ ! -e /etc/systemd/user/sockets.target.wants/gostsign-agent.socket ] || fail "enablement link left"
system_gostsign_paths >"$WORK/named.after"
diff "$WORK/named.before" "$WORK/named.after" >"$WORK/diff" || { cat "$WORK/diff"; fail "purge left files named gostsign"; }
[ ! -e /usr/share/gostsign ] || fail "/usr/share/gostsign left"
[ -d /etc/opt ] || fail "purge removed /etc/opt"
ok "purge leaves nothing: package paths as before, no enablement link, nothing named gostsign"
echo "$PASSED passed, 0 failed"
