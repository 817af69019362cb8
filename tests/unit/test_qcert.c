/*
 * The qualified-certificate model against certificates made at test time: the test PKI script
 * (tests/data/make-test-pki.sh, the real `openssl` command + GOST engine) and certificates built
 * here with OpenSSL. Expected field values are the inputs the script or the test put in;
 * thumbprints are cross-checked with `openssl x509 -fingerprint` and `openssl dgst`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "gost.h"

static char pki_dir[] = "/tmp/gostsign-test-qcert.XXXXXX";
static time_t pki_made_at;

/* ---------------------------------------------------------------- fixtures and helpers */

/* Runs the test PKI script once for the whole group. */
static int make_pki(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    if (!root || !mkdtemp(pki_dir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash '%s/tests/data/make-test-pki.sh' '%s' >/dev/null 2>&1", root,
             pki_dir);
    pki_made_at = time(NULL);
    return system(cmd) == 0 ? 0 : -1;
}

/* Removes the throw-away PKI. */
static int remove_pki(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Path of a file inside the PKI directory (static buffer: one use at a time). */
static const char *pki(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", pki_dir, name);
    return path;
}

/* Loads a certificate file and insists that it parses. */
static gs_cert *load(const char *name)
{
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = gs_cert_load_file(pki(name), &st);
    if (!cert)
        fail_msg("%s: %s", name, st.detail);
    return cert;
}

/* First line of a shell command's output, without the newline. */
static void run_line(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    out[strcspn(out, "\r\n")] = '\0';
    assert_int_equal(pclose(p), 0);
}

/* Whole file into memory. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* Writes the DER of a PKI certificate with `openssl x509 -outform DER`; returns its path. */
static const char *der_of(const char *name)
{
    static char der[512];
    char cmd[1200];
    snprintf(der, sizeof(der), "%s/%s.der", pki_dir, name);
    snprintf(cmd, sizeof(cmd),
             "OPENSSL_CONF=/dev/null openssl x509 -in '%s/%s.pem' -outform DER -out '%s'", pki_dir,
             name, der);
    assert_int_equal(system(cmd), 0);
    return der;
}

/* Parses bytes that must be refused with CERT_PARSE. */
static void assert_rejected(const uint8_t *data, size_t len)
{
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = gs_cert_parse(data, len, &st);
    if (cert) {
        gs_cert_free(cert);
        fail_msg("a %zu-byte input was accepted", len);
    }
    assert_int_equal(st.code, GS_ERR_CERT_PARSE);
}

/* A UTC time from its parts. */
static time_t utc(int year, int mon, int day)
{
    struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day };
    return timegm(&tm);
}

/* ---------------------------------------------------------------- fields from the PKI script */

/* Every subject attribute the script wrote for the employee. */
static void test_employee_subject(void **state)
{
    (void)state;
    gs_cert *c = load("employee.pem");
    const gs_name *s = &c->subject;
    assert_string_equal(s->cn, "Иванов Иван Иванович");
    assert_string_equal(s->sn, "Иванов");
    assert_string_equal(s->g, "Иван Иванович");
    assert_string_equal(s->o, "ООО \"Ромашка\"");
    assert_string_equal(s->ou, "Бухгалтерия");
    assert_string_equal(s->t, "Главный бухгалтер");
    assert_string_equal(s->l, "Москва");
    assert_string_equal(s->st, "77 г. Москва");
    assert_string_equal(s->street, "ул. Тверская, д. 1");
    assert_string_equal(s->e, "user@example.ru");
    assert_string_equal(s->c, "RU");
    assert_string_equal(s->inn, "500100732259");
    assert_string_equal(s->innle, "7707083893");
    assert_string_equal(s->ogrn, "1027700132195");
    assert_string_equal(s->snils, "11223344595");
    assert_null(s->ogrnip);
    assert_non_null(strstr(s->oneline, "CN=Иванов Иван Иванович"));
    assert_non_null(strstr(s->oneline, "SNILS=11223344595"));
    gs_cert_free(c);
}

/* The issuer is the script's CA, and another employee has their own INN/SNILS. */
static void test_issuer_and_other_subject(void **state)
{
    (void)state;
    gs_cert *c = load("other.pem");
    assert_string_equal(c->issuer.cn, "Тестовый УЦ gostsign");
    assert_string_equal(c->issuer.o, "gostsign test");
    assert_string_equal(c->issuer.c, "RU");
    assert_string_equal(c->issuer.innle, "7700000000");
    assert_string_equal(c->issuer.ogrn, "1027700000000");
    assert_null(c->issuer.inn);
    assert_null(c->issuer.snils);
    assert_string_equal(c->subject.cn, "Петров Пётр Петрович");
    assert_string_equal(c->subject.inn, "771234567890");
    assert_string_equal(c->subject.snils, "12345678901");
    gs_cert_free(c);
}

/* Serials follow the script's hex counter starting at 1000, in issue order. */
static void test_serials(void **state)
{
    (void)state;
    static const char *const names[] = { "employee.pem", "employee512.pem", "other.pem",
                                         "expired.pem",  "future.pem",      "gost2001.pem" };
    static const char *const serials[] = { "1000", "1001", "1002", "1003", "1004", "1005" };
    for (size_t i = 0; i < 6; i++) {
        gs_cert *c = load(names[i]);
        assert_string_equal(c->serial_hex, serials[i]);
        gs_cert_free(c);
    }
}

/* Validity windows exactly as the script requested. */
static void test_validity(void **state)
{
    (void)state;
    gs_cert *c = load("expired.pem");
    assert_int_equal(c->not_before, utc(2020, 1, 1));
    assert_int_equal(c->not_after, utc(2021, 1, 1));
    gs_cert_free(c);
    c = load("future.pem");
    assert_int_equal(c->not_before, utc(2040, 1, 1));
    assert_int_equal(c->not_after, utc(2041, 1, 1));
    gs_cert_free(c);
    c = load("employee.pem"); /* -days 365 from the moment the script ran */
    assert_int_equal(c->not_after - c->not_before, 365 * 86400);
    assert_true(c->not_before >= pki_made_at - 5 && c->not_before <= time(NULL) + 5);
    gs_cert_free(c);
}

/* Algorithm, size and parameter set of each key the script generated. */
static void test_keys(void **state)
{
    (void)state;
    static const struct {
        const char *file, *alg_oid, *paramset;
        int bits, gost2001;
    } want[] = {
        { "employee.pem", GOST_OID_KEY_2012_256, "256:B", 256, 0 }, /* paramset TCB */
        { "employee512.pem", GOST_OID_KEY_2012_512, "512:A", 512, 0 },
        { "ca.pem", GOST_OID_KEY_2012_256, "256:A", 256, 0 }, /* paramset TCA */
        { "gost2001.pem", GOST_OID_KEY_2001, "256:CryptoPro-A", 0, 1 },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        gs_cert *c = load(want[i].file);
        assert_string_equal(c->key_algorithm_oid, want[i].alg_oid);
        assert_non_null(c->paramset);
        assert_string_equal(c->paramset->name, want[i].paramset);
        assert_int_equal(c->key_bits, want[i].bits);
        assert_int_equal(c->is_gost2001, want[i].gost2001);
        gs_cert_free(c);
    }
}

/* ee_ext and ca_ext of the script: key usage, EKU, basic constraints. */
static void test_usages(void **state)
{
    (void)state;
    gs_cert *c = load("employee.pem");
    assert_true(c->has_key_usage);
    assert_int_equal(c->key_usage,
                     GS_KU_DIGITAL_SIGNATURE | GS_KU_NON_REPUDIATION | GS_KU_KEY_ENCIPHERMENT);
    assert_int_equal(c->eku_count, 2);
    assert_string_equal(c->eku[0], "1.3.6.1.5.5.7.3.2"); /* clientAuth */
    assert_string_equal(c->eku[1], "1.3.6.1.5.5.7.3.4"); /* emailProtection */
    assert_false(c->is_ca);
    gs_cert_free(c);
    c = load("ca.pem");
    assert_true(c->has_key_usage);
    assert_int_equal(c->key_usage, GS_KU_KEY_CERT_SIGN | GS_KU_CRL_SIGN);
    assert_int_equal(c->eku_count, 0);
    assert_true(c->is_ca);
    assert_null(c->subject_sign_tool);
    assert_int_equal(c->issuer_tool_count, 0);
    assert_int_equal(c->policy_count, 0);
    gs_cert_free(c);
}

/*
 * subjectSignTool, issuerSignTool and the KC policies of ee_ext. OpenSSL's config parser drops
 * the double quotes the script writes around the product names, so the stored strings lack them.
 */
static void test_sign_tools_and_policies(void **state)
{
    (void)state;
    gs_cert *c = load("employee512.pem");
    assert_string_equal(c->subject_sign_tool, "СКЗИ ViPNet CSP 4.4 (тестовый)");
    assert_int_equal(c->issuer_tool_count, 4);
    assert_string_equal(c->issuer_sign_tool[0], "СКЗИ КриптоПро CSP версии 5.0");
    assert_string_equal(c->issuer_sign_tool[1], "ПАК КриптоПро УЦ версии 2.0");
    assert_string_equal(c->issuer_sign_tool[2],
                        "Сертификат соответствия № СФ/124-0000 от 01.01.2025");
    assert_string_equal(c->issuer_sign_tool[3],
                        "Сертификат соответствия № СФ/128-0000 от 01.01.2025");
    assert_int_equal(c->policy_count, 2);
    assert_string_equal(c->policies[0], GS_OID_POLICY_KC1);
    assert_string_equal(c->policies[1], GS_OID_POLICY_KC2);
    assert_string_equal(gs_oid_label_ru(c->policies[0]), "КС1");
    gs_cert_free(c);
}

/* ---------------------------------------------------------------- thumbprints */

/* Lower-cases and strips the colons of `openssl x509 -fingerprint` output after '='. */
static void normalise_fingerprint(const char *line, char *out)
{
    const char *p = strchr(line, '=');
    assert_non_null(p);
    size_t n = 0;
    for (p++; *p; p++)
        if (*p != ':')
            out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    out[n] = '\0';
}

/* SHA-1 and Streebog-256 thumbprints equal what the openssl command computes over the DER. */
static void test_thumbprints_match_openssl(void **state)
{
    (void)state;
    static const char *const names[] = { "employee", "employee512", "ca", "gost2001" };
    for (size_t i = 0; i < 4; i++) {
        char file[64], cmd[1200], line[512], want[130];
        snprintf(file, sizeof(file), "%s.pem", names[i]);
        gs_cert *c = load(file);
        snprintf(cmd, sizeof(cmd),
                 "OPENSSL_CONF=/dev/null openssl x509 -in '%s/%s.pem' -noout -fingerprint -sha1",
                 pki_dir, names[i]);
        run_line(cmd, line, sizeof(line));
        normalise_fingerprint(line, want);
        assert_string_equal(c->sha1_thumbprint, want);
        const char *der = der_of(names[i]);
        snprintf(cmd, sizeof(cmd),
                 "OPENSSL_CONF=/dev/null openssl dgst -engine gost -md_gost12_256 '%s' 2>/dev/null",
                 der);
        run_line(cmd, line, sizeof(line));
        const char *hex = strstr(line, "= ");
        assert_non_null(hex);
        assert_string_equal(c->streebog_thumbprint, hex + 2);
        gs_cert_free(c);
    }
}

/* DER (as `openssl x509 -outform DER` writes it) and PEM give the same model. */
static void test_der_equals_pem(void **state)
{
    (void)state;
    der_of("employee");
    gs_cert *pem = load("employee.pem");
    gs_cert *der = load("employee.der");
    assert_string_equal(pem->sha1_thumbprint, der->sha1_thumbprint);
    assert_string_equal(pem->subject.oneline, der->subject.oneline);
    assert_string_equal(pem->serial_hex, der->serial_hex);
    gs_cert_free(pem);
    gs_cert_free(der);
}

/* ---------------------------------------------------------------- validity judgements */

/* Time checks at the window edges, and the flagged certificates of the PKI. */
static void test_time_checks(void **state)
{
    (void)state;
    gs_status st;
    gs_cert *c = load("employee.pem");
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_OK);
    assert_int_equal(gs_cert_check_time(c, c->not_before, &st), GS_ERR_OK);
    assert_int_equal(gs_cert_check_time(c, c->not_after, &st), GS_ERR_OK);
    assert_int_equal(gs_cert_check_time(c, c->not_after + 1, &st), GS_ERR_CERT_EXPIRED);
    assert_int_equal(gs_cert_check_time(c, c->not_before - 1, &st), GS_ERR_CERT_NOT_YET_VALID);
    assert_int_equal(gs_cert_days_left(c, c->not_before), 365);
    assert_int_equal(gs_cert_days_left(c, c->not_after + 1), -1);
    gs_cert_free(c);

    c = load("expired.pem");
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_CERT_EXPIRED);
    assert_non_null(strstr(st.detail, "2021-01-01"));
    gs_cert_free(c);
    c = load("future.pem");
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_CERT_NOT_YET_VALID);
    gs_cert_free(c);
    c = load("gost2001.pem");
    assert_int_equal(gs_cert_check_time(c, time(NULL), &st), GS_ERR_OK);
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_CERT_GOST2001);
    gs_code problems[4];
    assert_int_equal(gs_cert_problems(c, c->not_after + 10, problems, 4), 2);
    assert_int_equal(problems[0], GS_ERR_CERT_GOST2001);
    assert_int_equal(problems[1], GS_ERR_CERT_EXPIRED);
    gs_cert_free(c);
}

