/*
 * PKCS#12 decoding: files made by `openssl pkcs12 -export -engine gost` with the default
 * (PBKDF2/AES-256, HMAC-SHA-256) and GOST protections (GOST 28147-89, Kuznyechik and Magma
 * CTR-ACPKM with Streebog MACs) decode to the same key and certificate the openssl command put in
 * (compared with the PEM files, read by OpenSSL, not by this code); wrong passwords, damaged
 * files, RSA and GOST-2001 keys and incomplete files each get their own code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "gost.h"

static char dir[256];

/* Runs a shell command in the test directory with the GOST engine available. */
static int sh(const char *fmt, ...)
{
    char cmd[2400], inner[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inner, sizeof(inner), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "cd '%s' && OPENSSL_CONF=/dev/null %s >/dev/null 2>&1", dir, inner);
    return system(cmd);
}

/* Exports NAME.key + NAME.pem as OUT.p12 with the password "secret" and extra options. */
static int export(const char *name, const char *out, const char *extra)
{
    return sh("openssl pkcs12 -export -engine gost -inkey pki/%s.key -in pki/%s.pem "
              "-passout pass:secret %s -out %s.p12",
              name, name, extra, out);
}

/* Group setup: the test PKI, then PFX files in every flavour the tests need. */
static int make_files(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    snprintf(dir, sizeof(dir), "%s/gostsign-test-p12.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!root || !mkdtemp(dir))
        return -1;
    gs_status st;
    int bad =
        sh("bash '%s/tests/data/make-test-pki.sh' pki", root) ||
        export("employee", "default", "") ||
        export("employee", "gost89", "-keypbe gost89 -certpbe gost89 -macalg md_gost12_256") ||
        export("employee512", "kuz512",
               "-keypbe kuznyechik-ctr-acpkm -certpbe kuznyechik-ctr-acpkm "
               "-macalg md_gost12_512 -name 'Иванов И.И.'") ||
        export("employee", "magma",
               "-keypbe magma-ctr-acpkm -certpbe magma-ctr-acpkm "
               "-macalg md_gost12_256") ||
        export("gost2001", "gost2001", "") ||
        sh("openssl pkcs12 -export -engine gost -inkey pki/employee.key -nocerts "
           "-passout pass:secret -out nocert.p12") ||
        sh("openssl pkcs12 -export -engine gost -in pki/employee.pem -nokeys "
           "-passout pass:secret -out nokey.p12") ||
        sh("openssl pkcs12 -export -engine gost -inkey pki/employee.key -in pki/employee.pem "
           "-passout pass: -out empty.p12") ||
        sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=rsa "
           "-days 1 -out rsa.pem && openssl pkcs12 -export -inkey rsa.key -in rsa.pem "
           "-passout pass:secret -out rsa.p12");
    return !bad && gost_init(&st) == GS_ERR_OK ? 0 : -1;
}

/* Group teardown. */
static int remove_files(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Reads a file of the test directory into a malloc'd buffer. */
static uint8_t *slurp(const char *name, size_t *len)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(GS_PKCS12_MAX_INPUT);
    assert_non_null(buf);
    *len = fread(buf, 1, GS_PKCS12_MAX_INPUT, f);
    fclose(f);
    return buf;
}

/* Parses a file of the test directory. */
static gs_pkcs12 *parse_file(const char *name, const char *password, gs_status *st)
{
    size_t len = 0;
    uint8_t *der = slurp(name, &len);
    gs_pkcs12 *p = gs_pkcs12_parse(der, len, password, st);
    free(der);
    return p;
}

