#!/usr/bin/env bash
# Makes a throw-away GOST test PKI with the real `openssl` command and the GOST engine:
#   ca.pem/ca.key            root CA (GOST R 34.10-2012 256, TC26 A)
#   employee.pem/.key        legal-entity employee: CN, SN, G, O, OU, T, L, ST, street, E,
#                            INN, INNLE, OGRN, SNILS, key usage, EKU, subject/issuerSignTool
#   employee512.pem/.key     the same person with a 512-bit key (TC26 A)
#   other.pem/.key           a different employee (the "wrong certificate")
#   expired.pem/.key         valid 2020-01-01 .. 2021-01-01
#   future.pem/.key          valid from 2040
#   gost2001.pem/.key        GOST R 34.10-2001 key (must be refused)
#   revoked.pem/.key         revoked in ca.crl
#   ca.crl                   CRL signed by the CA, listing revoked.pem
#   cadir/                   trust directory (hashed links) holding ca.pem
# Optional (for revocation tests; unset = none of this):
#   PKI_OCSP_URL=http://...  end-entity certificates carry authorityInfoAccess OCSP;URI:<it>, and
#                            ocsp.pem/.key is a delegated responder (extendedKeyUsage OCSPSigning)
#   PKI_CRL_URL=http://...   end-entity certificates carry crlDistributionPoints URI:<it>
# Usage: make-test-pki.sh OUTDIR
set -euo pipefail
out=${1:?usage: make-test-pki.sh OUTDIR}
mkdir -p "$out/cadir" "$out/db"
cd "$out"
export OPENSSL_CONF=/dev/null
e=(-engine gost)

cat >openssl.cnf <<'CNF'
oid_section = gost_oids
[gost_oids]
# OpenSSL 3.0 already knows INN, OGRN, SNILS, OGRNIP, subjectSignTool and issuerSignTool.
INNLE = 1.2.643.100.4
[req]
distinguished_name = dn
prompt = no
string_mask = utf8only
utf8 = yes
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ee_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectSignTool = ASN1:FORMAT:UTF8,UTF8String:СКЗИ "ViPNet CSP 4.4" (тестовый)
issuerSignTool = ASN1:SEQUENCE:issuer_tool
certificatePolicies = 1.2.643.100.113.1,1.2.643.100.113.2
[issuer_tool]
t1 = FORMAT:UTF8,UTF8String:СКЗИ "КриптоПро CSP" версии 5.0
t2 = FORMAT:UTF8,UTF8String:ПАК "КриптоПро УЦ" версии 2.0
t3 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/124-0000 от 01.01.2025
t4 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/128-0000 от 01.01.2025
[ca]
default_ca = testca
[testca]
database = db/index.txt
new_certs_dir = db
serial = db/serial
crlnumber = db/crlnumber
default_md = md_gost12_256
default_crl_days = 3650
policy = any
unique_subject = no
preserve = yes
copy_extensions = none
[any]
commonName = supplied
surname = optional
givenName = optional
organizationName = optional
organizationalUnitName = optional
title = optional
localityName = optional
stateOrProvinceName = optional
streetAddress = optional
emailAddress = optional
INN = optional
INNLE = optional
OGRN = optional
OGRNIP = optional
SNILS = optional
countryName = optional
CNF
# Revocation URLs: more lines of [ee_ext] (OpenSSL continues a repeated section), only when asked.
if [ -n "${PKI_OCSP_URL:-}" ] || [ -n "${PKI_CRL_URL:-}" ]; then
    echo '[ee_ext]' >>openssl.cnf
    [ -z "${PKI_OCSP_URL:-}" ] || echo "authorityInfoAccess = OCSP;URI:$PKI_OCSP_URL" >>openssl.cnf
    [ -z "${PKI_CRL_URL:-}" ] || echo "crlDistributionPoints = URI:$PKI_CRL_URL" >>openssl.cnf
    printf '[ocsp_ext]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = OCSPSigning\n' >>openssl.cnf
