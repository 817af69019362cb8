#!/usr/bin/env bash
# CMS/CAdES-BES interop in both directions with the `openssl` command and the GOST engine:
# gostsign's signatures verify with `openssl cms -verify`, openssl's verify with `gostsign verify`,
# and every kind of bad signature is refused with its own exit code.
. "$(dirname "$0")/lib.sh"
export LANG=C.UTF-8 LC_ALL= LC_MESSAGES= # the report greps below are in English

PKI="$WORK/pki"
bash "$SOURCE_ROOT/tests/data/make-test-pki.sh" "$PKI" >/dev/null
cd "$WORK"
printf 'Заявление о регистрации, версия 1\n' >small.txt
head -c 1000003 /dev/urandom >random.bin
: >empty.bin

n() { error_number "$1"; }
# gs_sign KEYNAME [gostsign sign options] IN OUT
gs_sign() {
    local who=$1
    shift
    "$GOSTSIGN" sign --key-file "$PKI/$who.key" --cert "$PKI/$who.pem" "$@"
}
# ossl_verify SIG [-content FILE]: openssl's verdict on a DER signature; content to $WORK/ossl.out
ossl_verify() {
    local sig=$1
    shift
    ossl cms -verify -engine gost -binary -inform DER -in "$sig" -CAfile "$PKI/ca.pem" \
        -out "$WORK/ossl.out" "$@" 2>"$WORK/ossl.err"
}

# ---- gostsign -> openssl: detached and attached, 256 and 512, over three kinds of content
for who in employee employee512; do
    for f in small.txt random.bin empty.bin; do
        gs_sign $who "$f" -o "$who.$f.det.p7s" 2>/dev/null
        ossl_verify "$who.$f.det.p7s" -content "$f" || { cat ossl.err; fail "openssl rejects our detached $who/$f"; }
        ok "openssl cms -verify accepts gostsign's detached signature ($who, $f)"
        gs_sign $who --attached "$f" -o "$who.$f.att.p7s" 2>/dev/null
        ossl_verify "$who.$f.att.p7s" || { cat ossl.err; fail "openssl rejects our attached $who/$f"; }
        cmp -s ossl.out "$f" || fail "openssl extracted different content from $who/$f"
        ok "openssl cms -verify accepts gostsign's attached signature ($who, $f) and extracts it"
    done
done
gs_sign employee --pem small.txt -o pem.p7s
ossl cms -verify -engine gost -binary -inform PEM -in pem.p7s -content small.txt \
    -CAfile "$PKI/ca.pem" -out /dev/null 2>/dev/null || fail "openssl rejects our PEM output"
ok "openssl accepts the PEM output"

# The signed attributes, as openssl prints them: digest algorithms and signingCertificateV2.
ossl cms -cmsout -print -inform DER -in employee512.small.txt.det.p7s >print512.txt
grep -q 'GOST R 34.11-2012 with 512 bit hash' print512.txt || fail "512-bit key without Streebog-512"
ossl cms -cmsout -print -inform DER -in employee.small.txt.det.p7s >print.txt
for attr in contentType messageDigest signingTime id-smime-aa-signingCertificateV2; do
    grep -q "object: $attr " print.txt || fail "signed attribute $attr missing"
done
ok "signed attributes: contentType, messageDigest, signingTime, signingCertificateV2"
# ESSCertIDv2: hashAlgorithm Streebog-256 and the hash of the certificate as openssl computes it.
want=$(ossl x509 -in "$PKI/employee.pem" -outform DER | ossl dgst -engine gost -md_gost12_256 -r 2>/dev/null | cut -d' ' -f1)
got=$(sed -n '/signingCertificateV2/,/INTEGER/p' print.txt | grep -o 'HEX DUMP\]:[0-9A-F]*' | cut -d: -f2 | tr A-F a-f)
[ -n "$want" ] && [ "$got" = "$want" ] || fail "ESSCertIDv2 hash '$got', openssl Streebog-256 of the cert '$want'"
sed -n '/signingCertificateV2/,/INTEGER/p' print.txt | grep -q 'OBJECT *:GOST R 34.11-2012 with 256 bit hash' ||
    fail "ESSCertIDv2 hashAlgorithm is not Streebog-256"
