#!/usr/bin/env bash
# Without the GOST engine the command fails cleanly and names the package; a broken openssl.cnf
# changes nothing because gostsign never reads it.
. "$(dirname "$0")/lib.sh"

echo data >"$WORK/f"
expect_status "$(error_number ENGINE_MISSING)" env OPENSSL_ENGINES="$WORK/none" "$GOSTSIGN" digest "$WORK/f"
grep -q 'libengine-gost-openssl' "$WORK/err" || fail "error does not name the package"
ok "missing engine names libengine-gost-openssl"

printf '[openssl_init\nthis is not a config\n' >"$WORK/broken.cnf"
OPENSSL_CONF="$WORK/broken.cnf" "$GOSTSIGN" digest "$WORK/f" >/dev/null || fail "broken openssl.cnf broke gostsign"
ok "broken openssl.cnf is ignored"
echo "$PASSED passed, 0 failed"