/* JSON of a certificate, serialised and parsed back as a consumer would. */
static json_object *json_roundtrip(const char *file, time_t now)
{
    gs_cert *c = load(file);
    json_object *obj = gs_cert_to_json(c, now);
    json_object *back = json_tokener_parse(json_object_to_json_string(obj));
    assert_non_null(back);
    json_object_put(obj);
    gs_cert_free(c);
    return back;
}

/* Member at a dotted path ("status.code"), asserted to exist. */
static json_object *json_at(json_object *obj, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *key = strtok_r(buf, ".", &save); key; key = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(obj, key, &obj))
            fail_msg("no member %s", path);
    return obj;
}

/* Status codes from the error table, days left, and a few fields through JSON. */
static void test_json(void **state)
{
    (void)state;
    time_t now = time(NULL);
    json_object *j = json_roundtrip("employee.pem", now);
    assert_string_equal(json_object_get_string(json_at(j, "status.code")), "OK");
    assert_true(json_object_get_boolean(json_at(j, "status.usable")));
    assert_int_equal(json_object_array_length(json_at(j, "status.problems")), 0);
    assert_string_equal(json_object_get_string(json_at(j, "subject.inn")), "500100732259");
    assert_string_equal(json_object_get_string(json_at(j, "subject.snils")), "11223344595");
    assert_null(json_at(j, "subject.ogrnip"));
    assert_string_equal(json_object_get_string(json_at(j, "key.paramset")), "256:B");
    assert_int_equal(json_object_get_int(json_at(j, "key.bits")), 256);
    assert_string_equal(json_object_get_string(json_at(j, "subject_sign_tool")),
                        "СКЗИ ViPNet CSP 4.4 (тестовый)");
    assert_int_equal(json_object_array_length(json_at(j, "key_usage")), 3);
    json_object_put(j);

    static const struct {
        const char *file, *code;
    } flagged[] = { { "expired.pem", "CERT_EXPIRED" },
                    { "future.pem", "CERT_NOT_YET_VALID" },
                    { "gost2001.pem", "CERT_GOST2001" } };
    for (size_t i = 0; i < 3; i++) {
        j = json_roundtrip(flagged[i].file, now);
        assert_string_equal(json_object_get_string(json_at(j, "status.code")), flagged[i].code);
        assert_false(json_object_get_boolean(json_at(j, "status.usable")));
        json_object *first = json_object_array_get_idx(json_at(j, "status.problems"), 0);
        assert_int_equal(json_object_get_int(json_at(first, "number")),
                         gs_error_by_name(flagged[i].code)->code);
        json_object_put(j);
    }
    j = json_roundtrip("expired.pem", utc(2021, 1, 11));
    assert_int_equal(json_object_get_int(json_at(j, "status.days_left")), -10);
    assert_string_equal(json_object_get_string(json_at(j, "validity.not_after")),
                        "2021-01-01T00:00:00Z");
    json_object_put(j);
}

