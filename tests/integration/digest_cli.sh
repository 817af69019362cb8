#!/usr/bin/env bash
# `gostsign digest` prints exactly what `openssl dgst` with the GOST engine prints.
. "$(dirname "$0")/lib.sh"

printf '012345678901234567890123456789012345678901234567890123456789012' >"$WORK/m1"
: >"$WORK/empty"
head -c 1000003 /dev/urandom >"$WORK/random"
cd "$WORK"
for f in m1 empty random; do
    for bits in 256 512; do
        want=$(ossl dgst -engine gost -md_gost12_$bits "$f" 2>/dev/null)
        got=$("$GOSTSIGN" digest --bits $bits "$f")
        [ "$got" = "$want" ] || fail "$f/$bits: got '$got', openssl '$want'"
        ok "digest $f $bits matches openssl dgst"
    done
done
want=$(ossl dgst -engine gost -md_gost12_256 <random 2>/dev/null)
got=$("$GOSTSIGN" digest - <random)
[ "$got" = "$want" ] || fail "stdin: got '$got', openssl '$want'"
ok "stdin matches openssl dgst"

expect_status "$(error_number IO_ERROR)" "$GOSTSIGN" digest /nonexistent/file
grep -q IO_ERROR "$WORK/err" || fail "missing IO_ERROR in message"
ok "missing file gives IO_ERROR"
expect_status "$(error_number USAGE)" "$GOSTSIGN" digest --bits 384 m1
ok "bad --bits gives USAGE"

# Constant memory: hash 256 MiB from a pipe and check peak RSS stays small.
if command -v /usr/bin/time >/dev/null; then
    head -c $((256 * 1024 * 1024)) /dev/zero | /usr/bin/time -f '%M' -o "$WORK/rss" "$GOSTSIGN" digest - >/dev/null
    rss=$(cat "$WORK/rss")
    [ "$rss" -lt 65536 ] || fail "peak RSS ${rss} KiB while hashing 256 MiB"
    ok "256 MiB hashed with peak RSS ${rss} KiB"
fi
echo "$PASSED passed, 0 failed"
