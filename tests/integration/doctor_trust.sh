#!/usr/bin/env bash
# Issue 15 in `gostsign doctor`: the accredited-CA store check (missing, present, older than 30
# days), the certificate on the demo token judged against the store (its CA is not in the list:
# not qualified, named), days left with the 30- and 7-day warnings naming the CA to renew with,
# the expired certificate's fix naming the clock, and the clock check, all with the clock moved
# by faketime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
: "${SOFTTOKEN_SETUP:?}"
command -v faketime >/dev/null || fail "faketime is not installed (scripts/deps.sh installs it)"

"$SOFTTOKEN_SETUP" --out "$WORK/demo" >"$WORK/setup.out" 2>&1 || { cat "$WORK/setup.out"; fail "setup"; }
bash "$SOURCE_ROOT/tests/data/make-test-tsl.sh" "$WORK/tsl" >/dev/null 2>&1 || fail "make-test-tsl.sh"
run_doctor() { doctor "$WORK/d.json" --no-p11-kit --module "$SOFTTOKEN_MODULE" "$@"; }
# faketime_at DAYS_BEFORE_NOT_AFTER: a faketime spec that many days before the demo certificate ends.
end=$(ossl x509 -in "$WORK/demo/cert.pem" -noout -enddate | sed 's/notAfter=//')
faketime_at() { date -u -d "$end - $1 days" '+@%Y-%m-%d %H:%M:%S'; }
faketime_after() { date -u -d "$end + $1 days" '+@%Y-%m-%d %H:%M:%S'; }

run_doctor
verdict "$WORK/d.json" certificates.trust_list warn TRUST_STORE_MISSING "gostsign trust update"
verdict "$WORK/d.json" certificates.certificate ok OK "" has_private_key=true
verdict "$WORK/d.json" certificates.clock ok OK
ok "no store: certificates.trust_list warns TRUST_STORE_MISSING; the certificate and clock are ok"

"$GOSTSIGN" trust update --tsl "$WORK/tsl/tsl.xml" >/dev/null || fail "trust update"
run_doctor
verdict "$WORK/d.json" certificates.trust_list ok OK "" version=100 accredited=3
verdict "$WORK/d.json" certificates.certificate warn CA_NOT_ACCREDITED "accredited" \
    chain=not_accredited qualified=false
ok "with the store: the demo certificate (CA outside the list) is not called qualified"

faketime -f "$(faketime_at 20)" "$GOSTSIGN" doctor --json --no-p11-kit --module "$SOFTTOKEN_MODULE" \
    >"$WORK/d20.json" 2>/dev/null || true
verdict "$WORK/d20.json" certificates.certificate warn CERT_EXPIRES_SOON "gostsign demo" \
    expiry_warning=30_days "renew_with=gostsign demo"
faketime -f "$(faketime_at 3)" "$GOSTSIGN" doctor --json --no-p11-kit --module "$SOFTTOKEN_MODULE" \
    >"$WORK/d3.json" 2>/dev/null || true
verdict "$WORK/d3.json" certificates.certificate warn CERT_EXPIRES_SOON "gostsign demo" \
    expiry_warning=7_days
python3 - "$WORK/d3.json" <<'PY' || fail "the 7-day warning does not say renew now"
import json, sys
doc = json.load(open(sys.argv[1]))
c = [c for l in doc["layers"] for c in l["checks"] if c["id"] == "certificates.certificate"][0]
assert "renew now" in c["message"] and "немедленно" in c["message_ru"], c
assert c["evidence"]["days_left"] < 7, c
PY
verdict "$WORK/d3.json" certificates.trust_list warn TRUST_LIST_OLD "trust update"
ok "20 and 3 days before the end: CERT_EXPIRES_SOON at 30 and 7 days naming the CA; the list is old"

faketime -f "$(faketime_after 2)" "$GOSTSIGN" doctor --json --no-p11-kit --module "$SOFTTOKEN_MODULE" \
    >"$WORK/dx.json" 2>/dev/null || true
verdict "$WORK/dx.json" certificates.certificate fail CERT_EXPIRED "timedatectl"
ok "after the end: CERT_EXPIRED, and the fix names the clock first"

faketime -f '-400d' "$GOSTSIGN" doctor --json --no-p11-kit --module "$SOFTTOKEN_MODULE" \
    >"$WORK/dc.json" 2>/dev/null || true
verdict "$WORK/dc.json" certificates.clock warn CLOCK_WRONG "timedatectl set-ntp"
ok "a clock 400 days behind: certificates.clock warns CLOCK_WRONG"
echo "PASS: $PASSED checks"
