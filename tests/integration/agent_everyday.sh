#!/usr/bin/env bash
# Everyday use of the agent (issue 14): wrong-PIN replies carry retries_left / resume_at as
# fields, `gostsign agent stop | restart | unpause TOKEN` (unpause only for the user at the
# terminal, never for a page), output paths checked before the PIN, an on-demand agent that
# leaves the caller's pipes alone, one language per message.
. "$(dirname "$0")/lib.sh"

PROTO="python3 $SOURCE_ROOT/tests/integration/agent_proto.py"
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens
export GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock
export GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
export GS_TEST_PINENTRY_RECORD=$WORK/pinentry.record
export XDG_CONFIG_HOME=$WORK/config
export LANG=C.UTF-8 LC_ALL= LC_MESSAGES=
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$WORK/run" "$XDG_CONFIG_HOME/gostsign"
chmod 700 "$WORK/run"
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log"; fail "demo token setup"; }
cat >"$XDG_CONFIG_HOME/gostsign/agent.json" <<JSON
{"modules": ["$SOFTTOKEN_MODULE"], "pinentry": "$SCRIPTED_PINENTRY", "pin_max_failures": 2,
 "pin_cooldown_seconds": 900, "request_timeout_seconds": 30, "allowed_origins": ["https://lk.example.ru"]}
JSON
cat >"$WORK/agent-wrapper" <<WRAP
#!/bin/sh
exec "$GOSTSIGN_AGENT" --system-config /nonexistent --socket "$GOSTSIGN_AGENT_SOCKET" "\$@"
WRAP
chmod +x "$WORK/agent-wrapper"
export GOSTSIGN_AGENT_BIN=$WORK/agent-wrapper
script() { printf '%s\n' "$@" >"$GS_TEST_PINENTRY_SCRIPT"; rm -f "$GS_TEST_PINENTRY_SCRIPT.next"; }
agent_pid() { pgrep -f -- "--socket $GOSTSIGN_AGENT_SOCKET" | head -1; }
stop_agent() { local p; p=$(agent_pid); [ -z "$p" ] || { kill "$p"; sleep 0.3; }; }
trap 'stop_agent; rm -rf "$WORK"' EXIT
# field REPLY_FILE PATH: one value of the last reply, e.g. "error.resume_at" ("" when absent)
field() {
    python3 -c 'import json,sys
m=[json.loads(l) for l in open(sys.argv[1]) if "\"ok\"" in l][-1]
for k in sys.argv[2].split("."):
    m=m.get(k) if isinstance(m,dict) else None
print("" if m is None else m)' "$1" "$2"
}
sign_req='{"id":1,"cmd":"sign","origin":"local:test","args":{"data":"aGVsbG8="}}'

# --- an agent started on demand leaves the caller's pipes alone (item 11)
timeout 20 sh -c '"$GOSTSIGN" certs 2>&1 | cat' >"$WORK/certs.txt" ||
    fail "\`gostsign certs | cat\` did not finish: the agent kept the pipe open"
timeout 20 python3 -c 'import subprocess,sys; r=subprocess.run([sys.argv[1],"agent","status"],capture_output=True,timeout=15); sys.exit(r.returncode)' "$GOSTSIGN" ||
    fail "subprocess.run(capture_output=True) hung or failed"
