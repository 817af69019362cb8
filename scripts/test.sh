#!/usr/bin/env bash
# Runs every test of gostsign on a fresh Debian 12 machine: installs what is missing, builds,
# runs all suites in a normal build and in an ASan+UBSan build, runs clang's static analyzer
# (scan-build) over a separate build, then runs each libFuzzer target for a short time.
# Prints each skipped test with its reason and one closing line "N passed, N failed, N skipped".
# With CI set (CI=true in CI), a skipped test also counts as failed: CI must run every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

bash scripts/deps.sh

total_pass=0
total_fail=0
total_skip=0
# Adds the counts of a finished meson test run to the totals and prints each skipped test with
# the last line it printed (its reason).
count_results() {
    local log=$1/meson-logs/testlog.json
    [ -f "$log" ] || return 0
    local p f k
    read -r p f k < <(/usr/bin/python3 - "$log" "$1" <<'PY'
import json, sys
counts = {"pass": 0, "fail": 0, "skip": 0}
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t.get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        counts["pass"] += 1
    elif r == "SKIP":
        counts["skip"] += 1
        out = [l for l in (t.get("stdout") or "").splitlines() if l.strip()]
        print("SKIPPED %s (%s): %s" % (t["name"], sys.argv[2], out[-1] if out else "no reason given"),
              file=sys.stderr)
    else:
        counts["fail"] += 1
print(counts["pass"], counts["fail"], counts["skip"])
PY
    )
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + k))
    if [ "$k" -gt 0 ] && [ -n "${CI:-}" ]; then
        echo "CI is set: the $k skipped test(s) above count as failed"
        total_fail=$((total_fail + k))
        return 1
    fi
}

# One build configuration: setup (or reconfigure), compile, test.
run_build() {
    local dir=$1; shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
    if ! ninja -C "$dir"; then
        echo "build in $dir failed"
        total_fail=$((total_fail + 1))
        return 1
    fi
    local rc=0
    meson test -C "$dir" --print-errorlogs --num-processes 2 $TEST_ARGS || rc=$?
    count_results "$dir" || rc=1
    return $rc
}

status=0
echo "== normal build"
TEST_ARGS="" run_build build || status=1
# Not skips: the foreign-loader suite cannot run under ASan (see tests/meson.build), and the
# package suite installs the .deb into this machine once, from the normal build's pass.
echo "== ASan + UBSan build (without the foreign-loader and package suites: see tests/meson.build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 TEST_ARGS="--no-suite foreign-loader --no-suite package" \
    run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1

echo "== clang static analyzer (scan-build --status-bugs, one result in the totals)"
# A fresh build under scan-build, so every file is analysed; any finding fails the phase.
run_scan_build() {
    local dir=build-scan report=build-scan/report
    rm -rf "$dir"
    scan-build -o "$report" meson setup "$dir" -Dtests=false >/dev/null || return 1
    scan-build -o "$report" --status-bugs ninja -C "$dir"
}
if run_scan_build; then
    echo "scan-build: no findings"
    total_pass=$((total_pass + 1))
else
    echo "scan-build: findings or a failed build; the HTML reports are under build-scan/report"
    total_fail=$((total_fail + 1)); status=1
fi

echo "== libFuzzer targets (${FUZZ_SECONDS}s each)"
if CC=clang meson setup build-fuzz -Dfuzzing=true -Dc_args=-fsanitize=fuzzer-no-link \
        -Db_sanitize=address,undefined -Db_lundef=false \
        >/dev/null 2>&1 || [ -d build-fuzz ]; then
    if ! ninja -C build-fuzz; then
        echo "fuzz build failed"
        total_fail=$((total_fail + 1)); status=1
    fi
    fuzzers_run=0
    for fz in build-fuzz/tests/fuzz/fuzz_*; do
        [ -f "$fz" ] && [ -x "$fz" ] || continue # skip meson's fuzz_*.p object directories
        fuzzers_run=$((fuzzers_run + 1))
        name=${fz##*/fuzz_}
        corpus=$(mktemp -d)
        cp -r "$ROOT/tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null || true
        if "$fz" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -max_len=65536 -timeout=10 "$corpus" \
                >"build-fuzz/$name.log" 2>&1; then
            echo "fuzz $name: ok ($(grep -a -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/$name.log" | awk '{print $2}') runs)"
            total_pass=$((total_pass + 1))
        else
            echo "fuzz $name: CRASH, see build-fuzz/$name.log"; tail -40 "build-fuzz/$name.log"
            total_fail=$((total_fail + 1)); status=1
        fi
        rm -rf "$corpus"
    done
    # every target in tests/fuzz must have run: a moved build directory must not pass silently
    want=$(ls "$ROOT"/tests/fuzz/fuzz_*.c | wc -l)
    if [ "$fuzzers_run" -ne "$want" ]; then
        echo "fuzz: $fuzzers_run of $want targets ran"
        total_fail=$((total_fail + 1)); status=1
    fi
fi

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
