#!/usr/bin/env bash
# debian/chromium.d-gostsign, the snippet the package installs as /etc/chromium.d/gostsign, sourced
# by dash the way Debian's /usr/bin/chromium sources /etc/chromium.d/* (after Debian's "extensions"
# snippet), then split into arguments the way the wrapper passes $CHROMIUM_FLAGS (unquoted):
#   - Debian's --load-extension=`ls -dm /usr/share/chromium/extensions/*` with one, two and six
#     extensions (the real `ls -dm` output, which joins with ", " and breaks lines after 80
#     columns) becomes one argument naming every extension, with no stray argument left for
#     Chromium to open as a page;
#   - DisableLoadExtensionCommandLineSwitch joins the last --disable-features already there (only
#     the last such switch counts in Chromium), or is added when there is none;
#   - the other flags are left as they were.
. "$(dirname "$0")/lib.sh"
SNIPPET=$SOURCE_ROOT/debian/chromium.d-gostsign
DEBIAN_DIR=/usr/share/chromium/extensions
F=DisableLoadExtensionCommandLineSwitch

# after_snippet FLAGS: the arguments the wrapper gives Chromium when CHROMIUM_FLAGS was FLAGS before
# the snippet, one a line.
after_snippet() {
    CHROMIUM_FLAGS=$1 dash -c '. "$1"; set -f; for a in $CHROMIUM_FLAGS; do printf "%s\n" "$a"; done' \
        sh "$SNIPPET"
}

# debian_flags NAME...: CHROMIUM_FLAGS as Debian's default-flags and extensions snippets leave it
# with extensions NAME... installed: their `ls -dm` line, run on a folder whose relative path is as
# long as /usr/share/chromium/extensions (`ls -m` breaks its line after 80 columns, so the length
# matters), the path then written as /usr/share/chromium/extensions.
debian_flags() {
    local rel=_usr/share/chromium/extensions
    rm -rf "$WORK/_usr"
    mkdir -p "$WORK/$rel"
    for n in "$@"; do mkdir -p "$WORK/$rel/$n"; done
    local list
    list=$(cd "$WORK" && ls -dm "$rel"/* 2>/dev/null | tr -d '\n')
    printf ' --show-component-extension-options --enable-remote-extensions --load-extension=%s' \
        "${list//$rel/$DEBIAN_DIR}"
}

# one extension: unchanged list, the feature added as the only --disable-features
after_snippet "$(debian_flags gostsign)" >"$WORK/args"
printf '%s\n' --show-component-extension-options --enable-remote-extensions \
    "--load-extension=$DEBIAN_DIR/gostsign" "--disable-features=$F" >"$WORK/want"
diff -u "$WORK/want" "$WORK/args" || fail "one extension"
ok "one extension: --load-extension=$DEBIAN_DIR/gostsign, --disable-features=$F added"

# two extensions: Debian's ", " would leave "--load-extension=A," and a stray "B"
debian_flags gostsign ublock | grep -q ", $DEBIAN_DIR/ublock" ||
    fail "ls -dm no longer joins with ', ': this test no longer shows Debian's case"
after_snippet "$(debian_flags gostsign ublock)" >"$WORK/args"
grep -qx -- "--load-extension=$DEBIAN_DIR/gostsign,$DEBIAN_DIR/ublock" "$WORK/args" ||
    { cat "$WORK/args"; fail "two extensions are not one argument"; }
[ "$(wc -l <"$WORK/args")" -eq 4 ] || { cat "$WORK/args"; fail "a stray argument is left"; }
ok "two extensions: one --load-extension=A,B argument, no stray page argument"

# six extensions: `ls -m` puts two on a line, so ", " and ",<newline>" both occur
names=(ext-five ext-four ext-one ext-six ext-three ext-two) # in the order ls lists them
debian_flags "${names[@]}" >/dev/null
(cd "$WORK" && ls -dm _usr/share/chromium/extensions/*) >"$WORK/ls"
[ "$(wc -l <"$WORK/ls")" -gt 1 ] && grep -q ', ' "$WORK/ls" ||
    { cat "$WORK/ls"; fail "ls -dm did not both join and break lines: the case is not tested"; }
after_snippet "$(debian_flags "${names[@]}")" >"$WORK/args"
want=$(printf "$DEBIAN_DIR/%s," "${names[@]}")
grep -qx -- "--load-extension=${want%,}" "$WORK/args" || { cat "$WORK/args"; fail "six extensions"; }
[ "$(wc -l <"$WORK/args")" -eq 4 ] || { cat "$WORK/args"; fail "a stray argument is left"; }
ok "six extensions, ls -dm joining with \", \" and breaking lines: still one --load-extension argument"

# --disable-features already there: the feature joins the last one, nothing else changes
after_snippet " --disable-features=Translate --x=1 --disable-features=MediaRouter,Foo --y" >"$WORK/args"
printf '%s\n' --disable-features=Translate --x=1 "--disable-features=MediaRouter,Foo,$F" --y >"$WORK/want"
diff -u "$WORK/want" "$WORK/args" || fail "existing --disable-features"
ok "existing --disable-features: the feature joins the last one (the one Chromium reads)"
after_snippet " --a --disable-features= --b" >"$WORK/args"
printf '%s\n' --a "--disable-features=$F" --b >"$WORK/want"
diff -u "$WORK/want" "$WORK/args" || fail "empty --disable-features"
ok "empty --disable-features= becomes --disable-features=$F"

# nothing about extensions: only the feature is added; no leftover variable
after_snippet "" >"$WORK/args"
[ "$(cat "$WORK/args")" = "--disable-features=$F" ] || { cat "$WORK/args"; fail "empty flags"; }
[ -z "$(CHROMIUM_FLAGS="" dash -c '. "$1"; echo "${gostsign_feature:-}"' sh "$SNIPPET")" ] ||
    fail "the snippet leaves its variable set in the wrapper"
ok "empty flags: only --disable-features=$F; the snippet leaves no variable of its own"
echo "$PASSED passed, 0 failed"
