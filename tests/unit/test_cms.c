/*
 * CMS/CAdES-BES through the library API: building with a signer callback (software key, failing,
 * short, garbage and foreign-key callbacks), verification of every failure class, and hostile
 * input. The test PKI comes from tests/data/make-test-pki.sh (the openssl command + GOST engine);
 * one signature is also checked with `openssl cms -verify`, independently of this code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "gost.h"

static char pki[256];
static const uint8_t message[] = "Платёжное поручение № 42 на 1 000 000 руб.\n";

/* A key and certificate of the test PKI. */
typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} identity;

/* Counts and inspects callback invocations. */
typedef struct {
    EVP_PKEY *key;
    int calls;
    size_t digest_len;
    gs_code fail_with; /* non-OK: return this */
    long force_len;    /* >= 0: report this signature length */
    int garbage;       /* 1: return random bytes of the right length */
} signer_probe;

/* Path inside the PKI directory (four rotating buffers: several may appear in one call). */
static const char *pki_path(const char *name)
{
    static char paths[4][512];
    static unsigned next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof(paths[0]), "%s/%s", pki, name);
    return path;
}

/* Loads NAME.key and NAME.pem. */
static identity load_identity(const char *name)
{
    char file[64];
    identity id;
    snprintf(file, sizeof(file), "%s.key", name);
    FILE *f = fopen(pki_path(file), "r");
    assert_non_null(f);
    id.key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(file, sizeof(file), "%s.pem", name);
    f = fopen(pki_path(file), "r");
    assert_non_null(f);
    id.cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(id.key);
    assert_non_null(id.cert);
    return id;
}

/* Releases what load_identity loaded. */
static void free_identity(identity *id)
{
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
}

/* The configurable test signer. */
static gs_code probe_sign(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                          size_t *sig_len, gs_status *st)
{
    signer_probe *p = ctx;
    p->calls++;
    p->digest_len = tbs->digest_len;
    /* the data handed over is what the digest was computed from */
    uint8_t again[GOST_MAX_DIGEST];
    gs_status ignored;
    if (gost_digest_buffer((int)tbs->digest_len * 8, tbs->data, tbs->data_len, again, &ignored) !=
            GS_ERR_OK ||
        memcmp(again, tbs->digest, tbs->digest_len) != 0)
        return gs_fail(st, GS_ERR_INTERNAL, "signed-attributes data does not match its digest");
    if (p->fail_with != GS_ERR_OK)
        return p->fail_with;
    gs_code rc = gs_cms_sign_with_pkey(p->key, tbs, sig, sig_cap, sig_len, st);
    if (p->garbage)
        for (size_t i = 0; i < *sig_len; i++)
            sig[i] = (uint8_t)(i * 37 + 11);
    if (p->force_len >= 0)
        *sig_len = (size_t)p->force_len;
    return rc;
}

/* Group setup: a fresh test PKI made by the openssl command. */
static int make_pki(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    snprintf(pki, sizeof(pki), "%s/gostsign-test-cms.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!root || !mkdtemp(pki))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash '%s/tests/data/make-test-pki.sh' '%s' >/dev/null", root, pki);
    gs_status st;
    return system(cmd) == 0 && gost_init(&st) == GS_ERR_OK ? 0 : -1;
}

/* Group teardown: removes the PKI. */
static int remove_pki(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return system(cmd) == 0 ? 0 : -1;
}

/* Parameters for signing `message` with a probe. */
static gs_cms_sign_params params_for(identity *id, signer_probe *probe)
{
    gs_cms_sign_params p;
    gs_cms_sign_params_init(&p);
    p.cert = id->cert;
    p.sign = probe_sign;
    p.sign_ctx = probe;
    p.content = message;
    p.content_len = sizeof(message) - 1;
    memset(probe, 0, sizeof(*probe));
    probe->key = id->key;
    probe->force_len = -1;
    return p;
}

/* Signs and asserts success. */
static uint8_t *sign_ok(const gs_cms_sign_params *p, size_t *len)
{
    uint8_t *der = NULL;
    gs_status st;
    gs_code rc = gs_cms_sign(p, &der, len, &st);
    if (rc != GS_ERR_OK)
        fail_msg("gs_cms_sign: %d %s", rc, st.detail);
    return der;
}

/* Verifies with buffer content (or none) and returns the code. */
static gs_code verify(const uint8_t *der, size_t len, const uint8_t *content, size_t clen,
                      const char *ca_dir, const char *crl, gs_cms_verify_result *res)
{
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.content = content;
    o.content_len = clen;
    o.ca_dir = ca_dir;
    o.crl_file = crl;
    gs_status st;
    gs_cms_verify_result local;
    gs_code rc = gs_cms_verify(der, len, &o, res ? res : &local, &st);
    if (getenv("CMS_TEST_DEBUG"))
        fprintf(stderr, "verify: %s (%s)\n", gs_error_lookup(rc)->name, st.detail);
    if (!res)
        gs_cms_verify_result_clear(&local);
    return rc;
}

