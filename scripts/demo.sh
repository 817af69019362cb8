#!/usr/bin/env bash
# The main job of gostsign on the built-in software token: set up a demo token with a test
# certificate, then log in to the demo "cabinet" with a GOST R 34.10-2012 signature and verify it.
# Installs missing Debian packages and builds first. Parts that are not built yet say "not yet".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
G=$ROOT/build/gostsign
OUT=${GOSTSIGN_DEMO_DIR:-$ROOT/demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }
not_yet() { printf '   (not yet: %s)\n' "$*"; }

step "1. GOST backend"
"$G" digest --bits 256 - <<<"gostsign" >/dev/null && echo "   OpenSSL + GOST engine: ok"

step "2. Demo token and certificate"
if [ -x build/gostsign-softtoken-setup ]; then
    export GOSTSIGN_SOFTTOKEN_DIR=$OUT/tokens
    build/gostsign-softtoken-setup --out "$OUT"
    CERT_SOURCE=token
else
    not_yet "software token (issue 3); using a file key from a throw-away test PKI"
    bash tests/data/make-test-pki.sh "$OUT/pki" >/dev/null
    cp "$OUT/pki/ca.pem" "$OUT/ca.pem"
    CERT_SOURCE=file
fi

step "3. Agent and native-messaging host"
not_yet "gostsign-agent and gostsign-nmhost (issues 4 and 8); signing locally"

step "4. Cabinet login: sign a server challenge"
CHALLENGE="cabinet-login:https://lk.example.gov.ru:$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$CHALLENGE" >"$OUT/challenge.txt"
echo "   challenge: $CHALLENGE"
if [ "$CERT_SOURCE" = file ]; then
    "$G" sign --key-file "$OUT/pki/employee.key" --cert "$OUT/pki/employee.pem" \
        "$OUT/challenge.txt" -o "$OUT/login.p7s"
fi
echo "   signature: $OUT/login.p7s ($(stat -c %s "$OUT/login.p7s") bytes, CMS detached, CAdES-BES)"

step "5. Relying party verifies"
"$G" verify --content "$OUT/challenge.txt" --ca-file "$OUT/ca.pem" "$OUT/login.p7s"
OPENSSL_CONF=/dev/null openssl cms -verify -engine gost -binary -inform DER -in "$OUT/login.p7s" \
    -content "$OUT/challenge.txt" -CAfile "$OUT/ca.pem" -out /dev/null 2>&1 | grep -v '^Engine' | sed 's/^/   openssl: /'
echo
echo "Demo finished: files are in $OUT"