/* The one-line owner summary names the person, the organisation and its identifiers. */
static void test_owner_summary(void **state)
{
    (void)state;
    gs_cert *c = load("employee.pem");
    char *s = gs_cert_owner_summary(c);
    assert_string_equal(
        s, "Иванов Иван Иванович, ООО \"Ромашка\" (ИНН 7707083893, ОГРН 1027700132195)");
    free(s);
    gs_cert_free(c);
}

/* ---------------------------------------------------------------- hostile input */

/* Every proper prefix of a DER certificate is refused. */
static void test_truncated_der_rejected(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *der = read_all(der_of("employee"), &len);
    assert_true(len > 500);
    for (size_t cut = 0; cut < len; cut++)
        assert_rejected(der, cut);
    free(der);
}

/* PEM cut anywhere before its END line is refused. */
static void test_truncated_pem_rejected(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *pem = read_all(pki("employee.pem"), &len);
    const char *end = memmem(pem, len, "-----END", 8);
    assert_non_null(end);
    for (size_t cut = 0; cut < (size_t)(end - (const char *)pem); cut += 7)
        assert_rejected(pem, cut);
    free(pem);
}

/* A byte after the DER, garbage, damaged PEM, hostile lengths and oversized input. */
static void test_garbage_rejected(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *der = read_all(der_of("employee"), &len);
    uint8_t *big = calloc(1, GS_CERT_MAX_INPUT + 1);
    assert_non_null(big);
    memcpy(big, der, len);
    assert_rejected(big, len + 1); /* trailing zero byte */
    assert_rejected(big, GS_CERT_MAX_INPUT + 1);
    assert_int_equal(der[4], 0x30); /* SEQUENCE tag of the TBSCertificate */
    der[4] = 0x31;
    assert_rejected(der, len);
    uint32_t x = 12345;
    for (size_t i = 0; i < 4096; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }
    big[0] = 0x30;
    assert_rejected(big, 4096);
    static const uint8_t huge_len[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01 };
    assert_rejected(huge_len, sizeof(huge_len));
    static const char bad_pem[] =
        "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n";
    assert_rejected((const uint8_t *)bad_pem, sizeof(bad_pem) - 1);
    static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    assert_rejected((const uint8_t *)key_pem, sizeof(key_pem) - 1);
    assert_rejected(NULL, 0);
    free(big);
    free(der);
}

