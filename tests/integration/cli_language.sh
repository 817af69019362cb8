#!/usr/bin/env bash
# One language per line, chosen by the locale (issue 14 item 9): the main commands of `gostsign`
# (cert show, cert show --chain, verify, browser, token, trust, errors, doctor, digest) and their
# error paths run under LANG=C.UTF-8 / en_US.UTF-8 and ru_RU.UTF-8 (also LC_MESSAGES and LC_ALL).
# English output holds no Cyrillic apart from the certificate's own names; no Russian line holds
# English words of a message. Identifiers, paths, options, `commands`, codes (CERT_REVOKED),
# abbreviations (PIN, CRL), product names and the certificate's values are not words of a message.
. "$(dirname "$0")/lib.sh"
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$WORK/pki" >/dev/null 2>&1
PKI=$WORK/pki
cd "$WORK"
export GOSTSIGN_SOFTTOKEN_DIR=$WORK/tokens GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_RUNTIME_DIR=$WORK/run
export GOSTSIGN_AGENT_BIN=/nonexistent/gostsign-agent PCSCLITE_CSOCK_NAME=$WORK/no-pcscd.comm
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR" "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
printf 'Заявление о регистрации\n' >doc.txt
ossl cms -sign -engine gost -binary -md md_gost12_256 -in doc.txt -signer "$PKI/employee.pem" \
    -inkey "$PKI/employee.key" -outform DER -out doc.p7s 2>/dev/null || fail "openssl cms -sign"
