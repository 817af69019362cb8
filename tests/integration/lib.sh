# Shared helpers for the shell integration tests. Each test sources this file.
set -euo pipefail

: "${GOSTSIGN:?GOSTSIGN must point at the built gostsign binary}"
: "${SOURCE_ROOT:?}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gostsign-${TEST_NAME}.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# The agent keeps its wrong-PIN counters under $XDG_STATE_HOME: one fresh place per test, so no
# test inherits another's pause (demo tokens of every test share one serial).
export XDG_STATE_HOME=$WORK/state
# The accredited-CA store of the user (gostsign trust): a fresh, empty place per test.
export XDG_DATA_HOME=$WORK/data
# Messages follow the locale (LC_ALL, LC_MESSAGES, LANG): English unless a test asks for Russian.
export LANG=C.UTF-8
unset LC_ALL LC_MESSAGES
PASSED=0

# openssl with the GOST engine, independent of the user's openssl.cnf.
ossl() { OPENSSL_CONF=/dev/null openssl "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { PASSED=$((PASSED + 1)); echo "ok $PASSED - $*"; }

# expect_status WANT CMD... : runs CMD, checks its exit status equals WANT.
expect_status() {
    local want=$1; shift
    local got=0
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    [ "$got" -eq "$want" ] || { cat "$WORK/err" >&2; fail "'$*' exited $got, expected $want"; }
}

# error_number NAME: the exit status gostsign uses for a symbolic error code.
error_number() { "$GOSTSIGN" errors | awk -v n="$1" '$2 == n { print $1 }'; }
