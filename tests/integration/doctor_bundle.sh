#!/usr/bin/env bash
# The support bundle (`gostsign doctor --report FILE`, issue 14 item 14) on a machine without
# journald: it holds the running agent's last errors with their codes and times (from the
# agent's in-memory ring, through its local-only `status`), the PIN pause per token, the
# versions of the GOST engine, pcsc-lite, libccid, each PKCS#11 module and the browsers, and the
# OS name without the quotes of /etc/os-release; and never a PIN typed during the session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
: "${BUILD_ROOT:?}"
PROTO="python3 $SOURCE_ROOT/tests/integration/agent_proto.py"
MODULE=$SOFTTOKEN_MODULE
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$XDG_CONFIG_HOME/gostsign" "$WORK/bin"
"$SOFTTOKEN_SETUP" --module "$MODULE" --out "$WORK/demo" >/dev/null 2>&1 || fail "demo token"
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$MODULE"], "pinentry": "$SCRIPTED_PINENTRY", "pin_max_failures": 3,
 "allowed_origins": ["https://lk.example.ru"]}
JSON
# no journal here: journalctl fails, as on a machine without journald
printf '#!/bin/sh\necho "No journal files were found." >&2\nexit 1\n' >"$WORK/bin/journalctl"
chmod +x "$WORK/bin/journalctl"
export PATH=$WORK/bin:$PATH
"$GOSTSIGN_AGENT" --system-config /nonexistent 2>"$WORK/agent.log" &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && break; sleep 0.1; done
[ -S "$GOSTSIGN_AGENT_SOCKET" ] || fail "agent did not start: $(cat "$WORK/agent.log")"

# errors of the session: a site outside the allow-list, a bad request, a wrong PIN, then the
# right one; both PINs are typed into the (scripted) dialog
WRONG_PIN=80417263
START=$(date -u +%s)
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":1,"cmd":"sign","origin":"https://evil.example.com","args":{"data":"aGk="}}' >"$WORK/r1"
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":2,"cmd":"sign","origin":"https://lk.example.ru","args":{"data":null}}' >"$WORK/r2"
echo "pin $WRONG_PIN" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":3,"cmd":"sign","origin":"local:test","args":{"data":"aGk="}}' >"$WORK/r3"
grep -q PIN_INCORRECT "$WORK/r3" || fail "no PIN_INCORRECT: $(cat "$WORK/r3")"
echo "pin 12345678" >"$GS_TEST_PINENTRY_SCRIPT"
rm -f "$GS_TEST_PINENTRY_SCRIPT.next"
# a frame that is not JSON: no request comes of it, the ring still has its error
python3 - "$GOSTSIGN_AGENT_SOCKET" <<'PY' || fail "could not send a bad frame"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack("=I", 9) + b"not json!")
s.settimeout(10)
s.recv(4096)
PY
# a page may not read the ring itself
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":4,"cmd":"status","origin":"https://lk.example.ru"}' >"$WORK/r4"
grep -q '"ok": false' "$WORK/r4" && ! grep -q recent_errors "$WORK/r4" || fail "a page read the agent's status: $(cat "$WORK/r4")"
ok "a page cannot read the agent's status"

doctor "$WORK/doctor.json" --no-p11-kit --module "$MODULE" --report "$WORK/bundle.json"
[ -s "$WORK/bundle.json" ] || fail "no bundle written: $(cat "$WORK/doctor.err")"
python3 - "$WORK/bundle.json" "$START" "$MODULE" "$GOSTSIGN" <<'PY' || fail "bundle: $(head -c 6000 "$WORK/bundle.json")"
import calendar, json, subprocess, sys, time
b = json.load(open(sys.argv[1]))
start, module, gostsign = int(sys.argv[2]), sys.argv[3], sys.argv[4]
numbers = {l.split()[1]: int(l.split()[0]) for l in subprocess.run([gostsign, "errors"], capture_output=True, text=True).stdout.splitlines() if l.split() and l.split()[0].isdigit()}
errs = b["agent"]["recent_errors"]
def find(code, origin):
    hits = [e for e in errs if e["code"] == code and e["origin"] == origin]
    assert hits, (code, origin, errs)
    e = hits[-1]
    assert e["number"] == numbers[code], (e, numbers.get(code))
    t = calendar.timegm(time.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ"))
    assert start - 2 <= t <= time.time() + 2, e
    return e
assert find("ORIGIN_NOT_ALLOWED", "https://evil.example.com")["cmd"] == "sign"
find("BAD_REQUEST", "https://lk.example.ru")
find("PIN_INCORRECT", "local:test")
find("ORIGIN_NOT_ALLOWED", "https://lk.example.ru")  # the refused status
find("BAD_JSON", None)  # the frame that was not JSON
for e in errs:
    assert set(e) == {"time", "code", "number", "cmd", "origin"}, e
pauses = b["agent"]["pin_pauses"]
assert pauses and pauses[0]["failures"] == 1 and pauses[0]["max_failures"] == 3, pauses
assert pauses[0]["paused_until"] is None, pauses
v = b["versions"]
assert "gost" in v["gost_engine"]["engine"], v["gost_engine"]
assert v["gost_engine"]["libengine-gost-openssl"], v["gost_engine"]
assert v["gost_engine"]["package"].startswith("libengine-gost-openssl"), v["gost_engine"]
assert v["pcsc_lite"]["pcscd"] and v["pcsc_lite"]["libpcsclite1"], v["pcsc_lite"]
assert v["libccid"], v
mods = [m for m in v["pkcs11_modules"] if m["path"] == module]
assert mods and mods[0]["library_version"] and mods[0]["manufacturer"], v["pkcs11_modules"]
for name in ("chromium", "google-chrome", "firefox-esr", "yandex-browser", "microsoft-edge"):
    assert name in v["browsers"], v["browsers"]
dpkg = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "chromium"], capture_output=True, text=True)
if dpkg.returncode == 0 and dpkg.stdout:
    assert v["browsers"]["chromium"] == dpkg.stdout, v["browsers"]
assert v["os"] and '"' not in v["os"] and "'" not in v["os"], v["os"]
want = [l.split("=", 1)[1].strip().strip('"').strip("'") for l in open("/etc/os-release") if l.startswith("PRETTY_NAME=")][0]
assert v["os"] == want, (v["os"], want)
PY
ok "the bundle holds the agent's recent errors with code, number and time, without journald"
ok "the bundle holds the PIN pause state, the engine, pcsc-lite, libccid, module and browser versions, the OS name unquoted"
if grep -qF "$WRONG_PIN" "$WORK/bundle.json" || grep -qF "12345678" "$WORK/bundle.json"; then
    fail "a PIN typed in the session is in the bundle"
fi
ok "no PIN typed in the session appears in the bundle"
echo "$PASSED passed, 0 failed"
