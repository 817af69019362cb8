#!/usr/bin/env bash
# gostsign doctor against fake USB devices (umockdev): a Rutoken ECP served by libccid, a
# Rutoken S without its vendor driver (fail, the fix names ifd-rutokens), the driver then
# "installed" in a private PC/SC drivers directory (ok), and the udev-rules check.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/doctor_lib.sh"
command -v umockdev-run >/dev/null || { echo "umockdev-run missing (apt install umockdev)"; exit 77; }
CCID_PLIST=/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist
[ -r "$CCID_PLIST" ] || { echo "libccid missing (apt install libccid)"; exit 77; }
DATA="$SOURCE_ROOT/tests/data/umockdev"
export PCSCLITE_CSOCK_NAME="$WORK/no-pcscd.comm" # no pcscd here: layer 3 must fail, not hang

# A drivers directory with libccid only, then with a stand-in ifd-rutokens bundle.
mkdir -p "$WORK/drivers/ifd-ccid.bundle/Contents"
cp "$CCID_PLIST" "$WORK/drivers/ifd-ccid.bundle/Contents/Info.plist"
export GOSTSIGN_PCSC_DRIVERS_DIR="$WORK/drivers"

run_doctor() { # OUT DEVICE-FILES...
    local out=$1 args=(); shift
    for f in "$@"; do args+=(--device "$DATA/$f"); done
    DOCTOR_RC=0
    umockdev-run "${args[@]}" -- "$GOSTSIGN" doctor --json --no-p11-kit >"$out" 2>"$WORK/err" || DOCTOR_RC=$?
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" || { cat "$WORK/err"; fail "JSON"; }
}

run_doctor "$WORK/ecp.json" rutoken-ecp.umockdev
verdict "$WORK/ecp.json" usb.device ok OK "" usb_id=0a89:0030 model="Rutoken ECP" driver=ccid
ok "Rutoken ECP found on the bus, model and driver from the hwdb table"
verdict "$WORK/ecp.json" driver.device ok OK "" bundle=ifd-ccid.bundle "friendly_name=Aktiv Rutoken ECP"
ok "libccid's Info.plist lists the Rutoken ECP"
verdict "$WORK/ecp.json" permissions.devnode ok OK "" devnode=/dev/bus/usb/001/005
ok "device node permission checked"
verdict "$WORK/ecp.json" permissions.udev_rules warn DEVICE_ACCESS "70-gostsign-tokens.rules"
ok "missing ID_GOSTSIGN_* properties: warn to install the rules"
verdict "$WORK/ecp.json" modules.device fail PKCS11_MODULE "librtpkcs11ecp" module=librtpkcs11ecp.so
ok "the vendor module librtpkcs11ecp.so is missing: fail naming it"
verdict "$WORK/ecp.json" pcsc.service fail PCSC_UNAVAILABLE "pcscd"
ok "no pcscd while a token is plugged in: fail"
[ "$DOCTOR_RC" -eq "$(error_number DOCTOR_FAILED)" ] || fail "exit $DOCTOR_RC"
ok "exit status is DOCTOR_FAILED"

run_doctor "$WORK/s.json" rutoken-s.umockdev
verdict "$WORK/s.json" usb.device ok OK "" usb_id=0a89:0020 model="Rutoken S" driver=ifd-rutokens
verdict "$WORK/s.json" driver.device fail READER_DRIVER_MISSING "ifd-rutokens" expected_driver=ifd-rutokens
ok "Rutoken S without its driver: fail, the fix names ifd-rutokens"
verdict "$WORK/s.json" permissions.udev_rules ok OK "" id_gostsign_properties=true
ok "udev properties from the hwdb are recognised"

# The vendor driver "installed": a bundle whose Info.plist lists 0x0A89/0x0020.
mkdir -p "$WORK/drivers/ifd-rutokens.bundle/Contents"
cat >"$WORK/drivers/ifd-rutokens.bundle/Contents/Info.plist" <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>ifdVendorID</key>
	<string>0x0A89</string>
	<key>ifdProductID</key>
	<string>0x0020</string>
	<key>ifdFriendlyName</key>
	<string>Rutoken S</string>
</dict>
</plist>
PLIST
run_doctor "$WORK/s2.json" rutoken-s.umockdev rutoken-ecp.umockdev
verdict "$WORK/s2.json" driver.device ok OK "" bundle=ifd-rutokens.bundle "friendly_name=Rutoken S"
verdict "$WORK/s2.json" driver.device ok OK "" bundle=ifd-ccid.bundle
ok "with the vendor bundle present both devices are served"

# libccid absent: the CCID device fails with the libccid fix.
rm -rf "$WORK/drivers/ifd-ccid.bundle"
run_doctor "$WORK/noccid.json" rutoken-ecp.umockdev
verdict "$WORK/noccid.json" driver.device fail READER_DRIVER_MISSING "libccid"
ok "no libccid: fail with the libccid fix"

# No device at all: layers 1, 2 and 4 are skipped, nothing about USB fails.
run_doctor "$WORK/none.json"
verdict "$WORK/none.json" usb.none skip OK
no_verdict "$WORK/none.json" driver.device fail
ok "no USB token: skipped, not failed"
echo "$PASSED passed, 0 failed"
