#!/usr/bin/env bash
# The user-PIN retry counter survives kill -9: the module writes the decrement to disk before it
# checks the PIN, so killing the process in that window never refunds the attempt (even with
# the correct PIN). The test hook pauses right after the fsync'ed decrement.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
TOKEN=crash
new_token $TOKEN

# attempt_and_kill PIN: starts a login, waits for the on-disk decrement, SIGKILLs the process.
attempt_and_kill() {
    : >"$WORK/hook"
    GOSTSIGN_SOFTTOKEN_TEST_PAUSE_AFTER_DECREMENT=30 \
        pkcs11-tool --module "$SOFTTOKEN_MODULE" --token-label $TOKEN -l --pin "$1" -O \
        >/dev/null 2>"$WORK/hook" &
    local pid=$! i
    for i in $(seq 1 100); do
        grep -q "test hook" "$WORK/hook" && break
        sleep 0.1
    done
    grep -q "test hook" "$WORK/hook" || fail "hook not reached"
    kill -9 $pid
    wait $pid 2>/dev/null || true
}

token_flags $TOKEN | grep -q "count low" && fail "count low before any attempt"
attempt_and_kill $USER_PIN
token_flags $TOKEN | grep -q "user PIN count low" || { token_flags $TOKEN; fail "no COUNT_LOW after a killed login"; }
ok "kill -9 after the decrement (correct PIN): new process sees COUNT_LOW"
for n in 2 3 4 5 6 7 8; do attempt_and_kill 11111111; done
token_flags $TOKEN | grep -q "final user PIN try" && fail "FINAL_TRY too early (8 attempts used)"
attempt_and_kill 11111111
token_flags $TOKEN | grep -q "final user PIN try" || { token_flags $TOKEN; fail "no FINAL_TRY after 9 killed attempts"; }
ok "nine killed attempts leave exactly one: FINAL_TRY"
p11 --token-label $TOKEN -l --pin $USER_PIN -O >/dev/null 2>&1 || fail "correct PIN refused"
token_flags $TOKEN | grep -Eq "count low|final user PIN try" && fail "counter not restored after success"
ok "a successful login restores the counter; the file survived every kill"
echo "$PASSED passed, 0 failed"