/* Files: a missing one is IO_ERROR, a directory is IO_ERROR, a CRL is CERT_PARSE. */
static void test_file_errors(void **state)
{
    (void)state;
    gs_status st;
    assert_null(gs_cert_load_file(pki("no-such-file.pem"), &st));
    assert_int_equal(st.code, GS_ERR_IO_ERROR);
    assert_null(gs_cert_load_file(pki("cadir"), &st));
    assert_int_equal(st.code, GS_ERR_IO_ERROR);
    assert_null(gs_cert_load_file(pki("ca.crl"), &st));
    assert_int_equal(st.code, GS_ERR_CERT_PARSE);
    assert_null(gs_cert_load_file(pki("employee.key"), &st));
    assert_int_equal(st.code, GS_ERR_CERT_PARSE);
}

/* ---------------------------------------------------------------- certificates built here */

/* Adds a name attribute with an explicit ASN.1 string type. */
static void add_entry(X509_NAME *name, const char *oid, int type, const void *bytes, int len)
{
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, oid, type, (const unsigned char *)bytes, len, -1, 0), 1);
}

/* Adds an extension from its raw DER value. */
static void add_raw_extension(X509 *x, int nid, const uint8_t *der, int len)
{
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    assert_int_equal(ASN1_OCTET_STRING_set(os, der, len), 1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_NID(NULL, nid, 0, os);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
}

/* A signed certificate with the given subject, key and a one-year validity. */
static X509 *build_cert(X509_NAME *subject, EVP_PKEY *key)
{
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x2A);
    assert_int_equal(X509_set_subject_name(x, subject), 1);
    assert_int_equal(X509_set_issuer_name(x, subject), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    return x;
}

/* Signs and hands the certificate to the model; the model must keep its own reference. */
static gs_cert *model_of(X509 *x, EVP_PKEY *key, const EVP_MD *md)
{
    assert_true(X509_sign(x, key, md) > 0);
    gs_status st;
    gs_cert *c = gs_cert_from_x509(x, &st);
    assert_non_null(c);
    X509_free(x);
    return c;
}

/* Identifiers as NumericString, PrintableString and UTF8String; a BMPString name; no KU. */
static void test_string_types(void **state)
{
    (void)state;
    gs_status st;
    EVP_PKEY *key = gost_key_generate(gost_paramset_find("256:A"), &st);
    assert_non_null(key);
    X509_NAME *n = X509_NAME_new();
    static const uint8_t bmp_cn[] = { 0x04, 0x22, 0x04, 0x35, 0x04, 0x41, 0x04, 0x42 }; /* Тест */
    add_entry(n, "CN", V_ASN1_BMPSTRING, bmp_cn, sizeof(bmp_cn));
    add_entry(n, GS_OID_INN, V_ASN1_PRINTABLESTRING, "123456789012", -1);
    add_entry(n, GS_OID_INNLE, V_ASN1_NUMERICSTRING, "1234567890", -1);
    add_entry(n, GS_OID_OGRNIP, V_ASN1_UTF8STRING, "304500116000157", -1);
    add_entry(n, GS_OID_SNILS, V_ASN1_PRINTABLESTRING, "11223344595", -1);
    add_entry(n, GS_OID_OGRN, V_ASN1_UTF8STRING, "1027700132195", -1);
    X509 *x = build_cert(n, key);
    gs_cert *c = model_of(x, key, gost_digest_md(256));
    assert_string_equal(c->subject.cn, "Тест");
    assert_string_equal(c->subject.inn, "123456789012");
    assert_string_equal(c->subject.innle, "1234567890");
    assert_string_equal(c->subject.ogrnip, "304500116000157");
    assert_string_equal(c->subject.snils, "11223344595");
    assert_string_equal(c->subject.ogrn, "1027700132195");
    assert_string_equal(c->serial_hex, "2A");
    assert_false(c->has_key_usage);
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_OK);
    char *summary = gs_cert_owner_summary(c);
    assert_string_equal(summary,
                        "Тест (ИНН 1234567890, ОГРН 1027700132195, ОГРНИП 304500116000157)");
    free(summary);
    json_object *j = gs_cert_to_json(c, time(NULL));
    assert_null(json_at(j, "key_usage"));
    json_object_put(j);
    gs_cert_free(c);
    X509_NAME_free(n);
    EVP_PKEY_free(key);
}

