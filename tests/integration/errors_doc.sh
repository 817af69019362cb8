#!/usr/bin/env bash
# docs/errors.md is generated from the error table; it must not drift.
. "$(dirname "$0")/lib.sh"
"$GOSTSIGN" errors --markdown >"$WORK/errors.md"
diff -u "$SOURCE_ROOT/docs/errors.md" "$WORK/errors.md" || fail "docs/errors.md is stale: run '$GOSTSIGN errors --markdown > docs/errors.md'"
ok "docs/errors.md matches the error table"
echo "$PASSED passed, 0 failed"
