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
# PKCS#11 3.0 discovery (issue 13.7): OpenSC's pkcs11-spy, a 3.0-aware loader, reaches the
# module through C_GetInterface("PKCS 11") and pkcs11-tool works through it.
spy=$(ls /usr/lib/*/pkcs11/pkcs11-spy.so 2>/dev/null | head -1)
if [ -n "$spy" ]; then
    PKCS11SPY="$SOFTTOKEN_MODULE" PKCS11SPY_OUTPUT="$WORK/spy.log" \
        pkcs11-tool --module "$spy" --token-label $TOKEN -O >"$WORK/spied" 2>&1 ||
        { cat "$WORK/spied"; fail "pkcs11-tool through pkcs11-spy"; }
    awk '/C_GetInterface/ { f = 1 } f && /Returned:/ { print; exit }' "$WORK/spy.log" | grep -q CKR_OK ||
        { cat "$WORK/spy.log"; fail "C_GetInterface not reached or failed"; }
    grep -q "Public Key Object" "$WORK/spied" || fail "no objects through the interface"
    ok "pkcs11-spy loads the module through C_GetInterface"
fi
# Token files (issue 13.6). A writer killed mid-write leaves ".NAME.PID.tmp": the next module
# start removes it once that process is gone, and keeps a live writer's.
sh -c 'exit 0' & dead=$!
wait $dead
stale="$GOSTSIGN_SOFTTOKEN_DIR/.$(basename "$(token_file)").$dead.tmp"
live="$GOSTSIGN_SOFTTOKEN_DIR/.$(basename "$(token_file)").$$.tmp"
echo partial >"$stale"
echo partial >"$live"
p11 -L >/dev/null 2>&1 || fail "pkcs11-tool -L with stale temporary files"
[ ! -e "$stale" ] || fail "stale temporary file left"
[ -e "$live" ] || fail "a live writer's temporary file was removed"
rm -f "$live"
ok "stale .NAME.PID.tmp removed at load, a live writer's kept"

# A damaged file is refused (never silently replaced) with a message that names its previous
# good copy; gostsign-softtoken-setup --repair restores that copy and keeps the damaged file.
# A last change (a data object) first: the previous copy is the token before it. Logins do not
# write the token file (the attempt journal counts them), so they make no previous copy.
echo "last change" >"$WORK/note"
p11 --token-label $TOKEN -l --pin $USER_PIN --write-object "$WORK/note" --type data \
    --label lastchange >/dev/null 2>&1 || fail "writing a data object"
f=$(token_file)
size=$(stat -c %s "$f")
printf '\x55' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
cp "$f" "$WORK/damaged"
if p11 --token-label $TOKEN -O >"$WORK/out" 2>"$WORK/err"; then fail "damaged token opened"; fi
grep -q "previous good copy" "$WORK/err" || { cat "$WORK/err"; fail "no word of the previous copy"; }
cmp -s "$f" "$WORK/damaged" || fail "the damaged file was changed without --repair"
"$SOFTTOKEN_SETUP" --repair --module "$SOFTTOKEN_MODULE" >"$WORK/repair" 2>&1 ||
    { cat "$WORK/repair"; fail "gostsign-softtoken-setup --repair"; }
grep -q "restored from the previous copy" "$WORK/repair" || { cat "$WORK/repair"; fail "nothing restored"; }
cmp -s "$GOSTSIGN_SOFTTOKEN_DIR/.$(basename "$f").damaged" "$WORK/damaged" || fail "damaged file not kept"
p11 --token-label $TOKEN -l --pin $USER_PIN -O 2>/dev/null | grep -q "Private Key Object" ||
    fail "repaired token unusable"
p11 --token-label $TOKEN -O 2>/dev/null | grep -q lastchange && fail "the lost last change survived"
ok "damaged file refused, named previous copy restored by --repair"
echo "$PASSED passed, 0 failed"
