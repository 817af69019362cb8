#!/usr/bin/env bash
# The main job's login step: native-messaging/cabinet/run-demo-login.sh starts the agent and the
# demo cabinet and logs in through gostsign-nmhost; the cabinet must log the user in with the
# organisation's INN and OGRN and refuse the replayed and the tampered signature.
. "$(dirname "$0")/lib.sh"
export GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
bash "$SOURCE_ROOT/native-messaging/cabinet/run-demo-login.sh" "$BUILD_ROOT" "$WORK/out" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "run-demo-login.sh"; }
grep -q 'вошли как ООО "Ромашка", ИНН 7707083893, ОГРН 1027700132195' "$WORK/log" || { cat "$WORK/log"; fail "no login line"; }
ok "demo login: $(grep -o 'вошли как.*' "$WORK/log")"
grep -q "replay: ОТКЛОНЁН / refused (CHALLENGE_REUSED)" "$WORK/log" || fail "replay not refused"
ok "replayed signature refused"
grep -q "tampered: ОТКЛОНЕНА / refused" "$WORK/log" || fail "tampered signature not refused"
ok "tampered signature refused"
"$GOSTSIGN" verify --ca-file "$WORK/out/ca.pem" "$WORK/out/cabinet-login.p7s" >/dev/null || fail "saved login signature"
ok "the saved login signature verifies with gostsign verify"
echo "$PASSED passed, 0 failed"