/* Detached 256-bit: callback sees a 32-byte digest once; verify reports signer, time, chain. */
static void test_detached_256_roundtrip(void **state)
{
    (void)state;
    identity id = load_identity("employee");
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    p.signing_time = time(NULL) + 120;
    size_t len;
    uint8_t *der = sign_ok(&p, &len);
    assert_int_equal(probe.calls, 1);
    assert_int_equal(probe.digest_len, 32);

    gs_cms_verify_result r;
    assert_int_equal(verify(der, len, message, sizeof(message) - 1, NULL, NULL, &r), GS_ERR_OK);
    assert_non_null(r.signer);
    assert_string_equal(r.signer->subject.inn, "500100732259");
    assert_int_equal(r.signing_time, p.signing_time);
    assert_true(r.has_signing_time && r.has_signing_cert_v2);
    assert_false(r.attached);
    assert_false(r.chain_checked);
    assert_int_equal(r.digest_bits, 256);
    gs_cms_verify_result_clear(&r);

    assert_int_equal(
        verify(der, len, message, sizeof(message) - 1, pki_path("cadir"), pki_path("ca.crl"), &r),
        GS_ERR_OK);
    assert_true(r.chain_checked && r.crl_checked);
    gs_cms_verify_result_clear(&r);
    OPENSSL_free(der);
    free_identity(&id);
}

/* Attached 512-bit: 64-byte digest, content comes out of the CMS. */
static void test_attached_512_roundtrip(void **state)
{
    (void)state;
    identity id = load_identity("employee512");
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    p.attached = 1;
    size_t len;
    uint8_t *der = sign_ok(&p, &len);
    assert_int_equal(probe.digest_len, 64);
    gs_cms_verify_result r;
    assert_int_equal(verify(der, len, NULL, 0, pki_path("cadir"), NULL, &r), GS_ERR_OK);
    assert_true(r.attached);
    assert_int_equal(r.digest_bits, 512);
    gs_cms_verify_result_clear(&r);
    /* External content that differs from the embedded one is refused. */
    assert_int_equal(verify(der, len, (const uint8_t *)"other", 5, NULL, NULL, NULL),
                     GS_ERR_CMS_DIGEST_MISMATCH);
    OPENSSL_free(der);
    free_identity(&id);
}

/* Writes bytes to a file in the PKI directory. */
static void write_file(const char *name, const uint8_t *data, size_t len)
{
    FILE *f = fopen(pki_path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Precomputed digest (gost_digest_fd) for a file; `openssl cms -verify` accepts the result. */
static void test_precomputed_digest_openssl_accepts(void **state)
{
    (void)state;
    identity id = load_identity("employee");
    write_file("msg.bin", message, sizeof(message) - 1);
    FILE *f = fopen(pki_path("msg.bin"), "rb");
    assert_non_null(f);
    uint8_t md[32];
    gs_status st;
    assert_int_equal(gost_digest_fd(256, fileno(f), md, &st), GS_ERR_OK);
    fclose(f);

    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    p.content = NULL;
    p.content_digest = md;
    p.content_digest_len = sizeof(md);
    size_t len;
    uint8_t *der = sign_ok(&p, &len);
    write_file("msg.p7s", der, len);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "OPENSSL_CONF=/dev/null openssl cms -verify -engine gost -binary -inform DER "
             "-in '%s/msg.p7s' -content '%s/msg.bin' -CAfile '%s/ca.pem' -out /dev/null "
             ">/dev/null 2>&1",
             pki, pki, pki);
    assert_int_equal(system(cmd), 0);

    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.content_digest = md;
    o.content_digest_len = sizeof(md);
    gs_cms_verify_result r;
    assert_int_equal(gs_cms_verify(der, len, &o, &r, &st), GS_ERR_OK);
    gs_cms_verify_result_clear(&r);
    md[0] ^= 1;
    assert_int_equal(gs_cms_verify(der, len, &o, &r, &st), GS_ERR_CMS_DIGEST_MISMATCH);
    gs_cms_verify_result_clear(&r);
    o.content_digest_len = 64;
    assert_int_equal(gs_cms_verify(der, len, &o, &r, &st), GS_ERR_BAD_REQUEST);
    gs_cms_verify_result_clear(&r);
    OPENSSL_free(der);
    free_identity(&id);
}

/* A failing callback: nothing is produced and its code comes back unchanged. */
static void test_callback_failure(void **state)
{
    (void)state;
    identity id = load_identity("employee");
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    static const gs_code failures[] = { GS_ERR_SIGN_FAILED, GS_ERR_USER_CANCELLED,
                                        GS_ERR_PIN_INCORRECT };
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        probe.fail_with = failures[i];
        uint8_t *der = NULL;
        size_t len = 0;
        gs_status st;
        assert_int_equal(gs_cms_sign(&p, &der, &len, &st), failures[i]);
        assert_int_equal(st.code, failures[i]);
        assert_null(der);
    }
    free_identity(&id);
}