serial=$(ossl x509 -in "$PKI/employee.pem" -noout -serial | cut -d= -f2)
sed -n '/signingCertificateV2/,/INTEGER/p' print.txt | grep -q "INTEGER *:$serial\$" ||
    fail "ESSCertIDv2 issuerSerial is not the certificate's serial $serial"
ok "signingCertificateV2 = Streebog-256 of the certificate (openssl dgst) + issuerSerial"

# ---- openssl -> gostsign
ossl_sign() { # ossl_sign KEYNAME MD IN OUT [extra openssl options]
    local who=$1 md=$2 in=$3 out=$4
    shift 4
    ossl cms -sign -engine gost -binary -md "$md" -in "$in" -signer "$PKI/$who.pem" \
        -inkey "$PKI/$who.key" -outform DER -out "$out" "$@" 2>/dev/null
}
for spec in employee:md_gost12_256 employee512:md_gost12_512; do
    who=${spec%%:*} md=${spec#*:}
    for f in small.txt random.bin; do
        ossl_sign $who $md "$f" "o.$who.$f.det.p7s"
        expect_status 0 "$GOSTSIGN" verify --content "$f" --ca-dir "$PKI/cadir" "o.$who.$f.det.p7s"
        ok "gostsign verifies openssl's detached signature ($who, $md, $f)"
        ossl_sign $who $md "$f" "o.$who.$f.att.p7s" -nodetach
        expect_status 0 "$GOSTSIGN" verify --ca-dir "$PKI/cadir" "o.$who.$f.att.p7s"
        ok "gostsign verifies openssl's attached signature ($who, $md, $f)"
    done
    ossl_sign $who $md small.txt "o.$who.cades.p7s" -cades
    expect_status 0 "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" "o.$who.cades.p7s"
    grep -q 'signingCertificateV2 OK' out || fail "openssl's -cades signingCertificateV2 not checked"
    ok "gostsign checks openssl's -cades signingCertificateV2 ($who)"
done
ossl cms -sign -engine gost -binary -md md_gost12_256 -in small.txt -signer "$PKI/employee.pem" \
    -inkey "$PKI/employee.key" -outform PEM -out o.pem.p7s 2>/dev/null
expect_status 0 "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" o.pem.p7s
ok "gostsign verifies openssl's PEM signature"

# ---- what a valid verification prints
expect_status 0 "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" --crl "$PKI/ca.crl" \
    employee.small.txt.det.p7s
for want in 'Иванов Иван Иванович' 'ООО "Ромашка"' 500100732259 7707083893 1027700132195 \
    'Signing time:' 'verified' 'not revoked'; do
    grep -qF "$want" out || { cat out; fail "verify output lacks '$want'"; }
done
year=$(date -u +%Y)
grep -q "Signing time: *$year-" out || fail "signing time is not this year"
ok "verify prints owner, organisation, INN/INNLE/OGRN, signing time, chain and CRL status"
expect_status 0 "$GOSTSIGN" verify --content small.txt employee.small.txt.det.p7s
grep -q 'NOT CHECKED' out || fail "unchecked chain not stated on stdout"
grep -q 'NOT checked' err || fail "unchecked chain not warned about on stderr"
ok "without --ca-dir the chain is reported as NOT CHECKED"

# ---- refusals, each with its own exit code
cp random.bin tampered.bin
printf 'X' | dd of=tampered.bin bs=1 seek=4242 conv=notrunc 2>/dev/null
expect_status "$(n CMS_DIGEST_MISMATCH)" "$GOSTSIGN" verify --content tampered.bin employee.random.bin.det.p7s
ok "tampered data: CMS_DIGEST_MISMATCH"
expect_status "$(n CMS_DIGEST_MISMATCH)" "$GOSTSIGN" verify --content tampered.bin o.employee.random.bin.det.p7s
ok "tampered data with openssl's signature: CMS_DIGEST_MISMATCH"

# The signature value is the last element of the DER: flip its last byte.
cp employee.small.txt.det.p7s badsig.p7s
size=$(stat -c %s badsig.p7s)
last=$(tail -c 1 badsig.p7s | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((last + 1) % 256)))" | dd of=badsig.p7s bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
! ossl_verify badsig.p7s -content small.txt || fail "openssl accepts the altered signature value"
expect_status "$(n CMS_BAD_SIGNATURE)" "$GOSTSIGN" verify --content small.txt badsig.p7s
ok "altered signature value: CMS_BAD_SIGNATURE (openssl agrees)"

