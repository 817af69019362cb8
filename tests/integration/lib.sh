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

# free_port: a TCP port on 127.0.0.1 that nobody listens on at this moment (for loopback servers).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# write_gost_openssl_conf FILE: an openssl.cnf that loads the GOST engine for every algorithm,
# for openssl commands without an -engine option (openssl ocsp).
write_gost_openssl_conf() {
    cat >"$1" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
default_algorithms = ALL
CNF
}

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