/* Wrong-length, garbage and foreign-key signatures are refused with clean codes. */
static void test_callback_bad_signatures(void **state)
{
    (void)state;
    identity id = load_identity("employee");
    identity other = load_identity("other");
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    uint8_t *der = NULL;
    size_t len = 0;
    gs_status st;
    static const long lengths[] = { 0, 1, 63, 65, 128 };
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        probe.force_len = lengths[i];
        assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_BAD_SIGNATURE_FORMAT);
        assert_null(der);
    }
    probe.force_len = -1;
    probe.garbage = 1;
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_CERT_MISMATCH);
    probe.garbage = 0;
    probe.key = other.key;
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_CERT_MISMATCH);
    assert_null(der);
    free_identity(&other);
    free_identity(&id);
}

/* Parameter mistakes and GOST-2001 certificates are refused before the callback runs. */
static void test_sign_param_errors(void **state)
{
    (void)state;
    identity id = load_identity("employee");
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    uint8_t md[32] = { 0 }, *der = NULL;
    size_t len;
    gs_status st;
    p.content = NULL;
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_BAD_REQUEST);
    p.content = message;
    p.content_digest = md;
    p.content_digest_len = sizeof(md);
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_BAD_REQUEST);
    p.content = NULL;
    p.attached = 1;
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_BAD_REQUEST);
    p.attached = 0;
    p.content_digest_len = 64;
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_BAD_REQUEST);
    assert_int_equal(gs_cms_sign(NULL, &der, &len, &st), GS_ERR_BAD_REQUEST);
    assert_int_equal(probe.calls, 0);
    free_identity(&id);

    identity old = load_identity("gost2001");
    p = params_for(&old, &probe);
    assert_int_equal(gs_cms_sign(&p, &der, &len, &st), GS_ERR_CERT_GOST2001);
    assert_int_equal(probe.calls, 0);
    assert_null(der);
    free_identity(&old);
}

/* Signs message with NAME's key and certificate, plus options. */
static uint8_t *sign_as(const char *name, int omit_cert, X509 *extra, time_t when, size_t *len)
{
    identity id = load_identity(name);
    signer_probe probe;
    gs_cms_sign_params p = params_for(&id, &probe);
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (extra)
        sk_X509_push(chain, extra);
    p.chain = chain;
    p.omit_signer_cert = omit_cert;
    p.signing_time = when;
    uint8_t *der = sign_ok(&p, len);
    sk_X509_free(chain);
    free_identity(&id);
    return der;
}

/* Each verification failure has its own code. */
static void test_verify_failures(void **state)
{
    (void)state;
    size_t len, n = sizeof(message) - 1;
    uint8_t *der = sign_as("employee", 0, NULL, 0, &len);
    uint8_t tampered[sizeof(message)];
    memcpy(tampered, message, sizeof(message));
    tampered[3] ^= 0x20;
    assert_int_equal(verify(der, len, tampered, n, NULL, NULL, NULL), GS_ERR_CMS_DIGEST_MISMATCH);
    assert_int_equal(verify(der, len, NULL, 0, NULL, NULL, NULL), GS_ERR_CMS_CONTENT_MISSING);
    uint8_t *bad = OPENSSL_memdup(der, len);
    bad[len - 1] ^= 1; /* the signature value ends the DER */
    assert_int_equal(verify(bad, len, message, n, NULL, NULL, NULL), GS_ERR_CMS_BAD_SIGNATURE);
    OPENSSL_free(bad);
    assert_int_equal(verify(der, len, message, n, pki_path("nonexistent"), NULL, NULL),
                     GS_ERR_IO_ERROR);
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    o.content = message;
    o.content_len = n;
    o.ca_file = pki_path("other.pem"); /* a trust store that does not hold our CA */
    gs_cms_verify_result r;
    gs_status st;
    assert_int_equal(gs_cms_verify(der, len, &o, &r, &st), GS_ERR_CERT_UNTRUSTED);
    gs_cms_verify_result_clear(&r);
    assert_int_equal(verify(der, len, message, n, NULL, pki_path("ca.crl"), NULL),
                     GS_ERR_CRL_INVALID);
    assert_int_equal(verify(der, len, message, n, pki_path("cadir"), pki_path("ca.pem"), NULL),
                     GS_ERR_CRL_INVALID);
    OPENSSL_free(der);

    identity other = load_identity("other");
    der = sign_as("employee", 1, other.cert, 0, &len);
    assert_int_equal(verify(der, len, message, n, NULL, NULL, NULL), GS_ERR_CERT_MISMATCH);
    OPENSSL_free(der);
    free_identity(&other);
    der = sign_as("employee", 1, NULL, 0, &len);
    assert_int_equal(verify(der, len, message, n, NULL, NULL, NULL), GS_ERR_CMS_SIGNER_NOT_FOUND);
    OPENSSL_free(der);

    der = sign_as("revoked", 0, NULL, 0, &len);
    assert_int_equal(verify(der, len, message, n, pki_path("cadir"), NULL, NULL), GS_ERR_OK);
    assert_int_equal(verify(der, len, message, n, pki_path("cadir"), pki_path("ca.crl"), NULL),
                     GS_ERR_CERT_REVOKED);
    OPENSSL_free(der);
}