gs_sign employee --no-signer-cert --chain "$PKI/other.pem" small.txt -o wrongcert.p7s
! ossl_verify wrongcert.p7s -content small.txt || fail "openssl accepts the wrong certificate"
expect_status "$(n CERT_MISMATCH)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" wrongcert.p7s
ok "signature carrying another person's certificate: CERT_MISMATCH (openssl agrees)"
# Same key, issuer and serial as employee.pem, but another certificate: the signer identifier
# matches it and the signature verifies; only signingCertificateV2 tells them apart.
ossl req -engine gost -new -key "$PKI/employee.key" -subj '/CN=Reissued' -out reissue.csr 2>/dev/null
ossl x509 -engine gost -req -in reissue.csr -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" \
    -set_serial "0x$serial" -days 30 -md_gost12_256 -out reissued.pem 2>/dev/null
gs_sign employee --no-signer-cert --chain reissued.pem small.txt -o reissued.p7s
expect_status "$(n CERT_MISMATCH)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" reissued.p7s
grep -q signingCertificateV2 err || fail "the ESS mismatch was not reported as such"
ok "certificate with the signer's issuer/serial/key but not the signed one: CERT_MISMATCH (ESS)"
gs_sign employee --no-signer-cert small.txt -o nocert.p7s
expect_status "$(n CMS_SIGNER_NOT_FOUND)" "$GOSTSIGN" verify --content small.txt nocert.p7s
ok "signature without certificates: CMS_SIGNER_NOT_FOUND"
expect_status "$(n CERT_MISMATCH)" "$GOSTSIGN" sign --key-file "$PKI/employee.key" \
    --cert "$PKI/other.pem" small.txt -o never.p7s
[ ! -e never.p7s ] || fail "sign wrote a signature for a key that is not the certificate's"
ok "sign refuses a key that does not belong to the certificate: CERT_MISMATCH"

gs_sign expired small.txt -o expired.p7s 2>/dev/null
expect_status "$(n CERT_EXPIRED)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" expired.p7s
ok "signed while the certificate had expired: CERT_EXPIRED"
gs_sign future small.txt -o future.p7s 2>/dev/null
expect_status "$(n CERT_NOT_YET_VALID)" "$GOSTSIGN" verify --content small.txt future.p7s
ok "signed before the certificate was valid: CERT_NOT_YET_VALID"

ossl cms -sign -engine gost -binary -in small.txt -signer "$PKI/gost2001.pem" \
    -inkey "$PKI/gost2001.key" -outform DER -out gost2001.p7s 2>/dev/null
expect_status "$(n CERT_GOST2001)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" gost2001.p7s
ok "openssl's GOST R 34.10-2001 signature: CERT_GOST2001"
expect_status "$(n CERT_GOST2001)" "$GOSTSIGN" sign --key-file "$PKI/gost2001.key" \
    --cert "$PKI/gost2001.pem" small.txt -o never.p7s
ok "sign refuses a GOST R 34.10-2001 certificate: CERT_GOST2001"

# A second, unrelated CA: its trust directory does not vouch for our signer.
mkdir -p other-ca/dir
ossl genpkey -engine gost -algorithm gost2012_256 -pkeyopt paramset:A -out other-ca/ca.key 2>/dev/null
ossl req -engine gost -new -x509 -key other-ca/ca.key -md_gost12_256 -days 30 \
    -subj '/CN=Other CA' -out other-ca/dir/ca.pem 2>/dev/null
ossl rehash other-ca/dir >/dev/null 2>&1
expect_status "$(n CERT_UNTRUSTED)" "$GOSTSIGN" verify --content small.txt --ca-dir other-ca/dir \
    employee.small.txt.det.p7s