fi
: >db/index.txt
echo 1000 >db/serial
echo 01 >db/crlnumber

genkey() { # genkey ALG PARAMSET OUT
    openssl genpkey "${e[@]}" -algorithm "$1" -pkeyopt "paramset:$2" -out "$3" 2>/dev/null
}

subject_employee() { # subject_employee CN INN SNILS
    printf '/CN=%s/SN=%s/GN=%s/O=ООО "Ромашка"/OU=Бухгалтерия/title=Главный бухгалтер/L=Москва/ST=77 г. Москва/street=ул. Тверская, д. 1/emailAddress=%s/INN=%s/INNLE=7707083893/OGRN=1027700132195/SNILS=%s/C=RU' \
        "$1" "${1%% *}" "${1#* }" "user@example.ru" "$2" "$3"
}

# Root CA
genkey gost2012_256 TCA ca.key
openssl req "${e[@]}" -config openssl.cnf -new -x509 -key ca.key -md_gost12_256 -days 3650 \
    -subj '/CN=Тестовый УЦ gostsign/O=gostsign test/C=RU/INNLE=7700000000/OGRN=1027700000000' \
    -extensions ca_ext -out ca.pem 2>/dev/null

issue() { # issue NAME ALG PARAMSET SUBJECT [extra ca args]
    local name=$1 alg=$2 ps=$3 subj=$4; shift 4
    genkey "$alg" "$ps" "$name.key"
    openssl req "${e[@]}" -config openssl.cnf -new -key "$name.key" -subj "$subj" -utf8 \
        -out "$name.csr" 2>/dev/null
    openssl ca "${e[@]}" -config openssl.cnf -batch -notext -utf8 -cert ca.pem -keyfile ca.key \
        -extensions ee_ext -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
    rm -f "$name.csr"
}

issue employee gost2012_256 TCB "$(subject_employee 'Иванов Иван Иванович' 500100732259 11223344595)" -days 365
issue employee512 gost2012_512 A "$(subject_employee 'Иванов Иван Иванович' 500100732259 11223344595)" -days 365
issue other gost2012_256 TCB "$(subject_employee 'Петров Пётр Петрович' 771234567890 12345678901)" -days 365
issue expired gost2012_256 TCB "$(subject_employee 'Сидоров Сидор Сидорович' 500100732259 11223344595)" \
    -startdate 20200101000000Z -enddate 20210101000000Z
issue future gost2012_256 TCB "$(subject_employee 'Будущев Борис Борисович' 500100732259 11223344595)" \
    -startdate 20400101000000Z -enddate 20410101000000Z
issue gost2001 gost2001 A "$(subject_employee 'Старов Степан Степанович' 500100732259 11223344595)" -days 365
issue revoked gost2012_256 TCB "$(subject_employee 'Отозванов Олег Олегович' 500100732259 11223344595)" -days 365
openssl ca "${e[@]}" -config openssl.cnf -batch -cert ca.pem -keyfile ca.key -revoke revoked.pem 2>/dev/null
if [ -n "${PKI_OCSP_URL:-}" ]; then
    genkey gost2012_256 TCB ocsp.key
    openssl req "${e[@]}" -config openssl.cnf -new -key ocsp.key -subj '/CN=Тестовый OCSP gostsign' -utf8 \
        -out ocsp.csr 2>/dev/null
    openssl ca "${e[@]}" -config openssl.cnf -batch -notext -utf8 -cert ca.pem -keyfile ca.key \
        -extensions ocsp_ext -in ocsp.csr -out ocsp.pem -days 365 2>/dev/null
    rm -f ocsp.csr
fi
openssl ca "${e[@]}" -config openssl.cnf -batch -cert ca.pem -keyfile ca.key -gencrl -out ca.crl 2>/dev/null

cp ca.pem cadir/
openssl rehash cadir >/dev/null 2>&1 || c_rehash cadir >/dev/null
echo "test PKI written to $out"
