#!/usr/bin/env bash
# Builds the Debian packages gostsign_VERSION_ARCH.deb and gostsign-softtoken_VERSION_ARCH.deb
# from this tree (debian/), and checks them with lintian. The source is copied into OUT_DIR
# first, so the build never writes into the work tree and any uncommitted change is packaged.
# Usage: scripts/package.sh [OUT_DIR]   (default: build-deb). Prints the paths of the .debs last.
# Set GOSTSIGN_SKIP_DEPS=1 when the build dependencies are known to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-build-deb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

[ -n "${GOSTSIGN_SKIP_DEPS:-}" ] || bash scripts/deps.sh

VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
MESON_VERSION=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" meson.build | head -1)
# A native package: its version is the project's own.
[ "$VERSION" = "$MESON_VERSION" ] || {
    echo "package.sh: debian/changelog says $VERSION, meson.build says $MESON_VERSION" >&2
    exit 1
}

# The files of the source: git's list (tracked and new, not ignored) when this is a git tree,
# else everything but build folders.
list_sources() {
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
    else
        find . -path './build*' -prune -o -path './.git' -prune -o -type f -printf '%P\0'
    fi
}

SRC=$OUT/src/gostsign-$VERSION
rm -rf "$OUT/src"
mkdir -p "$SRC"
list_sources | tar -C "$ROOT" --null -T - -cf - | tar -C "$SRC" -xf -

(cd "$SRC" && dpkg-buildpackage -us -uc -b -j2) >"$OUT/build.log" 2>&1 || {
    tail -60 "$OUT/build.log"
    echo "package.sh: dpkg-buildpackage failed, see $OUT/build.log" >&2
    exit 1
}
rm -f "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"

# lintian: every tag is fixed or explained in debian/*.lintian-overrides (see debian/README).
CHANGES=$(ls "$OUT"/gostsign_"$VERSION"_*.changes)
if ! lintian --fail-on error,warning --info --display-info "$CHANGES" >"$OUT/lintian.log" 2>&1; then
    cat "$OUT/lintian.log"
    echo "package.sh: lintian reports tags that are neither fixed nor explained" >&2
    exit 1
fi
cat "$OUT/lintian.log"
ls "$OUT"/*.deb
