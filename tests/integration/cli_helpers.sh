#!/usr/bin/env bash
# Issue 17 target 2: the everyday `gostsign` command loads no heavy library. `gostsign doctor`,
# `gostsign trust update`, `gostsign token` and `gostsign import` run the helper programs
# gostsign-doctor, gostsign-trust-update and gostsign-token-admin (cli/helper.c), found next to
# the command first, then in LIBEXECDIR/gostsign ($GOSTSIGN_LIBEXEC_DIR in tests): arguments,
# output and exit status pass through unchanged, a helper starts the agent next to the command,
# and a missing helper is the error HELPER_MISSING in both languages, not a crash or a silent
# success.
. "$(dirname "$0")/lib.sh"
: "${GOSTSIGN_DOCTOR:?}" "${GOSTSIGN_TRUST_UPDATE:?}" "${GOSTSIGN_TOKEN_ADMIN:?}"
n() { error_number "$1"; }

# ---- what each program links: none of the heavy libraries, directly (NEEDED) or through another
# (ldd); libstdc++ only when the sanitizer build's libubsan brings it
needed=$(readelf -d "$GOSTSIGN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
linked=$(ldd "$GOSTSIGN")
heavy=(libxml2 libicu libssl libudev libpcsclite libp11-kit libassuan libgpg-error libsystemd)
grep -q '^libubsan' <<<"$needed" || heavy+=(libstdc++)
for lib in "${heavy[@]}"; do
    grep -q "$lib" <<<"$linked" && fail "gostsign links $lib: $(grep "$lib" <<<"$linked")"
done
[[ $(ldd "$GOSTSIGN_TRUST_UPDATE") == *libxml2* ]] || fail "gostsign-trust-update does not link libxml2"
[[ $(ldd "$GOSTSIGN_DOCTOR") == *libpcsclite* ]] || fail "gostsign-doctor does not link pcsc-lite"
[[ $(ldd "$GOSTSIGN_TOKEN_ADMIN") == *libp11-kit* ]] || fail "gostsign-token-admin does not link p11-kit"
ok "gostsign links none of libxml2, ICU, libstdc++, libssl, libudev, pcsc-lite, p11-kit,"\
" libassuan, libsystemd; the helpers do"

# ---- a test list of accredited CAs, and the update through the helper next to gostsign
bash "$SOURCE_ROOT/tests/data/make-test-tsl.sh" "$WORK/tsl" >/dev/null 2>&1 || fail "make-test-tsl.sh"
cd "$WORK/tsl"
expect_status 0 "$GOSTSIGN" trust update --tsl tsl.xml
grep -q '^List of accredited CAs updated: ' "$WORK/out" || fail "update: $(cat "$WORK/out")"
sed "s|$XDG_DATA_HOME|STORE|" "$WORK/out" >"$WORK/update.next-to"
expect_status "$(n TSL_INVALID)" "$GOSTSIGN" trust update --tsl tsl-damaged.xml
grep -q TSL_INVALID "$WORK/err" || fail "a damaged list: no TSL_INVALID from the helper"
grep -q 'the store .* was left as it was' "$WORK/err" || fail "a damaged list: no 'left as it was'"
ok "trust update through the helper next to gostsign: the store written; TSL_INVALID's status passes"

# ---- usage errors read as they did: the command parses first, the helper its own checks
expect_status "$(n USAGE)" "$GOSTSIGN" trust update --bogus
grep -q "unrecognized option '--bogus'" "$WORK/err" || fail "trust update --bogus: $(cat "$WORK/err")"
expect_status "$(n USAGE)" "$GOSTSIGN" trust update
grep -q 'give --tsl FILE or --online' "$WORK/err" || fail "trust update alone: $(cat "$WORK/err")"
expect_status "$(n USAGE)" "$GOSTSIGN" doctor --bogus
grep -q "^doctor: unrecognized option '--bogus'" "$WORK/err" || fail "doctor --bogus: $(cat "$WORK/err")"
expect_status 0 "$GOSTSIGN" doctor --help
grep -q '^Usage: gostsign doctor' "$WORK/out" || fail "doctor --help: $(head -3 "$WORK/out")"
expect_status "$(n USAGE)" "$GOSTSIGN" token frobnicate
grep -q "unknown subcommand 'frobnicate'" "$WORK/err" || fail "token frobnicate: $(cat "$WORK/err")"
expect_status "$(n USAGE)" "$GOSTSIGN" import
grep -q 'give exactly one PKCS#12 file' "$WORK/err" || fail "import alone: $(cat "$WORK/err")"
ok "usage errors and --help of doctor, trust update, token and import as before"

# ---- installed: gostsign alone in a folder, the helpers in a libexec folder of their own
mkdir "$WORK/bin" "$WORK/libexec"
cp "$GOSTSIGN" "$WORK/bin/gostsign"
cp "$GOSTSIGN_DOCTOR" "$GOSTSIGN_TRUST_UPDATE" "$GOSTSIGN_TOKEN_ADMIN" "$WORK/libexec/"
export XDG_DATA_HOME=$WORK/data2
GOSTSIGN_LIBEXEC_DIR=$WORK/libexec expect_status 0 "$WORK/bin/gostsign" trust update --tsl tsl.xml
sed "s|$XDG_DATA_HOME|STORE|" "$WORK/out" >"$WORK/update.libexec"
diff -u "$WORK/update.next-to" "$WORK/update.libexec" || fail "the update from libexec prints otherwise"
[ -d "$XDG_DATA_HOME/gostsign/trust" ] || fail "the update from libexec wrote no store"
got=0
GOSTSIGN_LIBEXEC_DIR=$WORK/libexec "$WORK/bin/gostsign" doctor --json >"$WORK/doctor.json" \
    2>"$WORK/err" || got=$?
case $got in 0 | "$(n DOCTOR_WARNINGS)" | "$(n DOCTOR_FAILED)") ;;
*) cat "$WORK/err" >&2; fail "doctor from libexec exited $got" ;;
esac
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["schema"] == 1, d' \
    "$WORK/doctor.json" || fail "doctor --json from libexec: no report"
