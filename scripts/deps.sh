#!/usr/bin/env bash
# Installs the Debian 12 packages gostsign needs to build and test, only those that are missing.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail

PACKAGES=(
    # build
    meson ninja-build pkg-config gcc clang libclang-rt-14-dev clang-format
    # static analysis in scripts/test.sh: clang-tools provides /usr/bin/scan-build
    clang-tools
    # GOST crypto: OpenSSL 3 and the GOST engine
    openssl libssl-dev libengine-gost-openssl
    # libraries
    libjson-c-dev libxml2-dev libp11-kit-dev p11-kit libassuan-dev libgpg-error-dev
    libsystemd-dev libudev-dev libusb-1.0-0-dev libpcsclite-dev
    # tests: unit framework, real PKCS#11 client, real pinentry, tmux, tools
    libcmocka-dev opensc opensc-pkcs11 pinentry-tty tmux python3 time procps valgrind
    # counting the token file's renames and syncs of a login (softtoken_login_writes)
    strace
    # a moved clock for the trust-list age and certificate expiry tests
    faketime
    # benchmark peers: gpg-agent beside the idle agent and an agent signature (gpg makes its
    # key), SoftHSM2 beside the software token's signatures
    gpg-agent gpg softhsm2
    # smart-card stack, and fake USB devices and a virtual reader/card for tests
    pcscd libccid umockdev libumockdev-dev vsmartcard-vpcd python3-virtualsmartcard python3-pycryptodome
    # udev's systemd-hwdb (tests/integration/doctor_udev.sh); systemd-socket-activate and
    # systemd-analyze (agent_socket_activation.sh, agent_idle_exit.sh)
    udev systemd
    # the Debian package (scripts/package.sh, tests/integration/package_install.sh)
    devscripts debhelper lintian dpkg-dev
    # end-to-end tests in real browsers (playwright-core and puppeteer-core come from npm, never
    # a browser download): Chromium, and Firefox ESR driven over WebDriver BiDi; Chromium's
    # Russian UI (the extension's popup in Russian, tests/e2e/popup.sh)
    chromium chromium-l10n firefox-esr
    # misc tools the tests use
    util-linux iproute2
)

# Debian's python3-virtualsmartcard has no `vicc` command: install the project's launcher.
# Runs after the packages are in place, and also when nothing was missing.
install_vicc() {
    command -v vicc >/dev/null && return 0
    local src
    src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vicc"
    $SUDO install -m 0755 "$src" /usr/local/bin/vicc
    echo "deps: installed the vicc launcher as /usr/local/bin/vicc"
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from elsewhere (its own npm); take Debian's only when there is none.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} Debian packages present"
    install_vicc
    exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_vicc
