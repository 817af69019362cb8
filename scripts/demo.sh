#!/usr/bin/env bash
# The main job of gostsign on the built-in software token: a demo token with a test certificate,
# the signing agent, the native-messaging host, and a cabinet login whose signature the relying
# party verifies; then the same login through the Gosuslugi (IFCPlugin) adapter in a real headless
# Chromium on an ESIA-style page. Installs missing Debian packages and builds first.
#
#   GOSTSIGN_DEMO_DIR        where to put the demo files (default: ./demo-out)
#   GOSTSIGN_DEMO_PINENTRY   a real pinentry (e.g. /usr/bin/pinentry-tty) to type the PIN yourself;
#                            by default the demo answers with the demo token's PIN 12345678
#   GOSTSIGN_BUILD_DIR       the build folder to use (default: ./build, set up when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh
B=${GOSTSIGN_BUILD_DIR:-$ROOT/build}
[ -d "$B" ] || meson setup "$B" >/dev/null
ninja -C "$B" >/dev/null
OUT=${GOSTSIGN_DEMO_DIR:-$ROOT/demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"
export GOSTSIGN_SOFTTOKEN_DIR=$OUT/tokens

step() { printf '\n== %s\n' "$*"; }

step "1. GOST backend (OpenSSL + GOST engine)"
printf 'gostsign' >"$OUT/probe.txt"
ours=$("$B/cli/gostsign" digest --bits 256 "$OUT/probe.txt" | cut -d' ' -f2)
theirs=$(OPENSSL_CONF=/dev/null openssl dgst -engine gost -md_gost12_256 "$OUT/probe.txt" 2>/dev/null | cut -d' ' -f2)
[ "$ours" = "$theirs" ] || { echo "digest mismatch with openssl: $ours vs $theirs" >&2; exit 1; }
echo "   Streebog-256 matches openssl dgst: $ours"

step "2. Demo software token: key made on the token, test CA, employee certificate"
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR"
"$B/pkcs11/softtoken/gostsign-softtoken-setup" --module "$B/pkcs11/softtoken/gostsign-softtoken.so" --out "$OUT" | sed 's/^/   /'
"$B/cli/gostsign" token list --module "$B/pkcs11/softtoken/gostsign-softtoken.so" | sed 's/^/   /'
"$B/cli/gostsign" cert show "$OUT/cert.pem" | sed 's/^/   /' | head -12

step "3-5. Agent, native-messaging host and the cabinet login"
bash native-messaging/cabinet/run-demo-login.sh "$B" "$OUT"

step "6. Вход через адаптер Госуслуг в настоящем браузере / login through the Gosuslugi adapter in a real browser"
bash native-messaging/cabinet/run-demo-gosuslugi.sh "$B" "$OUT"

echo
echo "Demo finished: files are in $OUT"
