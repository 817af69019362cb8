#!/usr/bin/env bash
# p11-kit loads gostsign-softtoken from a .module file and lists it with its token.
# Non-root: a temporary HOME with ~/.config/pkcs11/modules/. Root (p11-kit ignores user config
# for root): a private mount namespace with the .module directory bound over the system one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
command -v p11-kit >/dev/null || { echo "p11-kit missing"; exit 77; }

new_token "p11kit demo"
mkdir -p "$WORK/home/.config/pkcs11/modules"
sed "s|^module:.*|module: $SOFTTOKEN_MODULE|" "$SOURCE_ROOT/pkcs11/softtoken/gostsign-softtoken.module" \
    >"$WORK/home/.config/pkcs11/modules/gostsign-softtoken.module"
grep -q "^module: $SOFTTOKEN_MODULE" "$WORK/home/.config/pkcs11/modules/gostsign-softtoken.module" || fail "module file"
if [ "$(id -u)" != 0 ]; then
    HOME="$WORK/home" p11-kit list-modules >"$WORK/list" 2>&1 || true
else
    sysdir=$(pkg-config --variable=p11_module_configs p11-kit-1 2>/dev/null || echo /usr/share/p11-kit/modules)
    unshare -m sh -c "mount --bind '$WORK/home/.config/pkcs11/modules' '$sysdir' && p11-kit list-modules" \
        >"$WORK/list" 2>&1 || { cat "$WORK/list"; echo "cannot create a mount namespace: skipped"; exit 77; }
fi
grep -q "^gostsign-softtoken: $SOFTTOKEN_MODULE" "$WORK/list" || { cat "$WORK/list"; fail "module not listed"; }
grep -q "library-description: gostsign GOST-2012 soft token" "$WORK/list" || fail "no library description"
ok "p11-kit list-modules shows gostsign-softtoken"
grep -q "token: p11kit demo" "$WORK/list" || { cat "$WORK/list"; fail "token not listed"; }
ok "p11-kit list-modules shows the token"
echo "$PASSED passed, 0 failed"