GOSTSIGN_LIBEXEC_DIR=$WORK/libexec expect_status 0 "$WORK/bin/gostsign" token list \
    --module "$SOFTTOKEN_MODULE"
ok "helpers found in the libexec folder: the same update output, the doctor's report, token list"

# ---- a helper in libexec starts the agent next to the command, not one from PATH
mkdir -m 0700 "$WORK/run"
printf '#!/bin/sh\necho "$0 $*" >"%s/agent-started"\nexit 1\n' "$WORK" >"$WORK/bin/gostsign-agent"
chmod +x "$WORK/bin/gostsign-agent"
(
    unset GOSTSIGN_AGENT_BIN
    export XDG_RUNTIME_DIR=$WORK/run GOSTSIGN_LIBEXEC_DIR=$WORK/libexec
    expect_status "$(n AGENT_UNAVAILABLE)" "$WORK/bin/gostsign" token change-pin
)
grep -qx "$WORK/bin/gostsign-agent --detached" "$WORK/agent-started" ||
    fail "token change-pin from libexec did not start the agent next to gostsign"
ok "token change-pin from libexec starts gostsign-agent from next to gostsign"

# ---- a helper missing: HELPER_MISSING, nothing done, the other commands unaffected
export XDG_DATA_HOME=$WORK/data3 GOSTSIGN_LIBEXEC_DIR=$WORK/nowhere
expect_status "$(n HELPER_MISSING)" "$WORK/bin/gostsign" trust update --tsl tsl.xml
grep -q 'HELPER_MISSING' "$WORK/err" || fail "no HELPER_MISSING: $(cat "$WORK/err")"
grep -q 'gostsign-trust-update is neither next to gostsign nor in' "$WORK/err" ||
    fail "the message does not name the helper: $(cat "$WORK/err")"
[ ! -e "$XDG_DATA_HOME/gostsign" ] || fail "a store was written without the helper"
expect_status "$(n HELPER_MISSING)" "$WORK/bin/gostsign" doctor
grep -q 'gostsign-doctor' "$WORK/err" || fail "doctor: the message does not name the helper"
for cmd in "token list" "import x.p12"; do
    # shellcheck disable=SC2086 # the command and its argument
    expect_status "$(n HELPER_MISSING)" "$WORK/bin/gostsign" $cmd
    grep -q 'gostsign-token-admin' "$WORK/err" || fail "$cmd: the message does not name the helper"
done
[ ! -s "$WORK/out" ] || fail "doctor without its helper printed a report"
LANG=ru_RU.UTF-8 expect_status "$(n HELPER_MISSING)" "$WORK/bin/gostsign" doctor
grep -q 'Не установлена часть gostsign' "$WORK/err" || fail "no Russian message: $(cat "$WORK/err")"
grep -q 'apt install --reinstall gostsign' "$WORK/err" || fail "no fix in Russian: $(cat "$WORK/err")"
expect_status "$(n TRUST_STORE_MISSING)" "$WORK/bin/gostsign" trust status
expect_status 0 "$WORK/bin/gostsign" --version
ok "a missing helper: HELPER_MISSING in English and Russian, no store; trust status, --version work"

# ---- $GOSTSIGN_LIBEXEC_DIR counts only when it is this user's own folder that no one else may
# write to (sudo -E must not run a helper a user put there)
mkdir "$WORK/shared-libexec"
cp "$GOSTSIGN_DOCTOR" "$GOSTSIGN_TRUST_UPDATE" "$GOSTSIGN_TOKEN_ADMIN" "$WORK/shared-libexec/"
chmod 0775 "$WORK/shared-libexec"
GOSTSIGN_LIBEXEC_DIR=$WORK/shared-libexec expect_status "$(n HELPER_MISSING)" "$WORK/bin/gostsign" token list \
    --module "$SOFTTOKEN_MODULE"
chmod 0755 "$WORK/shared-libexec"
GOSTSIGN_LIBEXEC_DIR=$WORK/shared-libexec expect_status 0 "$WORK/bin/gostsign" token list \
    --module "$SOFTTOKEN_MODULE"
ok "a group-writable \$GOSTSIGN_LIBEXEC_DIR is not used (HELPER_MISSING); the same folder 0755 is"