/* A non-GOST key is parsed but refused for qualified signatures. */
static void test_non_gost_key(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509_NAME *n = X509_NAME_new();
    add_entry(n, "CN", MBSTRING_UTF8, "ec\x1b[31mtest", -1);
    gs_cert *c = model_of(build_cert(n, key), key, EVP_sha256());
    assert_string_equal(c->key_algorithm_oid, "1.2.840.10045.2.1");
    assert_int_equal(c->key_bits, 0);
    assert_null(c->paramset);
    assert_false(c->is_gost2001);
    assert_string_equal(c->subject.cn, "ec?[31mtest"); /* the escape character is neutralised */
    gs_status st;
    assert_int_equal(gs_cert_check_usable(c, time(NULL), &st), GS_ERR_UNSUPPORTED_ALGORITHM);
    gs_cert_free(c);
    X509_NAME_free(n);
    EVP_PKEY_free(key);
}

/* Malformed signing-tool extensions are left out instead of failing the whole certificate. */
static void test_malformed_sign_tools(void **state)
{
    (void)state;
    gs_status st;
    EVP_PKEY *key = gost_key_generate(gost_paramset_find("256:A"), &st);
    X509_NAME *n = X509_NAME_new();
    add_entry(n, "CN", MBSTRING_UTF8, "tools", -1);
    X509 *x = build_cert(n, key);
    static const uint8_t printable[] = { 0x13, 0x02, 'h', 'i' }; /* PrintableString, not UTF8 */
    add_raw_extension(x, NID_subjectSignTool, printable, sizeof(printable));
    static const uint8_t three[] = {
        0x30, 0x09, 0x0c, 0x01, 'a', 0x0c, 0x01, 'b', 0x0c, 0x01, 'c'
    };
    add_raw_extension(x, NID_issuerSignTool, three, sizeof(three));
    gs_cert *c = model_of(x, key, gost_digest_md(256));
    assert_null(c->subject_sign_tool);
    assert_int_equal(c->issuer_tool_count, 0);
    json_object *j = gs_cert_to_json(c, time(NULL));
    assert_null(json_at(j, "issuer_sign_tool"));
    json_object_put(j);
    gs_cert_free(c);
    X509_NAME_free(n);
    EVP_PKEY_free(key);
}