if grep -q "listening on" "$WORK/certs.txt"; then fail "the agent wrote into the command's output"; fi
"$GOSTSIGN" agent stop >/dev/null
"$GOSTSIGN" certs >"$WORK/certs.file" 2>&1 # a file, not a pipe: still nothing of the agent's
if grep -q "listening on" "$WORK/certs.file"; then fail "the agent wrote into the command's output file"; fi
[ "$(ps -o sid= -p "$(agent_pid)" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ] ||
    fail "the agent stayed in the caller's session"
if readlink "/proc/$(agent_pid)/fd/2" | grep -q '^pipe:'; then fail "the agent kept the caller's stderr pipe"; fi
ok "an agent started on demand is detached: no output of its own, no pipe kept, own session"
CERT=$("$GOSTSIGN" certs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
TOKEN=$("$GOSTSIGN" tokens --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

# --- wrong PINs: machine-readable state in the error (item 3)
script "pin 00000000"
$PROTO "$GOSTSIGN_AGENT_SOCKET" "$sign_req" >"$WORK/r1"
[ "$(field "$WORK/r1" error.code)" = PIN_INCORRECT ] || fail "no PIN_INCORRECT: $(cat "$WORK/r1")"
[ "$(field "$WORK/r1" error.agent_attempts_left)" = 1 ] || fail "no agent_attempts_left: $(cat "$WORK/r1")"
[ -z "$(field "$WORK/r1" error.resume_at)" ] || fail "resume_at without a pause"
[ -n "$(field "$WORK/r1" error.fix_ru)" ] || fail "no fix_ru in the reply"
script "pin 00000000"
$PROTO "$GOSTSIGN_AGENT_SOCKET" "$sign_req" >"$WORK/r2"
[ "$(field "$WORK/r2" error.agent_attempts_left)" = 0 ] || fail "attempts left after the 2nd: $(cat "$WORK/r2")"
field "$WORK/r2" error.resume_at | grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' ||
    fail "no resume_at once the pause started: $(cat "$WORK/r2")"
$PROTO "$GOSTSIGN_AGENT_SOCKET" "$sign_req" >"$WORK/r3"
[ "$(field "$WORK/r3" error.code)" = PIN_LIMITER ] || fail "no PIN_LIMITER: $(cat "$WORK/r3")"
[ -n "$(field "$WORK/r3" error.resume_at)" ] || fail "PIN_LIMITER without resume_at"
# the `tokens` reply (the extension's popup) shows the same pause next to the token's flags
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":1,"cmd":"tokens","origin":"extension:"}' >"$WORK/t1"
python3 -c 'import json,sys
t=[json.loads(l) for l in open(sys.argv[1]) if "\"ok\"" in l][-1]["result"][0]
sys.exit(0 if t["agent_attempts_left"] == 0 and t["resume_at"] == sys.argv[2] and not t["pin"]["locked"] else 1)' \
    "$WORK/t1" "$(field "$WORK/r3" error.resume_at)" || fail "tokens without the agent pause: $(cat "$WORK/t1")"
ok "wrong-PIN replies carry agent_attempts_left, resume_at and fix_ru as fields; tokens show the pause"

# --- unpause: the user at the terminal only (item 4)
expect_status "$(error_number USAGE)" "$GOSTSIGN" agent unpause "$TOKEN" </dev/null
grep -q "terminal" "$WORK/err" || fail "unpause without a terminal not explained: $(cat "$WORK/err")"
$PROTO "$GOSTSIGN_AGENT_SOCKET" '{"id":1,"cmd":"unpause","origin":"https://lk.example.ru","args":{"token":"'"$TOKEN"'"}}' >"$WORK/u1"
[ "$(field "$WORK/u1" error.code)" = BAD_REQUEST ] || [ "$(field "$WORK/u1" error.code)" = ORIGIN_NOT_ALLOWED ] ||
    fail "a page could unpause: $(cat "$WORK/u1")"
expect_status 0 "$GOSTSIGN" agent unpause --yes "$TOKEN"
grep -q "$TOKEN" "$WORK/out" || fail "unpause did not name the token"
script "pin 12345678"
$PROTO "$GOSTSIGN_AGENT_SOCKET" "$sign_req" >"$WORK/r4"
[ "$(field "$WORK/r4" ok)" = True ] || fail "signing still paused after unpause: $(cat "$WORK/r4")"
ok "unpause: refused without a terminal and for pages, ends the pause with --yes"

# --- stop and restart (item 4)
expect_status 0 "$GOSTSIGN" agent stop
[ -z "$(agent_pid)" ] || fail "the agent still runs after stop"
expect_status "$(error_number AGENT_UNAVAILABLE)" "$GOSTSIGN" agent status
expect_status 0 "$GOSTSIGN" agent stop
expect_status 0 "$GOSTSIGN" agent restart
grep -q "agent running" "$WORK/out" || fail "restart did not report the agent: $(cat "$WORK/out")"
old=$(agent_pid)
expect_status 0 "$GOSTSIGN" agent restart
[ -n "$(agent_pid)" ] && [ "$(agent_pid)" != "$old" ] || fail "restart kept the old agent"
ok "agent stop, status and restart"

# --- paths and the token are checked before any PIN or password dialog (item 10)
echo "document" >"$WORK/doc.txt"
: >"$GS_TEST_PINENTRY_RECORD"
script "pin 12345678"
expect_status "$(error_number IO_ERROR)" "$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.txt" -o /nonexistent/x.p7s
grep -q "/nonexistent" "$WORK/err" || fail "the missing folder is not named: $(cat "$WORK/err")"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "the PIN was asked although -o cannot be written"
echo "second" >"$WORK/doc2.txt"
expect_status 0 "$GOSTSIGN" sign --batch --cert "$CERT" "$WORK/doc.txt" "$WORK/doc2.txt" --out-dir "$WORK/new/sigs"
[ -s "$WORK/new/sigs/doc.txt.p7s" ] && [ -s "$WORK/new/sigs/doc2.txt.p7s" ] || fail "--out-dir was not created and filled"
printf 'not a pfx' >"$WORK/x.p12"
: >"$GS_TEST_PINENTRY_RECORD"
expect_status "$(error_number TOKEN_NOT_FOUND)" "$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --token "no such token" "$WORK/x.p12"
[ ! -s "$GS_TEST_PINENTRY_RECORD" ] || fail "the file's password was asked although the token is missing"
ok "sign -o to a missing folder and import to a missing token fail before any dialog; --out-dir is created"

# --- one language per message, chosen by the locale (item 9)
LANG=ru_RU.UTF-8 "$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.txt" -o /nonexistent/x.p7s 2>"$WORK/ru.err" || true
grep -q "ошибка IO_ERROR" "$WORK/ru.err" || fail "no Russian message under LANG=ru_RU: $(cat "$WORK/ru.err")"
if grep -q "error IO_ERROR\|  fix:" "$WORK/ru.err"; then fail "English mixed into the Russian report"; fi
LANG=en_US.UTF-8 "$GOSTSIGN" sign --cert "$CERT" "$WORK/doc.txt" -o /nonexistent/x.p7s 2>"$WORK/en.err" || true
grep -q "error IO_ERROR" "$WORK/en.err" || fail "no English message under LANG=en_US"
if grep -q "[а-яА-Я]" "$WORK/en.err"; then fail "Russian mixed into the English report: $(cat "$WORK/en.err")"; fi
ok "the CLI reports in one language, by LANG / LC_MESSAGES"

# --- every subcommand answers --help with a page and exit 0 (item 12)
for cmd in digest cert verify sign tokens certs agent import browser token paramsets errors doctor; do
    "$GOSTSIGN" "$cmd" --help >"$WORK/help.out" 2>&1 || fail "gostsign $cmd --help exited $?"
    [ "$(wc -l <"$WORK/help.out")" -ge 4 ] || fail "gostsign $cmd --help is too short: $(cat "$WORK/help.out")"
    grep -q "Usage: gostsign $cmd" "$WORK/help.out" || fail "gostsign $cmd --help has no usage line"
done
"$GOSTSIGN" --help | grep -q "sign .*token" || fail "gostsign --help does not say sign uses the token"
ok "every subcommand answers --help with a page and exit 0"

# --- certificates: empty INN/OGRN not printed; an import shows up without a restart (item 5)
LANG=ru_RU.UTF-8 "$GOSTSIGN" certs >"$WORK/certs.ru"
if grep -Eq "(ИНН|ИНН ЮЛ|ОГРН|ОГРНИП) *[,)]" "$WORK/certs.ru"; then fail "an empty INN/OGRN is printed: $(cat "$WORK/certs.ru")"; fi
grep -q "ОГРН 1" "$WORK/certs.ru" || fail "the OGRN the certificate has is not printed: $(cat "$WORK/certs.ru")"
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >/dev/null
ossl pkcs12 -export -engine gost -inkey "$WORK/pki/employee.key" -in "$WORK/pki/employee.pem" \
    -passout pass:secret -out "$WORK/employee.p12" 2>/dev/null || fail "openssl pkcs12 -export"
printf 'secret\n' >"$WORK/pw"
LABEL=$("$GOSTSIGN" tokens --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["label"])')
script "pin 12345678"
expect_status 0 "$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --token "$LABEL" --password-file "$WORK/pw" "$WORK/employee.p12"
sleep 2.1 # the agent's lists are re-read once older than 2 s: PKCS#11 has no event for new objects
"$GOSTSIGN" certs --json >"$WORK/certs2.json"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/certs2.json")" = 2 ] ||
    fail "the imported certificate is not listed without a restart: $(cat "$WORK/certs2.json")"
ok "empty INN/OGRN are not printed; a certificate imported while the agent runs is listed"
NEW=$(python3 -c 'import json,sys; print([c["id"] for c in json.load(open(sys.argv[1])) if c["id"] != sys.argv[2]][0])' "$WORK/certs2.json" "$CERT")

# --- two certificates: the user chooses, clients that cannot choose get CERT_CHOICE_REQUIRED (item 6)
expect_status "$(error_number CERT_CHOICE_REQUIRED)" "$GOSTSIGN" sign "$WORK/doc.txt" -o "$WORK/c.p7s" </dev/null
$PROTO "$GOSTSIGN_AGENT_SOCKET" "$sign_req" >"$WORK/r5"
[ "$(field "$WORK/r5" error.code)" = CERT_CHOICE_REQUIRED ] || fail "no CERT_CHOICE_REQUIRED: $(cat "$WORK/r5")"
script "pin 12345678"
printf "2\n" | command script -qec "$GOSTSIGN sign $WORK/doc.txt -o $WORK/chosen.p7s" /dev/null >"$WORK/choose.out" 2>&1 ||
    fail "choosing at the terminal failed: $(cat "$WORK/choose.out")"
grep -q "choose the certificate" "$WORK/choose.out" || fail "no chooser shown: $(cat "$WORK/choose.out")"
[ -s "$WORK/chosen.p7s" ] || fail "no signature after choosing"
ok "two certificates: CERT_CHOICE_REQUIRED without a terminal, a chooser at the terminal"

# --- one certificate id everywhere, unambiguous prefixes accepted (item 7)
script "pin 12345678"
expect_status 0 "$GOSTSIGN" sign --cert "${NEW:0:8}" "$WORK/doc.txt" -o "$WORK/prefix.p7s"
"$GOSTSIGN" verify --content "$WORK/doc.txt" --ca-file "$WORK/pki/ca.pem" "$WORK/prefix.p7s" >/dev/null ||
    fail "the prefix did not pick the imported certificate"
expect_status "$(error_number CERT_NOT_FOUND)" "$GOSTSIGN" sign --cert ffffffff "$WORK/doc.txt" -o "$WORK/x.p7s"
expect_status 0 "$GOSTSIGN" cert show "${NEW:0:10}"
grep -q "Иванов Иван Иванович" "$WORK/out" || fail "cert show ID did not show the token's certificate: $(cat "$WORK/out")"
"$GOSTSIGN" token certs --module "$SOFTTOKEN_MODULE" >"$WORK/tcerts"
grep -qi "$NEW" "$WORK/tcerts" || fail "token certs does not show the thumbprint: $(cat "$WORK/tcerts")"
ok "the SHA-1 thumbprint (or a unique prefix) names a certificate in sign, cert show and token certs"

# --- doctor --test-sign --cert (item 6)
script "pin 12345678"
"$GOSTSIGN" doctor --json --no-p11-kit --module "$SOFTTOKEN_MODULE" --test-sign --cert "${CERT:0:8}" >"$WORK/doctor.json" || true
python3 - "$WORK/doctor.json" "$CERT" <<'PY' || fail "doctor --test-sign --cert: $(cat "$WORK/doctor.json" | head -c 3000)"
import json, sys
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "test_sign.signature"][0]
assert c["status"] == "ok", c
assert c["evidence"]["certificate"] == sys.argv[2], c
PY
ok "doctor --test-sign --cert ID signs with that certificate"

# --- doctor checks agent.json strictly and the PIN dialog (item 13)
mkdir -p "$WORK/cfg2/gostsign"
printf '{"modules": ["%s"], "pinentry": "%s",}\n' "$SOFTTOKEN_MODULE" "$SCRIPTED_PINENTRY" >"$WORK/cfg2/gostsign/agent.json"
XDG_CONFIG_HOME=$WORK/cfg2 "$GOSTSIGN" doctor --json --no-p11-kit >"$WORK/d1.json" || true
printf '{"modules": ["%s"], "pinentry": "pinentry-nonexistent-xyz"}\n' "$SOFTTOKEN_MODULE" >"$WORK/cfg2/gostsign/agent.json"
XDG_CONFIG_HOME=$WORK/cfg2 "$GOSTSIGN" doctor --json --no-p11-kit >"$WORK/d2.json" || true
printf '{"modules": ["%s"], "pinentry": "%s"}\n' "$SOFTTOKEN_MODULE" "$SCRIPTED_PINENTRY" >"$WORK/cfg2/gostsign/agent.json"
XDG_CONFIG_HOME=$WORK/cfg2 "$GOSTSIGN" doctor --json --no-p11-kit >"$WORK/d3.json" || true
python3 - "$WORK" <<'PY' || fail "doctor config/pinentry checks"
import json, sys
w = sys.argv[1]
def check(name, cid):
    doc = json.load(open(w + "/" + name))
    return [c for l in doc["layers"] for c in l["checks"] if c["id"] == cid]
c = check("d1.json", "agent.config")
assert c and c[0]["status"] == "fail" and c[0]["code"] == "BAD_JSON", c
c = check("d2.json", "agent.pinentry")
assert c and c[0]["status"] == "fail" and c[0]["code"] == "PINENTRY_FAILED", c
c = check("d3.json", "agent.pinentry")
assert c and c[0]["status"] == "ok", c
PY
ok "doctor: a trailing comma in agent.json fails agent.config; a missing pinentry fails agent.pinentry"

# --- meson installs the man pages, and they render (item 12)
meson introspect --installed "$BUILD_ROOT" >"$WORK/installed.json"
for page in gostsign gostsign-agent gostsign-nmhost; do
    grep -q "man1/$page.1" "$WORK/installed.json" || fail "meson does not install $page.1"
    MANWIDTH=80 man -l "$SOURCE_ROOT/docs/man/$page.1" 2>/dev/null | grep -q "SYNOPSIS" ||
        fail "$page.1 does not render"
done
ok "meson installs man pages for gostsign, gostsign-agent and gostsign-nmhost"