ok "chain to an unrelated root: CERT_UNTRUSTED"
mkdir -p emptydir
expect_status "$(n CERT_UNTRUSTED)" "$GOSTSIGN" verify --content small.txt --ca-dir emptydir \
    employee.small.txt.det.p7s
ok "empty trust directory: CERT_UNTRUSTED"

gs_sign revoked small.txt -o revoked.p7s
expect_status "$(n CERT_REVOKED)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" \
    --crl "$PKI/ca.crl" revoked.p7s
! ossl_verify revoked.p7s -content small.txt -crl_check -CRLfile "$PKI/ca.crl" ||
    fail "openssl accepts the revoked certificate"
ok "revoked certificate with --crl ca.crl: CERT_REVOKED (openssl agrees)"
expect_status 0 "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" revoked.p7s
ok "the same signature without a CRL verifies (the CRL is what refuses it)"
head -c 300 /dev/urandom >garbage.crl
expect_status "$(n CRL_INVALID)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" \
    --crl garbage.crl employee.small.txt.det.p7s
ok "unreadable CRL: CRL_INVALID"
# (openssl ca needs the PKI's database; the CRL is signed by the unrelated CA.)
(cd "$PKI" && ossl ca -engine gost -config openssl.cnf -batch -cert "$WORK/other-ca/dir/ca.pem" \
    -keyfile "$WORK/other-ca/ca.key" -gencrl -crldays 30 -out "$WORK/other.crl" 2>/dev/null)
expect_status "$(n CRL_INVALID)" "$GOSTSIGN" verify --content small.txt --ca-dir "$PKI/cadir" \
    --crl other.crl employee.small.txt.det.p7s
ok "CRL of another CA: CRL_INVALID"

expect_status "$(n CMS_CONTENT_MISSING)" "$GOSTSIGN" verify employee.small.txt.det.p7s
ok "detached signature without --content: CMS_CONTENT_MISSING"

# ---- hostile files: CMS_PARSE, never a crash
head -c 100 employee.random.bin.att.p7s >truncated.p7s
head -c $(($(stat -c %s employee.small.txt.det.p7s) - 1)) employee.small.txt.det.p7s >truncated1.p7s
head -c 4096 /dev/urandom >garbage.p7s
printf '\x30\x84\x7f\xff\xff\xff\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02' >huge.p7s
printf -- '-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n' >badpem.p7s
ossl cms -data_create -in small.txt -outform DER -out data-only.p7s 2>/dev/null
: >empty.p7s
for f in truncated truncated1 garbage huge badpem data-only empty; do
    expect_status "$(n CMS_PARSE)" "$GOSTSIGN" verify --content small.txt "$f.p7s"
    ok "$f.p7s: CMS_PARSE"
done
expect_status "$(n IO_ERROR)" "$GOSTSIGN" verify --content small.txt /nonexistent.p7s
ok "missing signature file: IO_ERROR"
expect_status "$(n USAGE)" "$GOSTSIGN" verify --crl "$PKI/ca.crl" employee.small.txt.det.p7s
ok "--crl without a trust directory: USAGE"

# ---- detached signing streams: 128 MiB with a small peak RSS, and openssl agrees
if command -v /usr/bin/time >/dev/null; then
    truncate -s 128M big.bin
    /usr/bin/time -f '%M' -o rss.sign "$GOSTSIGN" sign --key-file "$PKI/employee.key" \
        --cert "$PKI/employee.pem" big.bin -o big.p7s
    /usr/bin/time -f '%M' -o rss.verify "$GOSTSIGN" verify --content big.bin big.p7s >/dev/null 2>&1
    [ "$(cat rss.sign)" -lt 65536 ] || fail "peak RSS $(cat rss.sign) KiB signing 128 MiB"
    [ "$(cat rss.verify)" -lt 65536 ] || fail "peak RSS $(cat rss.verify) KiB verifying 128 MiB"
    ossl_verify big.p7s -content big.bin || fail "openssl rejects the 128 MiB detached signature"
    ok "128 MiB detached: sign $(cat rss.sign) KiB, verify $(cat rss.verify) KiB peak RSS; openssl agrees"
fi
echo "$PASSED passed, 0 failed"
