#!/usr/bin/env bash
# gostsign doctor with a real pcscd and a virtual reader and card (vsmartcard): vpcd is the
# reader driver, vicc the card. The doctor must see the reader and the card's ATR, then, after
# the card is taken away (vicc stopped), the reader without a card; and without pcscd, a failure.
# pcscd runs in a private mount namespace (its socket directory /run/pcscd is a private tmpfs),
# so a pcscd of the machine is neither disturbed nor used.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
command -v pcscd >/dev/null || { echo "pcscd missing (apt install pcscd)"; exit 77; }
VPCD=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
[ -r "$VPCD" ] || { echo "vpcd missing (apt install vsmartcard-vpcd)"; exit 77; }
# The card: a `vicc` on PATH (scripts/deps.sh installs one), else the project's own launcher,
# which finds Debian's python3-virtualsmartcard outside Python's path and maps PyCrypto's
# "Crypto" to pycryptodome's "Cryptodome".
VICC=$(command -v vicc || echo "$SOURCE_ROOT/scripts/vicc")
/usr/bin/python3 - <<'PY' || { echo "python3-virtualsmartcard or python3-pycryptodome missing"; exit 77; }
import importlib.util, os, sys
ok = any(os.path.isdir(d + "/virtualsmartcard") for d in
         ["/usr/lib/python3/site-packages/virtualsmartcard", "/usr/lib/python3/dist-packages"])
sys.exit(0 if ok and (importlib.util.find_spec("Cryptodome") or importlib.util.find_spec("Crypto")) else 1)
PY

if [ -z "${DOCTOR_PCSC_NAMESPACE:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "needs root for a private mount namespace: skipped"; exit 77; }
    export DOCTOR_PCSC_NAMESPACE=1
    trap - EXIT
    rc=0
    unshare -m --propagation private bash "$0" "$@" || rc=$?
    rm -rf "$WORK"
    exit $rc
fi

mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || { echo "cannot mount /run/pcscd: skipped"; exit 77; }
unset PCSCLITE_CSOCK_NAME
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

doctor "$WORK/nopcscd.json" --no-p11-kit
verdict "$WORK/nopcscd.json" pcsc.service skip OK
ok "no pcscd and no reader or USB token: no warning (software tokens need no pcscd; issue 14)"

PORT=$((20000 + RANDOM % 20000))
mkdir -p "$WORK/reader.conf.d"
printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n' \
    "$PORT" "$VPCD" "$PORT" >"$WORK/reader.conf.d/vpcd"
pcscd -f -c "$WORK/reader.conf.d" >"$WORK/pcscd.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 50); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
[ -S /run/pcscd/pcscd.comm ] || { cat "$WORK/pcscd.log"; fail "pcscd did not start"; }

# vpcd's first slot listens on PORT (its second on PORT+1).
READER="Virtual PCD 00 00"
# card_state JSON STATUS: the pcsc.card check of READER has STATUS.
card_state() {
    python3 - "$1" "$2" "$READER" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(c["id"] == "pcsc.card" and c["status"] == sys.argv[2]
                  and c["evidence"]["reader"] == sys.argv[3]
                  for l in d["layers"] for c in l["checks"]) else 1)
PY
}

# Reader present, no card yet.
doctor "$WORK/empty.json" --no-p11-kit
verdict "$WORK/empty.json" pcsc.service ok OK
verdict "$WORK/empty.json" pcsc.readers ok OK
verdict "$WORK/empty.json" pcsc.card warn TOKEN_NOT_FOUND "Insert the card" "reader=$READER"
ok "pcscd answers; the virtual reader is listed without a card"

# Insert: vicc connects to vpcd's port.
"$VICC" -P "$PORT" >"$WORK/vicc.log" 2>&1 </dev/null &
CARD=$!
PIDS+=($CARD)
for _ in $(seq 100); do
    doctor "$WORK/card.json" --no-p11-kit
    card_state "$WORK/card.json" ok && break
    sleep 0.2
done
# The ATR the doctor reports must be the one pcscd itself gives (cross-check with a second client).
ATR=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([c for l in d["layers"] for c in l["checks"]
       if c["id"] == "pcsc.card" and c["evidence"]["reader"] == "Virtual PCD 00 00"][0]["evidence"].get("atr", ""))' \
    "$WORK/card.json") || { cat "$WORK/vicc.log"; fail "no card seen after vicc started"; }
[ -n "$ATR" ] || fail "empty ATR"
verdict "$WORK/card.json" pcsc.card ok OK "" "reader=$READER" "atr=$ATR"
ok "card inserted: reader with the card's ATR $ATR"
if command -v opensc-tool >/dev/null; then
    SEEN=$(opensc-tool --reader 0 --atr 2>/dev/null | tr -d ' :' | tr a-f A-F || true)
    [ "$SEEN" = "$ATR" ] || fail "opensc-tool reports ATR '$SEEN', doctor '$ATR'"
    ok "opensc-tool sees the same ATR"
fi

# Remove: stop vicc; the reader stays, the card goes.
kill "$CARD"
wait "$CARD" 2>/dev/null || true
for _ in $(seq 100); do
    doctor "$WORK/removed.json" --no-p11-kit
    card_state "$WORK/removed.json" warn && break
    sleep 0.2
done
verdict "$WORK/removed.json" pcsc.card warn TOKEN_NOT_FOUND "Insert the card" "reader=$READER"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(1 if any("atr" in c["evidence"] for l in d["layers"] for c in l["checks"] if c["id"] == "pcsc.card") else 0)' \
    "$WORK/removed.json" || fail "an ATR is still reported after the card was removed"
ok "card removed: the reader has no card any more"
echo "$PASSED passed, 0 failed"