/* The decoded key and certificate are those of pki/NAME.key / .pem, read by OpenSSL's PEM code. */
static void assert_same_as_pem(const gs_pkcs12 *p, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/pki/%s.key", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *want_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/pki/%s.pem", dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    X509 *want_cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(want_key);
    assert_non_null(want_cert);
    uint8_t a[64], b[64];
    size_t alen = sizeof(a), blen = sizeof(b);
    gs_status st;
    assert_int_equal(gost_privkey_to_raw(p->key, a, &alen, &st), GS_ERR_OK);
    assert_int_equal(gost_privkey_to_raw(want_key, b, &blen, &st), GS_ERR_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    assert_int_equal(X509_cmp(p->cert, want_cert), 0);
    EVP_PKEY_free(want_key);
    X509_free(want_cert);
}

/* openssl's default protection (PBKDF2 + AES-256-CBC, HMAC-SHA-256). */
static void test_default_pbe(void **state)
{
    (void)state;
    gs_status st;
    gs_pkcs12 *p = parse_file("default.p12", "secret", &st);
    assert_non_null(p);
    assert_int_equal(p->key_bits, 256);
    assert_string_equal(p->paramset->name, "256:B");
    assert_same_as_pem(p, "employee");
    gs_pkcs12_free(p);
}

/* GOST 28147-89 PBES2 and a Streebog-256 MAC. */
static void test_gost89(void **state)
{
    (void)state;
    gs_status st;
    gs_pkcs12 *p = parse_file("gost89.p12", "secret", &st);
    assert_non_null(p);
    assert_same_as_pem(p, "employee");
    gs_pkcs12_free(p);
}

/* A 512-bit key under Kuznyechik-CTR-ACPKM with a Streebog-512 MAC, and its friendlyName. */
static void test_kuznyechik_512(void **state)
{
    (void)state;
    gs_status st;
    gs_pkcs12 *p = parse_file("kuz512.p12", "secret", &st);
    assert_non_null(p);
    assert_int_equal(p->key_bits, 512);
    assert_same_as_pem(p, "employee512");
    assert_non_null(p->friendly_name);
    assert_string_equal(p->friendly_name, "Иванов И.И.");
    gs_pkcs12_free(p);
}

/* Magma-CTR-ACPKM. */
static void test_magma(void **state)
{
    (void)state;
    gs_status st;
    gs_pkcs12 *p = parse_file("magma.p12", "secret", &st);
    assert_non_null(p);
    assert_same_as_pem(p, "employee");
    gs_pkcs12_free(p);
}

/* An empty password opens a file exported with an empty password, NULL as well. */
static void test_empty_password(void **state)
{
    (void)state;
    gs_status st;
    gs_pkcs12 *p = parse_file("empty.p12", "", &st);
    assert_non_null(p);
    gs_pkcs12_free(p);
    p = parse_file("empty.p12", NULL, &st);
    assert_non_null(p);
    gs_pkcs12_free(p);
    assert_null(parse_file("empty.p12", "x", &st));
    assert_int_equal(st.code, GS_ERR_PKCS12_BAD_PASSWORD);
}

/* Wrong passwords: the MAC fails, for each protection. */
static void test_wrong_password(void **state)
{
    (void)state;
    const char *files[] = { "default.p12", "gost89.p12", "kuz512.p12", "magma.p12" };
    for (size_t i = 0; i < 4; i++) {
        gs_status st;
        assert_null(parse_file(files[i], "Secret", &st));
        assert_int_equal(st.code, GS_ERR_PKCS12_BAD_PASSWORD);
        assert_null(parse_file(files[i], "", &st));
        assert_int_equal(st.code, GS_ERR_PKCS12_BAD_PASSWORD);
    }
}

/* Truncated, extended, garbage and empty input: PKCS12_DAMAGED, never a crash. */
static void test_damaged(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *der = slurp("gost89.p12", &len);
    gs_status st;
    size_t cuts[] = { 0, 1, 2, 10, len / 2, len - 1 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        assert_null(gs_pkcs12_parse(der, cuts[i], "secret", &st));
        assert_int_equal(st.code, GS_ERR_PKCS12_DAMAGED);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_null(gs_pkcs12_parse(longer, len + 1, "secret", &st));
    assert_int_equal(st.code, GS_ERR_PKCS12_DAMAGED);
    for (size_t i = 0; i < len; i++)
        longer[i] = (uint8_t)(i * 7 + 3);
    assert_null(gs_pkcs12_parse(longer, len, "secret", &st));
    assert_int_equal(st.code, GS_ERR_PKCS12_DAMAGED);
    free(longer);
    free(der);
}

/* RSA and GOST R 34.10-2001 keys are refused with their own codes. */
static void test_unsupported_keys(void **state)
{
    (void)state;
    gs_status st;
    assert_null(parse_file("rsa.p12", "secret", &st));
    assert_int_equal(st.code, GS_ERR_UNSUPPORTED_ALGORITHM);
    assert_null(parse_file("gost2001.p12", "secret", &st));
    assert_int_equal(st.code, GS_ERR_CERT_GOST2001);
}

/* A key without its certificate, or certificates without a key: PKCS12_INCOMPLETE. */
static void test_incomplete(void **state)
{
    (void)state;
    gs_status st;
    assert_null(parse_file("nocert.p12", "secret", &st));
    assert_int_equal(st.code, GS_ERR_PKCS12_INCOMPLETE);
    assert_null(parse_file("nokey.p12", "secret", &st));
    assert_int_equal(st.code, GS_ERR_PKCS12_INCOMPLETE);
}

/* Test entry point. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_pbe),    cmocka_unit_test(test_gost89),
        cmocka_unit_test(test_kuznyechik_512), cmocka_unit_test(test_magma),
        cmocka_unit_test(test_empty_password), cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_damaged),        cmocka_unit_test(test_unsupported_keys),
        cmocka_unit_test(test_incomplete),
    };
    return cmocka_run_group_tests(tests, make_files, remove_files);
}
