#!/usr/bin/env bash
# Makes a test list of accredited CAs (the Ministry's TSL structure, docs/admin-guide.md) and its
# GOST PKI with the real `openssl` command and the GOST engine:
#   root.pem/.key         test Head CA («Тестовый ГУЦ»), listed as accredited
#   ca-a.pem, ca-b.pem    two accredited CAs (issued by the root), «Действует»
#   ca-ended.pem          a CA whose accreditation ended («Прекращена») on 2024-01-01
#   ca-annulled.pem       a CA whose accreditation was annulled («Аннулирована») on 2024-06-01
#   outsider-ca.pem       a CA that is not in the list
#   alice (ca-a), bob (ca-b), carol (ca-ended), dave (ca-annulled), olga (outsider-ca):
#                         qualified-looking end-entity certificates, .pem/.key
#   plain.pem/.key        issued by ca-a without the qualified-certificate fields
#   revoked.pem/.key      issued by ca-a and revoked in ca-a.crl
#   tsl.xml               the list (Версия 100, Дата now or $TSL_DATE), tsl-v101.xml (Версия 101)
#   tsl-damaged.xml       tsl-v101.xml cut in the middle
# Usage: make-test-tsl.sh OUTDIR
set -euo pipefail
out=${1:?usage: make-test-tsl.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export OPENSSL_CONF=/dev/null
e=(-engine gost)

cat >openssl.cnf <<'CNF'
oid_section = gost_oids
[gost_oids]
INNLE = 1.2.643.100.4
[req]
distinguished_name = dn
prompt = no
string_mask = utf8only
utf8 = yes
[dn]
CN = placeholder
[root_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ca_ext]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[qee_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectSignTool = ASN1:FORMAT:UTF8,UTF8String:СКЗИ "ViPNet CSP 4.4" (тестовый)
issuerSignTool = ASN1:SEQUENCE:issuer_tool
certificatePolicies = 1.2.643.100.113.1
[plain_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[issuer_tool]
t1 = FORMAT:UTF8,UTF8String:СКЗИ "КриптоПро CSP" версии 5.0
t2 = FORMAT:UTF8,UTF8String:ПАК "КриптоПро УЦ" версии 2.0
t3 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/124-0000 от 01.01.2025
t4 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/128-0000 от 01.01.2025
CNF

genkey() { openssl genpkey "${e[@]}" -algorithm gost2012_256 -pkeyopt paramset:TCB -out "$1" 2>/dev/null; }

# sign_cert NAME ISSUER EXT SUBJECT: NAME.csr signed by ISSUER.pem/.key with extensions EXT.
serial=4096
sign_cert() {
    serial=$((serial + 1))
    openssl req "${e[@]}" -config openssl.cnf -new -key "$1.key" -subj "$4" -utf8 -out "$1.csr" 2>/dev/null
    openssl x509 "${e[@]}" -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$serial" \
        -days "${5:-365}" -extfile openssl.cnf -extensions "$3" -md_gost12_256 -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

genkey root.key
openssl req "${e[@]}" -config openssl.cnf -new -x509 -key root.key -md_gost12_256 -days 3650 -utf8 \
    -subj '/CN=Тестовый ГУЦ/O=Тестовое Минцифры/C=RU/INNLE=7710474375/OGRN=1047702026701' \
    -extensions root_ext -out root.pem 2>/dev/null
genkey outsider-ca.key
openssl req "${e[@]}" -config openssl.cnf -new -x509 -key outsider-ca.key -md_gost12_256 -days 3650 \
    -utf8 -subj '/CN=Посторонний УЦ/O=Не в списке/C=RU' -extensions root_ext -out outsider-ca.pem 2>/dev/null

# ca NAME CN INN OGRN
ca() {
    genkey "$1.key"
    sign_cert "$1" root ca_ext "/CN=$2/O=$2/C=RU/INNLE=$3/OGRN=$4" 3000
}
ca ca-a 'УЦ Альфа' 7700000001 1027700000001
ca ca-b 'УЦ Бета' 7700000002 1027700000002
ca ca-ended 'УЦ Закрытый' 7700000003 1027700000003
ca ca-annulled 'УЦ Аннулированный' 7700000004 1027700000004

# person NAME ISSUER EXT CN SNILS
person() {
    genkey "$1.key"
    sign_cert "$1" "$2" "$3" "/CN=$4/SN=${4%% *}/GN=${4#* }/O=ООО \"Ромашка\"/C=RU/INN=500100732259/INNLE=7707083893/OGRN=1027700132195/SNILS=$5"
}
person alice ca-a qee_ext 'Алисова Алиса Андреевна' 11223344595
person bob ca-b qee_ext 'Бобров Борис Борисович' 11223344596
person carol ca-ended qee_ext 'Карлова Карина Карловна' 11223344597
person dave ca-annulled qee_ext 'Давыдов Давид Давидович' 11223344598
person olga outsider-ca qee_ext 'Ольгина Ольга Олеговна' 11223344599
person revoked ca-a qee_ext 'Отозванов Олег Олегович' 11223344600
genkey plain.key
sign_cert plain ca-a plain_ext '/CN=Простой Пётр/O=Просто организация/C=RU'

# A CRL of ca-a listing revoked.pem (a minimal `openssl ca` database).
mkdir -p db
printf '[ca]\ndefault_ca = c\n[c]\ndatabase = db/index.txt\ncrlnumber = db/crlnumber\ndefault_md = md_gost12_256\ndefault_crl_days = 30\n' >ca.cnf
: >db/index.txt
echo 01 >db/crlnumber
openssl ca "${e[@]}" -config ca.cnf -cert ca-a.pem -keyfile ca-a.key -revoke revoked.pem 2>/dev/null
openssl ca "${e[@]}" -config ca.cnf -cert ca-a.pem -keyfile ca-a.key -gencrl -out ca-a.crl 2>/dev/null

b64() { openssl x509 -in "$1" -outform DER | base64 -w 76; }
sha1() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }

# key_xml CERTFILE CRLURL: one «Ключ» with its certificate.
key_xml() {
    cat <<XML
          <Ключ>
            <ИдентификаторКлюча>$(sha1 "$1")</ИдентификаторКлюча>
            <АдресаСписковОтзыва>
              <Адрес>$2</Адрес>
            </АдресаСписковОтзыва>
            <Сертификаты>
              <ДанныеСертификата>
                <Отпечаток>$(sha1 "$1")</Отпечаток>
                <КемВыдан>$(openssl x509 -in "$1" -noout -issuer -nameopt utf8,sep_comma_plus | sed 's/^issuer=//')</КемВыдан>
                <КомуВыдан>$(openssl x509 -in "$1" -noout -subject -nameopt utf8,sep_comma_plus | sed 's/^subject=//')</КомуВыдан>
                <СерийныйНомер>$(openssl x509 -in "$1" -noout -serial | sed 's/serial=//')</СерийныйНомер>
                <ПериодДействияС>2020-01-01T00:00:00+03:00</ПериодДействияС>
                <ПериодДействияДо>2035-01-01T00:00:00+03:00</ПериодДействияДо>
                <Данные>
$(b64 "$1")
                </Данные>
              </ДанныеСертификата>
            </Сертификаты>
          </Ключ>
XML
}

# ca_xml CERT NAME SHORT INN OGRN STATUS SINCE [HISTORY_XML]
ca_xml() {
    cat <<XML
  <УдостоверяющийЦентр>
    <Название>$2</Название>
    <ЭлектроннаяПочта>ca@example.ru</ЭлектроннаяПочта>
    <КраткоеНазвание>$3</КраткоеНазвание>
    <АдресСИнформациейПоУЦ>http://ca.example.ru</АдресСИнформациейПоУЦ>
    <ПрограммноАппаратныеКомплексы>
      <ПрограммноАппаратныйКомплекс>
        <Псевдоним>$3-ПАК</Псевдоним>
        <КлассСредствЭП>КС1</КлассСредствЭП>
        <КлючиУполномоченныхЛиц>
$(key_xml "$1" "http://127.0.0.1:9/$4.crl")
        </КлючиУполномоченныхЛиц>
      </ПрограммноАппаратныйКомплекс>
    </ПрограммноАппаратныеКомплексы>
    <ИНН>$4</ИНН>
    <ОГРН>$5</ОГРН>
    <СтатусАккредитации>
      <Статус>$6</Статус>
      <ДействуетС>$7</ДействуетС>
    </СтатусАккредитации>
${8:-}
  </УдостоверяющийЦентр>
XML
}

history_ended='    <ИсторияСтатусовАккредитации>
      <СтатусАккредитации><Статус>Действует</Статус><ДействуетС>2019-01-01T00:00:00+03:00</ДействуетС></СтатусАккредитации>
      <СтатусАккредитации><Статус>Прекращена</Статус><ДействуетС>2024-01-01T00:00:00+03:00</ДействуетС></СтатусАккредитации>
    </ИсторияСтатусовАккредитации>'

# tsl VERSION: the whole list on stdout.
tsl() {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<АккредитованныеУдостоверяющиеЦентры>'
    echo "  <Версия>$1</Версия>"
    echo "  <Дата>${TSL_DATE:-$(date -u +%Y-%m-%dT%H:%M:%S)Z}</Дата>"
    ca_xml root.pem 'Тестовое Министерство цифрового развития (ГУЦ)' 'Тестовый ГУЦ' 7710474375 \
        1047702026701 Действует 2011-01-01T00:00:00+03:00
    ca_xml ca-a.pem 'ООО «Удостоверяющий центр Альфа»' 'УЦ Альфа' 7700000001 1027700000001 \
        Действует 2020-01-01T00:00:00+03:00
    ca_xml ca-b.pem 'АО «Удостоверяющий центр Бета»' 'УЦ Бета' 7700000002 1027700000002 \
        Действует 2021-07-01
    ca_xml ca-ended.pem 'ООО «Закрытый УЦ»' 'УЦ Закрытый' 7700000003 1027700000003 \
        Прекращена 2024-01-01T00:00:00+03:00 "$history_ended"
    ca_xml ca-annulled.pem 'ООО «Аннулированный УЦ»' 'УЦ Аннулированный' 7700000004 1027700000004 \
        Аннулирована 2024-06-01T00:00:00.000+03:00
    echo '</АккредитованныеУдостоверяющиеЦентры>'
}
tsl 100 >tsl.xml
tsl 101 >tsl-v101.xml
head -c "$(($(wc -c <tsl-v101.xml) / 2))" tsl-v101.xml >tsl-damaged.xml
echo "test TSL written to $out"
