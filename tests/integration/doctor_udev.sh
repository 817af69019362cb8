#!/usr/bin/env bash
# udev/: systemd-hwdb compiles 70-gostsign-tokens.hwdb strictly and returns, for each device,
# exactly the values of the C table the build generates; the generator refuses bad entries.
. "$(dirname "$0")/lib.sh"
command -v systemd-hwdb >/dev/null || { echo "systemd-hwdb missing"; exit 77; }
HWDB="$SOURCE_ROOT/udev/70-gostsign-tokens.hwdb"
GEN="$SOURCE_ROOT/udev/gen-token-table.py"

mkdir -p "$WORK/root/etc/udev/hwdb.d"
cp "$HWDB" "$WORK/root/etc/udev/hwdb.d/"
systemd-hwdb update --root="$WORK/root" --strict 2>"$WORK/err" || { cat "$WORK/err"; fail "hwdb update"; }
[ ! -s "$WORK/err" ] || { cat "$WORK/err"; fail "hwdb warnings"; }
ok "systemd-hwdb compiles the hwdb with --strict and no warning"

python3 "$GEN" "$HWDB" "$WORK/table.c" || fail "generator"
# Each table row against what udev would set for a real modalias of that device.
n=0
while IFS=$'\t' read -r vid pid model driver module; do
    q=$(systemd-hwdb query --root="$WORK/root" "usb:v${vid}p${pid}d0100dc00dsc00dp00ic0Bisc00ip00in00")
    grep -qxF "ID_GOSTSIGN_MODEL=$model" <<<"$q" || fail "$vid:$pid model: $q"
    grep -qxF "ID_GOSTSIGN_DRIVER=$driver" <<<"$q" || fail "$vid:$pid driver: $q"
    grep -qxF "ID_GOSTSIGN_MODULE=$module" <<<"$q" || fail "$vid:$pid module: $q"
    n=$((n + 1))
done < <(python3 - "$WORK/table.c" <<'PY'
import re, sys
for m in re.finditer(r'\{ 0x([0-9a-f]{4}), 0x([0-9a-f]{4}), "([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)", "([^"]*)"',
                     open(sys.argv[1]).read()):
    vid, pid, vendor, model, driver, dpkg, module = m.groups()
    print("\t".join([vid.upper(), pid.upper(), model, driver, module]))
PY
)
[ "$n" -ge 15 ] || fail "only $n table rows"
ok "udev's hwdb query and the generated C table agree for all $n devices"

q=$(systemd-hwdb query --root="$WORK/root" "usb:v1D6Bp0002d0100dc09dsc00dp01")
! grep -q ID_GOSTSIGN <<<"$q" || fail "a root hub got gostsign properties"
ok "unknown devices get no ID_GOSTSIGN_* property"

# The generator refuses what the hwdb would silently damage or what the table cannot hold.
bad() { # NAME TEXT
    printf '%s\n' "$2" >"$WORK/bad.hwdb"
    if python3 "$GEN" "$WORK/bad.hwdb" "$WORK/bad.c" 2>/dev/null; then fail "generator accepted: $1"; fi
}
entry='# source: test
usb:v0A89p0030*
 ID_GOSTSIGN_VENDOR=V
 ID_GOSTSIGN_MODEL=M
 ID_GOSTSIGN_DRIVER=ccid
 ID_GOSTSIGN_DRIVER_PACKAGE=libccid
 ID_GOSTSIGN_MODULE=x.so
 ID_GOSTSIGN_MODULE_PACKAGE=x'
printf '%s\n' "$entry" >"$WORK/good.hwdb"
python3 "$GEN" "$WORK/good.hwdb" "$WORK/good.c" || fail "generator refused a good entry"
bad "hash in a value" "${entry/ID_GOSTSIGN_MODEL=M/ID_GOSTSIGN_MODEL=PKCS#11}"
bad "lower-case match" "${entry/usb:v0A89p0030\*/usb:v0a89p0030*}"
bad "missing source" "${entry/\# source: test/}"
bad "missing property" "${entry/ ID_GOSTSIGN_MODULE=x.so/}"
bad "duplicate device" "$entry

$entry"
ok "the generator refuses '#', lower-case IDs, missing source/property and duplicates"

grep -q 'TAG+="uaccess"' "$SOURCE_ROOT/udev/70-gostsign-tokens.rules" || fail "rules lack uaccess"
grep -q 'IMPORT{builtin}="hwdb --subsystem=usb"' "$SOURCE_ROOT/udev/70-gostsign-tokens.rules" || fail "rules lack hwdb import"
ok "rules import the hwdb and tag known tokens uaccess"
echo "$PASSED passed, 0 failed"
