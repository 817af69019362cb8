#!/usr/bin/env bash
# OpenSC's pkcs11-tool self-tests run against gostsign-softtoken as an outside client would run
# them (issue 13): --test, --test-threads, --test-fork and --test-hotplug, plus the spec points
# pkcs11-tool shows from outside (return codes, token files).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"

TOKEN="conformance"
new_token "$TOKEN"
p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:B \
    --id 01 --label k256 >/dev/null 2>&1 || fail "keypairgen"

# --test: random, digests (the GOST ones cross-checked in softtoken_pkcs11tool), objects.
p11 --token-label $TOKEN -l --pin $USER_PIN --test >"$WORK/test" 2>&1 || { cat "$WORK/test"; fail "--test"; }
grep -q "No errors" "$WORK/test" || { cat "$WORK/test"; fail "--test reports errors"; }
ok "pkcs11-tool --test: no errors"

# --test-fork: the child's C_Initialize must succeed and give it its own module.
p11 --test-fork >"$WORK/fork" 2>&1 || { cat "$WORK/fork"; fail "--test-fork"; }
ok "pkcs11-tool --test-fork"

# --test-threads (as OpenSC's own test-pkcs11-tool-test-threads.sh): a thread initialises,
# reads the library and slot info and the token info while the main thread lists slots.
timeout 120 pkcs11-tool --module "$SOFTTOKEN_MODULE" --test-threads ILGISLT0 -L >"$WORK/threads" 2>&1 ||
    { cat "$WORK/threads"; fail "--test-threads"; }
grep -q "token label *: $TOKEN" "$WORK/threads" || { cat "$WORK/threads"; fail "--test-threads listing"; }
ok "pkcs11-tool --test-threads ILGISLT0 -L"

# --test-hotplug: a token file appearing and disappearing is seen by C_GetSlotList and
# reported by C_WaitForSlotEvent. pkcs11-tool asks for return between rounds; x ends a phase.
copy="$GOSTSIGN_SOFTTOKEN_DIR/hotplug.token"
{
    sleep 0.5; echo
    sleep 0.5; cp "$(token_file)" "$copy"; echo
    sleep 0.5; echo x
    sleep 0.5; echo
    sleep 1; rm -f "$copy"
    sleep 1; echo
    sleep 1; echo x
} | timeout 60 pkcs11-tool --module "$SOFTTOKEN_MODULE" --test-hotplug >"$WORK/hotplug" 2>&1 ||
    { cat "$WORK/hotplug"; fail "--test-hotplug"; }
grep -q "softtoken hotplug.token" "$WORK/hotplug" || { cat "$WORK/hotplug"; fail "C_GetSlotList missed the new token"; }
[ "$(grep -c 'C_WaitForSlotEvent: event on slot' "$WORK/hotplug")" -ge 1 ] ||
    { cat "$WORK/hotplug"; fail "C_WaitForSlotEvent reported no event"; }
ok "pkcs11-tool --test-hotplug: insertion listed, removal reported as an event"
# Templates the token cannot honour are refused, not accepted and ignored (issue 13.5).
for opt in --extractable --always-auth; do
    if p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:B \
        --id 0f --label refused $opt >"$WORK/refused" 2>&1; then
        fail "keypairgen $opt was accepted"
    fi
    grep -q CKR_ATTRIBUTE_VALUE_INVALID "$WORK/refused" || { cat "$WORK/refused"; fail "keypairgen $opt: no CKR_ATTRIBUTE_VALUE_INVALID"; }
done
p11 --token-label $TOKEN -l --pin $USER_PIN -O --type privkey 2>/dev/null | grep -q refused &&
    fail "a refused key pair was stored"
ok "pkcs11-tool --keypairgen --extractable / --always-auth: CKR_ATTRIBUTE_VALUE_INVALID"
echo "$PASSED passed, 0 failed"