/* Two keyUsage extensions (OpenSSL marks the certificate invalid) are refused as CERT_PARSE. */
static void test_duplicate_extension_rejected(void **state)
{
    (void)state;
    gs_status st;
    EVP_PKEY *key = gost_key_generate(gost_paramset_find("256:A"), &st);
    X509_NAME *n = X509_NAME_new();
    add_entry(n, "CN", MBSTRING_UTF8, "twice", -1);
    X509 *x = build_cert(n, key);
    static const uint8_t ds[] = { 0x03, 0x02, 0x07, 0x80 };        /* digitalSignature */
    static const uint8_t cert_sign[] = { 0x03, 0x02, 0x02, 0x04 }; /* keyCertSign */
    add_raw_extension(x, NID_key_usage, ds, sizeof(ds));
    add_raw_extension(x, NID_key_usage, cert_sign, sizeof(cert_sign));
    assert_true(X509_sign(x, key, gost_digest_md(256)) > 0);
    gs_status_clear(&st);
    assert_null(gs_cert_from_x509(x, &st));
    assert_int_equal(st.code, GS_ERR_CERT_PARSE);
    X509_free(x);
    X509_NAME_free(n);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_employee_subject),
        cmocka_unit_test(test_issuer_and_other_subject),
        cmocka_unit_test(test_serials),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_usages),
        cmocka_unit_test(test_sign_tools_and_policies),
        cmocka_unit_test(test_thumbprints_match_openssl),
        cmocka_unit_test(test_der_equals_pem),
        cmocka_unit_test(test_time_checks),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_owner_summary),
        cmocka_unit_test(test_truncated_der_rejected),
        cmocka_unit_test(test_truncated_pem_rejected),
        cmocka_unit_test(test_garbage_rejected),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_string_types),
        cmocka_unit_test(test_non_gost_key),
        cmocka_unit_test(test_malformed_sign_tools),
        cmocka_unit_test(test_duplicate_extension_rejected),
    };
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
