# Shared set-up for the softtoken shell tests: a temporary token directory, pkcs11-tool on the
# built module, and a low PBKDF2 iteration count so the tests run fast. Sourced after lib.sh.
: "${SOFTTOKEN_MODULE:?SOFTTOKEN_MODULE must point at gostsign-softtoken.so}"
command -v pkcs11-tool >/dev/null || { echo "pkcs11-tool (opensc) missing"; exit 77; }
export GOSTSIGN_SOFTTOKEN_DIR="$WORK/tokens"
export GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS=2000
mkdir -p "$GOSTSIGN_SOFTTOKEN_DIR"
SO_PIN=87654321
USER_PIN=12345678
p11() { pkcs11-tool --module "$SOFTTOKEN_MODULE" "$@"; }

# new_token LABEL: initialises the spare slot as LABEL and sets the user PIN.
new_token() {
    local spare
    spare=$(p11 -L | awk '/^Slot/ { s = $2 } /uninitialized/ { print s; exit }')
    [ -n "$spare" ] || fail "no spare slot"
    p11 --slot "$spare" --init-token --label "$1" --so-pin $SO_PIN >/dev/null 2>&1 || fail "init-token"
    p11 --token-label "$1" --login --login-type so --so-pin $SO_PIN --init-pin --pin $USER_PIN \
        >/dev/null 2>&1 || fail "init-pin"
}

# token_file: the token file of the directory (the tests use one token).
token_file() { ls "$GOSTSIGN_SOFTTOKEN_DIR"/*.token; }

# token_flags LABEL: the "token flags" line pkcs11-tool prints for a token.
token_flags() {
    p11 -L 2>/dev/null | awk -v l="$1" '/token label/ { f = ($0 ~ ": " l "$") } f && /token flags/ { print; exit }'
}

# pubkey_value ID: hex CKA_VALUE of the public key with CKA_ID=ID, as pkcs11-tool lists it.
pubkey_value() {
    p11 --token-label "$TOKEN" -O --type pubkey 2>/dev/null | awk -v id="$1" '
        /^[A-Z]/ { v = ""; inval = 0 }
        /VALUE:/ { sub(/.*VALUE: */, ""); v = $0; inval = 1; next }
        inval && /^ +[0-9a-f]+$/ { gsub(/ /, ""); v = v $0; next }
        { inval = 0 }
        /ID:/ && $2 == id { print v; exit }'
}

# spki_from_value HEX KEYOID CURVEOID DIGESTOID OUT: DER SubjectPublicKeyInfo via asn1parse.
spki_from_value() {
    local n=$((${#1} / 2)) len
    len=$(printf '%02x' $n)
    [ $n -lt 128 ] || len="81$len" # DER long-form length for 128-byte (512-bit) values
    cat >"$WORK/spki.cnf" <<CNF
asn1=SEQUENCE:spki
[spki]
alg=SEQUENCE:alg
key=FORMAT:HEX,BITSTRING:04$len$1
[alg]
oid=OID:$2
params=SEQUENCE:params
[params]
curve=OID:$3
digest=OID:$4
CNF
    ossl asn1parse -genconf "$WORK/spki.cnf" -out "$5" >/dev/null || fail "asn1parse -genconf"
}
