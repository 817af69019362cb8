#!/usr/bin/env bash
# Two processes use one token at once (key generation and signing); both succeed, no object is
# lost, and the file stays intact (directory flock around every read-modify-write + reload).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/softtoken_lib.sh"
TOKEN=shared
new_token $TOKEN
echo data >"$WORK/msg"

# worker NAME: generates 4 key pairs and signs with each.
worker() {
    local i
    for i in 1 2 3 4; do
        p11 --token-label $TOKEN -l --pin $USER_PIN --keypairgen --key-type GOSTR3410-2012-256:B \
            --id "${1}0$i" --label "$1-$i" >/dev/null 2>&1 || return 1
        p11 --token-label $TOKEN -l --pin $USER_PIN --sign -m GOSTR3410-WITH-GOSTR3411-12-256 \
            --id "${1}0$i" -i "$WORK/msg" -o "$WORK/sig-$1$i" >/dev/null 2>&1 || return 1
    done
}
worker aa & pa=$!
worker bb & pb=$!
wait $pa || fail "process A failed"
wait $pb || fail "process B failed"
ok "two processes generated keys and signed concurrently"
p11 --token-label $TOKEN -l --pin $USER_PIN -O >"$WORK/objs" 2>/dev/null || fail "list after concurrency"
[ "$(grep -c 'Private Key Object' "$WORK/objs")" = 8 ] || fail "private keys lost"
[ "$(grep -c 'Public Key Object' "$WORK/objs")" = 8 ] || fail "public keys lost"
for id in aa01 aa02 aa03 aa04 bb01 bb02 bb03 bb04; do
    grep -q "ID: *$id\$" "$WORK/objs" || fail "key $id missing"
done
ok "all 16 objects present, file intact"
echo "$PASSED passed, 0 failed"
