#!/usr/bin/env bash
# Installs the e2e tests' npm packages (tests/e2e/package-lock.json) into tests/e2e/node_modules
# with `npm ci` when any package that package.json names is missing there; never downloads a
# browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD, PUPPETEER_SKIP_DOWNLOAD): the tests and the demo
# drive Debian's chromium and firefox-esr. npm's output goes to LOG; on failure it is printed.
# Usage: npm-ci.sh LOG
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd)
LOG=${1:?usage: npm-ci.sh LOG}
# The dependencies' names from package.json, one a line.
deps=$(node -e 'for (const d of Object.keys(require(process.argv[1]).dependencies)) console.log(d)' \
    "$E2E/package.json")
for dep in $deps; do
    [ -f "$E2E/node_modules/$dep/package.json" ] && continue
    (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
        npm ci --no-audit --no-fund >"$LOG" 2>&1) || { cat "$LOG" >&2; exit 1; }
    break
done
