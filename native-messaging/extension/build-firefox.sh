#!/usr/bin/env bash
# Builds the Firefox flavour of the extension into OUTDIR: the same scripts with
# manifest.firefox.json as manifest.json (background scripts instead of a service worker, a
# Gecko ID instead of the Chromium key), the page-world adapters in adapters/, the texts in
# _locales/ (Russian and English). With a second
# argument, also packs OUTDIR into a .xpi.
# Usage: build-firefox.sh OUTDIR [FILE.xpi]
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-firefox.sh OUTDIR [FILE.xpi]}
rm -rf "$out"
mkdir -p "$out"
cp "$src"/background.js "$src"/content.js "$src"/page-api.js "$src"/popup.html "$src"/popup.js \
    "$src"/chooser.html "$src"/chooser.js "$src"/ui.js "$out"/
mkdir -p "$out"/adapters "$out"/_locales/ru "$out"/_locales/en
cp "$src"/adapters/*.js "$out"/adapters/
cp "$src"/_locales/ru/messages.json "$out"/_locales/ru/
cp "$src"/_locales/en/messages.json "$out"/_locales/en/
cp "$src"/manifest.firefox.json "$out"/manifest.json
if [ -n "${2:-}" ]; then
    xpi=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    # zipfile's command line would drop the adapters/ folder from the names: pack with paths.
    (cd "$out" && rm -f "$xpi" && python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name in sys.argv[2:]:
        z.write(name, name)' "$xpi" manifest.json background.js content.js page-api.js popup.html \
        popup.js chooser.html chooser.js ui.js adapters/*.js _locales/*/messages.json)
fi
echo "$out"
