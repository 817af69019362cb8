#!/usr/bin/env bash
# Issue 17, target 4: C_Login with a correct PIN writes the token file at most once (the attempt
# journal ".NAME.attempts" counts the attempt with one fdatasync before the PIN check; the token
# file is not rewritten), counted with strace on renames and syncs. Wrong PINs stay counted
# without a rewrite, a success clears them, and the SO's C_InitPIN unblocks a locked user PIN.
# The kill -9 window after the journal write is tests/integration/softtoken_pin_crash.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
command -v strace >/dev/null || fail "strace missing (scripts/deps.sh installs it)"
TOKEN=writes
new_token $TOKEN
p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:A \
    --id 01 --label k >/dev/null 2>&1 || fail "keypairgen"

# traced_login PIN: one pkcs11-tool login + object listing under strace; sets RENAMES (renames
# onto a .token file) and SYNCS (fsync + fdatasync calls of the whole process).
traced_login() {
    strace -f -qq -e trace=rename,renameat,renameat2,fsync,fdatasync -o "$WORK/trace" \
        pkcs11-tool --module "$SOFTTOKEN_MODULE" --token-label $TOKEN -l --pin "$1" -O \
        >"$WORK/listing" 2>&1 || true
    RENAMES=$(grep -cE 'rename.*\.token"' "$WORK/trace" || true)
    SYNCS=$(grep -cE '(fsync|fdatasync)\(' "$WORK/trace" || true)
}

# the first login of a token creates the journal: its fdatasync and the directory's fsync
traced_login $USER_PIN
grep -q "Private Key Object" "$WORK/listing" || { cat "$WORK/listing"; fail "first login failed"; }
[ "$RENAMES" -eq 0 ] || { cat "$WORK/trace"; fail "first login rewrote the token file ($RENAMES renames)"; }
[ "$SYNCS" -le 2 ] || { cat "$WORK/trace"; fail "first login: $SYNCS syncs"; }
ok "first correct login: no token file rewrite, $SYNCS syncs (journal created)"
traced_login $USER_PIN
grep -q "Private Key Object" "$WORK/listing" || fail "second login failed"
[ "$RENAMES" -eq 0 ] && [ "$SYNCS" -eq 1 ] ||
    { cat "$WORK/trace"; fail "correct login: $RENAMES renames, $SYNCS syncs (want 0 and 1)"; }
ok "correct login: 0 renames, 1 fdatasync (the attempt, before the PIN check)"
[ -f "$GOSTSIGN_SOFTTOKEN_DIR/.$(basename "$(token_file)").attempts" ] || fail "no attempt journal"
[ "$(stat -c %a "$GOSTSIGN_SOFTTOKEN_DIR/.$(basename "$(token_file)").attempts")" = 600 ] ||
    fail "attempt journal is not 0600"

traced_login 11111111
grep -q "CKR_PIN_INCORRECT" "$WORK/listing" || { cat "$WORK/listing"; fail "wrong PIN accepted"; }
[ "$RENAMES" -eq 0 ] || fail "a wrong PIN rewrote the token file"
token_flags $TOKEN | grep -q "user PIN count low" || { token_flags $TOKEN; fail "wrong PIN not counted"; }
ok "wrong PIN: counted (COUNT_LOW) without a token file rewrite"
traced_login $USER_PIN
token_flags $TOKEN | grep -q "count low" && { token_flags $TOKEN; fail "success did not clear the count"; }
ok "a correct PIN clears the counted attempt"

for i in $(seq 1 10); do
    p11 --token-label $TOKEN -l --pin 11111111 -O >/dev/null 2>&1 && fail "wrong PIN accepted"
done
token_flags $TOKEN | grep -q "user PIN locked" || { token_flags $TOKEN; fail "not locked after 10 wrong PINs"; }
p11 --token-label $TOKEN -l --pin $USER_PIN -O >"$WORK/out" 2>&1 && fail "locked PIN accepted"
grep -q CKR_PIN_LOCKED "$WORK/out" || { cat "$WORK/out"; fail "no CKR_PIN_LOCKED"; }
ok "ten wrong PINs lock the user PIN (CKR_PIN_LOCKED, even for the right one)"
p11 --token-label $TOKEN --login --login-type so --so-pin $SO_PIN --init-pin --pin $USER_PIN \
    >/dev/null 2>&1 || fail "SO init-pin"
token_flags $TOKEN | grep -Eq "locked|count low" && { token_flags $TOKEN; fail "SO did not unblock"; }
p11 --token-label $TOKEN -l --pin $USER_PIN -O 2>/dev/null | grep -q "Private Key Object" ||
    fail "login after unblocking"
ok "the SO's C_InitPIN unblocks: journaled attempts cleared"
echo "$PASSED passed, 0 failed"