/* Validity is judged at signing time: the expired certificate is fine for a 2020 signature. */
static void test_validity_at_signing_time(void **state)
{
    (void)state;
    size_t len, n = sizeof(message) - 1;
    uint8_t *der = sign_as("expired", 0, NULL, 0, &len);
    gs_cms_verify_result r;
    assert_int_equal(verify(der, len, message, n, NULL, NULL, &r), GS_ERR_CERT_EXPIRED);
    assert_non_null(r.signer); /* the caller can still say whose it was */
    gs_cms_verify_result_clear(&r);
    OPENSSL_free(der);
    der = sign_as("expired", 0, NULL, 1591000000 /* 2020-06-01 */, &len);
    assert_int_equal(verify(der, len, message, n, NULL, NULL, NULL), GS_ERR_OK);
    OPENSSL_free(der);
    der = sign_as("employee", 0, NULL, 1591000000, &len);
    assert_int_equal(verify(der, len, message, n, NULL, NULL, NULL), GS_ERR_CERT_NOT_YET_VALID);
    OPENSSL_free(der);
}

/* PEM with either label parses; every truncation and garbage give CMS_PARSE. */
static void test_parse_hostile(void **state)
{
    (void)state;
    size_t len, n = sizeof(message) - 1;
    uint8_t *der = sign_as("employee", 0, NULL, 0, &len);
    static const char *labels[] = { "CMS", "PKCS7" };
    for (size_t i = 0; i < 2; i++) {
        BIO *b = BIO_new(BIO_s_mem());
        assert_true(PEM_write_bio(b, labels[i], "", der, (long)len) > 0);
        char *pem;
        long pem_len = BIO_get_mem_data(b, &pem);
        assert_int_equal(verify((uint8_t *)pem, (size_t)pem_len, message, n, NULL, NULL, NULL),
                         GS_ERR_OK);
        BIO_free(b);
    }
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 7)
        assert_int_equal(verify(der, cut, message, n, NULL, NULL, NULL), GS_ERR_CMS_PARSE);
    uint8_t *longer = OPENSSL_malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(verify(longer, len + 1, message, n, NULL, NULL, NULL), GS_ERR_CMS_PARSE);
    OPENSSL_free(longer);
    static const uint8_t huge[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09 };
    assert_int_equal(verify(huge, sizeof(huge), message, n, NULL, NULL, NULL), GS_ERR_CMS_PARSE);
    assert_int_equal(verify(NULL, 0, message, n, NULL, NULL, NULL), GS_ERR_CMS_PARSE);
    /* Every single-byte change: a clean code, never a crash (a few fields are not signed). */
    for (size_t i = 0; i < len; i++) {
        der[i] ^= 0x5a;
        gs_code rc = verify(der, len, message, n, NULL, NULL, NULL);
        assert_true(rc == GS_ERR_OK || gs_error_lookup(rc)->code == rc);
        der[i] ^= 0x5a;
    }
    OPENSSL_free(der);
}

/* One group sharing one test PKI. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detached_256_roundtrip),
        cmocka_unit_test(test_attached_512_roundtrip),
        cmocka_unit_test(test_precomputed_digest_openssl_accepts),
        cmocka_unit_test(test_callback_failure),
        cmocka_unit_test(test_callback_bad_signatures),
        cmocka_unit_test(test_sign_param_errors),
        cmocka_unit_test(test_verify_failures),
        cmocka_unit_test(test_validity_at_signing_time),
        cmocka_unit_test(test_parse_hostile),
    };
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
