#!/usr/bin/env bash
# A corrupt or truncated token file gives a clean error (CKR_TOKEN_NOT_RECOGNIZED, a message
# naming the file) and is never rewritten or reset.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
TOKEN=fragile
new_token $TOKEN
p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:A --id 01 >/dev/null 2>&1 || fail keygen
f=$(token_file)
cp "$f" "$WORK/good"
size=$(stat -c %s "$f")

# check_clean_error WHAT: the module refuses the file and leaves it byte-for-byte unchanged.
check_clean_error() {
    local before
    before=$(sha256sum <"$f")
    if p11 --slot 0 -l --pin $USER_PIN -O >"$WORK/out" 2>"$WORK/err"; then fail "$1: damaged token opened"; fi
    grep -q "CKR_TOKEN_NOT_RECOGNIZED" "$WORK/err" || { cat "$WORK/err"; fail "$1: no CKR_TOKEN_NOT_RECOGNIZED"; }
    grep -q "is damaged" "$WORK/err" || fail "$1: no diagnostic naming the file"
    p11 --slot 0 --init-token --label again --so-pin $SO_PIN >/dev/null 2>&1 && fail "$1: C_InitToken reset a damaged file"
    [ "$(sha256sum <"$f")" = "$before" ] || fail "$1: file was modified"
    ok "$1: clean CKR_TOKEN_NOT_RECOGNIZED, file untouched"
}
printf '\x55' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
check_clean_error "flipped byte"
cp "$WORK/good" "$f"
truncate -s $((size - 10)) "$f"
check_clean_error "truncated file"
: >"$f"
check_clean_error "empty file"
cp "$WORK/good" "$f"
p11 --token-label $TOKEN -l --pin $USER_PIN -O 2>/dev/null | grep -q "Private Key Object" || fail "restored file unusable"
ok "restored file works again"
echo "$PASSED passed, 0 failed"