printf 'changed\n' >other.txt
printf '#!/bin/sh\nexit 0\n' >host && chmod +x host
# the certificate's own values (names, organisation, tools): data, not words of a message
for pem in "$PKI"/*.pem; do "$GOSTSIGN" cert show --json "$pem" 2>/dev/null; done | python3 -c '
import json, sys
vals = []
for c in json.loads("[" + sys.stdin.read().replace("}\n{", "},{") + "]"):
  for part in ("subject", "issuer"):
    vals += [v for v in (c.get(part) or {}).values() if isinstance(v, str)]
  vals.append(c.get("subject_sign_tool") or "")
  vals += [v for v in (c.get("issuer_sign_tool") or {}).values() if isinstance(v, str)]
print("\n".join(sorted({v for v in vals if v}, key=len, reverse=True)))' >data-values
[ -s data-values ] || fail "no certificate values"

# run NAME CMD...: the command's stdout and stderr in out/NAME.$LOCALE_TAG
run() {
    local name=$1; shift
    "$@" >"out/$name.$TAG" 2>&1 </dev/null || true
}
commands() {
    run errors "$GOSTSIGN" errors
    run cert_show "$GOSTSIGN" cert show "$PKI/employee.pem"
    run cert_show_missing "$GOSTSIGN" cert show "$WORK/nonexistent.pem"
    run cert_show_bad_option "$GOSTSIGN" cert show --frobnicate "$PKI/employee.pem"
    run cert_chain "$GOSTSIGN" cert show --chain --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" "$PKI/employee.pem"
    run cert_chain_revoked "$GOSTSIGN" cert show --chain --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" "$PKI/revoked.pem"
    run cert_chain_untrusted "$GOSTSIGN" cert show --chain --ca-dir "$WORK" "$PKI/employee.pem"
    run cert_chain_no_store "$GOSTSIGN" cert show --chain "$PKI/employee.pem"
    run verify "$GOSTSIGN" verify --content doc.txt --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" doc.p7s
    run verify_unchecked "$GOSTSIGN" verify --content doc.txt doc.p7s
    run verify_bad "$GOSTSIGN" verify --content other.txt --ca-dir "$PKI/cadir" doc.p7s
    run verify_untrusted "$GOSTSIGN" verify --content doc.txt --ca-dir "$WORK" doc.p7s
    run verify_missing "$GOSTSIGN" verify --content doc.txt "$WORK/nonexistent.p7s"
    run browser_none "$GOSTSIGN" browser status
    run browser_install "$GOSTSIGN" browser install --browser chromium --host "$WORK/host"
    run browser_status "$GOSTSIGN" browser status --browser chromium
    echo '{' >"$XDG_CONFIG_HOME/chromium/NativeMessagingHosts/ru.gostsign.nmhost.json"
    run browser_broken "$GOSTSIGN" browser status
    run browser_usage "$GOSTSIGN" browser frobnicate
    run tokens_none "$GOSTSIGN" token list --module "$WORK/nonexistent.so"
    run token_list "$GOSTSIGN" token list --module "$SOFTTOKEN_MODULE"
    run trust_status "$GOSTSIGN" trust status
    run agent_down "$GOSTSIGN" certs
    run digest_missing "$GOSTSIGN" digest "$WORK/nonexistent"
    run unknown "$GOSTSIGN" frobnicate
    run doctor "$GOSTSIGN" doctor --no-p11-kit --module "$SOFTTOKEN_MODULE"
    rm -rf "$XDG_CONFIG_HOME/chromium"
}
mkdir -p out
for setting in "LANG=C.UTF-8" "LANG=en_US.UTF-8" "LANG=ru_RU.UTF-8" "LANG=C.UTF-8 LC_MESSAGES=ru_RU.UTF-8" \
    "LANG=ru_RU.UTF-8 LC_ALL=en_US.UTF-8"; do
    TAG=$(echo "$setting" | tr ' =' '__')
    (unset LANG LC_ALL LC_MESSAGES; export $setting; commands) 2>/dev/null # bash: no such locale
done

# the commands that go through the agent, on the demo token (its PIN dialog is never reached)
"$SOFTTOKEN_SETUP" --module "$SOFTTOKEN_MODULE" --out "$WORK/demo" >/dev/null 2>&1 || fail "demo token"
mkdir -p "$XDG_CONFIG_HOME/gostsign"
printf '{"modules": ["%s"], "pinentry": "%s"}\n' "$SOFTTOKEN_MODULE" "$SCRIPTED_PINENTRY" >"$XDG_CONFIG_HOME/gostsign/agent.json"
export GOSTSIGN_AGENT_SOCKET=$WORK/run/agent.sock GS_TEST_PINENTRY_SCRIPT=$WORK/pinentry.script
echo cancel >"$GS_TEST_PINENTRY_SCRIPT"
"$GOSTSIGN_AGENT" --system-config /nonexistent 2>"$WORK/agent.log" &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -S "$GOSTSIGN_AGENT_SOCKET" ] && break; sleep 0.1; done
printf 'not a pfx' >bad.p12
agent_commands() {
    run tokens "$GOSTSIGN" tokens
    run certs "$GOSTSIGN" certs
    run agent_status "$GOSTSIGN" agent status
    run token_certs "$GOSTSIGN" token certs --module "$SOFTTOKEN_MODULE"
    run sign_no_cert "$GOSTSIGN" sign --cert ffffffff doc.txt -o "$WORK/x.p7s"
    run sign_no_dir "$GOSTSIGN" sign doc.txt -o /nonexistent/x.p7s
    run sign_cancel "$GOSTSIGN" sign doc.txt -o "$WORK/x.p7s"
    run import_no_token "$GOSTSIGN" import --module "$SOFTTOKEN_MODULE" --token "no such token" bad.p12
    run unpause_no_tty "$GOSTSIGN" agent unpause "no such token"
}
for setting in "LANG=C.UTF-8" "LANG=ru_RU.UTF-8"; do
    TAG=$(echo "$setting" | tr ' =' '__')
    (unset LANG LC_ALL LC_MESSAGES; export $setting; agent_commands) 2>/dev/null
done
grep -q "USER_CANCELLED" out/sign_cancel.LANG_C.UTF-8 || fail "the cancelled dialog is not reported: $(cat out/sign_cancel.LANG_C.UTF-8)"

python3 - "$WORK/out" "$WORK/data-values" <<'PY' || fail "a line mixes languages (see above)"
import os, re, sys
out_dir, values_file = sys.argv[1:3]
values = [v for v in open(values_file, encoding="utf-8").read().split("\n") if v]
# names and identifiers that are the same in both languages
names = {"gostsign", "gostsign-agent", "gostsign-nmhost", "pinentry", "openssl", "streebog",
         "signingcertificatev2", "chromium", "firefox", "chrome", "google", "yandex", "browser",
         "microsoft", "edge", "debian", "snap", "flatpak", "pcscd", "libccid", "stdio", "json",
         "gost", "vipnet", "csp", "utc", "ok", "native-messaging", "hosts", "softtoken", "demo",
         "via", "pkcs", "x509", "engine", "systemctl", "apt", "p11-kit", "opensc",
         "chromium-gost", "webextensions", "xdg-desktop-portal"}
cyr = re.compile(r"[А-Яа-яЁё]{2,}")
def strip(line):
    for v in values:
        line = line.replace(v, " ")
    line = re.sub(r"`[^`]*`", " ", line)            # commands
    line = re.sub(r"«[^»]*»|\"[^\"]*\"", " ", line)  # quoted names
    line = re.sub(r"(https?://|/)\S*", " ", line)   # paths and addresses
    line = re.sub(r"\b[\w-]+(\.[\w-]+)+\b", " ", line)  # file and host names
    line = re.sub(r"(?<![\w])--?[a-z][\w-]*", " ", line)  # options
    line = re.sub(r"\b[\w.-]*\d[\w.-]*\b", " ", line)  # versions, numbers, ids, hex
    line = re.sub(r"\b[A-Z][A-Z0-9_#-]+\b", " ", line)  # codes and abbreviations
    return line
def english_words(line):
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", line) if w.lower() not in names]
bad = []
for name in sorted(os.listdir(out_dir)):
    russian = "ru_RU" in name.split(".", 1)[1].split("LC_ALL")[0] if "LC_ALL" not in name else False
    if "LC_MESSAGES_ru" in name:
        russian = True
    text = open(os.path.join(out_dir, name), encoding="utf-8").read()
    for line in text.splitlines():
        s = strip(line)
        if russian and cyr.search(s) and english_words(s):
            bad.append((name, line, english_words(s)))
        if not russian and cyr.search(s):
            bad.append((name, line, cyr.findall(s)))
for name, line, words in bad:
    print(f"{name}: {line!r}  <- {words}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
ok "no output line of the main commands mixes languages, under English and Russian locales"

# each locale setting gets its language (and the report of an error says so)
grep -q "^gostsign: ошибка CERT_PARSE\|^gostsign: ошибка IO_ERROR" out/cert_show_missing.LANG_ru_RU.UTF-8 ||
    fail "no Russian error under LANG=ru_RU: $(cat out/cert_show_missing.LANG_ru_RU.UTF-8)"
grep -q "^gostsign: ошибка" out/cert_show_missing.LANG_C.UTF-8_LC_MESSAGES_ru_RU.UTF-8 || fail "LC_MESSAGES=ru_RU is not Russian"
grep -q "^gostsign: error" out/cert_show_missing.LANG_ru_RU.UTF-8_LC_ALL_en_US.UTF-8 || fail "LC_ALL=en_US is not English"
grep -q "^gostsign: error" out/cert_show_missing.LANG_en_US.UTF-8 || fail "no English error under LANG=en_US"
grep -q "Владелец сертификата" out/cert_show.LANG_ru_RU.UTF-8 || fail "cert show is not Russian under ru_RU"
grep -q "Certificate owner" out/cert_show.LANG_C.UTF-8 || fail "cert show is not English under C.UTF-8"
grep -q "Подпись действительна" out/verify.LANG_ru_RU.UTF-8 || fail "verify is not Russian"
grep -q "Signature is valid" out/verify.LANG_en_US.UTF-8 || fail "verify is not English"
grep -q "Статус: *действителен" out/cert_chain.LANG_ru_RU.UTF-8 || fail "cert show --chain is not Russian"
grep -q "Status: *valid" out/cert_chain.LANG_C.UTF-8 || fail "cert show --chain is not English"
grep -q "не зарегистрирован" out/browser_none.LANG_ru_RU.UTF-8 || fail "browser status is not Russian"
grep -q "not registered" out/browser_none.LANG_C.UTF-8 || fail "browser status is not English"
ok "LANG, LC_MESSAGES and LC_ALL choose the language, LC_ALL first"
echo "$PASSED passed, 0 failed"
