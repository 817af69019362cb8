/*
 * GOST R 34.10-2012 through the engine: the standard's examples (GOST R 34.10-2012 Appendix A,
 * RFC 7091 section 7) verify, key generation and signing work on every parameter set, and the
 * PKCS#11 byte layouts round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "gost.h"

typedef struct {
    const char *paramset;
    const char *e;  /* digest as the number alpha / e (big-endian, as printed in the standard) */
    const char *qx; /* public key coordinates, big-endian */
    const char *qy;
    const char *d; /* private key, big-endian */
    const char *r; /* signature components, big-endian */
    const char *s;
} standard_example;

/* Appendix A.1 (256-bit test curve) and A.2 (512-bit test curve). */
static const standard_example examples[] = {
    { "256:test", "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5",
      "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B",
      "26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA",
      "7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28",
      "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493",
      "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40" },
    { "512:test",
      "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591"
      "7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
      "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD"
      "5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
      "37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61"
      "EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC",
      "0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B1020"
      "72E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4",
      "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3"
      "5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
      "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5"
      "823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A" },
};

/* Big-endian hex number to little-endian bytes (PKCS#11 / hash-output order). */
static size_t le_from_hex(const char *hex, uint8_t *out, size_t cap)
{
    long n = gost_unhex(hex, out, cap);
    assert_true(n > 0);
    gost_reverse(out, (size_t)n);
    return (size_t)n;
}

/* Loads the example's public key from the PKCS#11 layout (X||Y little-endian). */
static EVP_PKEY *example_public_key(const standard_example *ex, size_t *n)
{
    const gost_paramset *ps = gost_paramset_find(ex->paramset);
    assert_non_null(ps);
    uint8_t raw[GOST_MAX_PUBKEY];
    *n = le_from_hex(ex->qx, raw, sizeof(raw));
    assert_int_equal(le_from_hex(ex->qy, raw + *n, sizeof(raw) - *n), *n);
    gs_status st;
    EVP_PKEY *pub = gost_pubkey_from_raw(ps, raw, 2 * *n, &st);
    assert_non_null(pub);
    return pub;
}

/* The standard's signature verifies, and a one-bit change does not. */
static void test_standard_examples_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const standard_example *ex = &examples[i];
        size_t n;
        EVP_PKEY *pub = example_public_key(ex, &n);
        uint8_t digest[64], sig[128];
        /* The engine reads the digest bytes as a little-endian number, as GOST R 34.11 emits. */
        assert_int_equal(le_from_hex(ex->e, digest, sizeof(digest)), n);
        assert_int_equal(gost_unhex(ex->s, sig, n), (long)n);
        assert_int_equal(gost_unhex(ex->r, sig + n, n), (long)n);
        gs_status st;
        assert_int_equal(gost_verify_digest(pub, digest, n, sig, 2 * n, &st), GS_ERR_OK);
        sig[5] ^= 1;
        assert_int_equal(gost_verify_digest(pub, digest, n, sig, 2 * n, &st),
                         GS_ERR_CMS_BAD_SIGNATURE);
        EVP_PKEY_free(pub);
    }
}

/* The example's private key d gives the example's public key Q = dP. */
static void test_standard_private_key_derives_public(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const standard_example *ex = &examples[i];
        const gost_paramset *ps = gost_paramset_find(ex->paramset);
        uint8_t d[64], pub[128], want[128];
        size_t n = le_from_hex(ex->d, d, sizeof(d)), publen = 0;
        gs_status st;
        EVP_PKEY *key = gost_privkey_from_raw(ps, d, n, &st);
        assert_non_null(key);
        assert_int_equal(gost_pubkey_to_raw(key, pub, &publen, &st), GS_ERR_OK);
        le_from_hex(ex->qx, want, sizeof(want));
        le_from_hex(ex->qy, want + n, sizeof(want) - n);
        assert_int_equal(publen, 2 * n);
        assert_memory_equal(pub, want, 2 * n);
        EVP_PKEY_free(key);
    }
}

/* Every production parameter set: generate, sign, verify, export and re-import. */
static void test_every_paramset_roundtrip(void **state)
{
    (void)state;
    size_t count = 0;
    const gost_paramset *all = gost_paramset_list(&count);
    for (size_t i = 0; i < count; i++) {
        const gost_paramset *ps = &all[i];
        gs_status st;
        EVP_PKEY *key = gost_key_generate(ps, &st);
        assert_non_null(key);
        assert_int_equal(gost_key_bits(key), ps->key_bits);
        assert_ptr_equal(gost_key_paramset(key), ps);
        size_t n = (size_t)ps->key_bits / 8, siglen = 0, rawlen = 0;
        uint8_t digest[64], sig[128], raw[128];
        assert_int_equal(gost_digest_buffer(ps->key_bits, "gostsign", 8, digest, &st), GS_ERR_OK);
        assert_int_equal(gost_sign_digest(key, digest, n, sig, &siglen, &st), GS_ERR_OK);
        assert_int_equal(siglen, 2 * n);
        assert_int_equal(gost_pubkey_to_raw(key, raw, &rawlen, &st), GS_ERR_OK);
        EVP_PKEY *pub = gost_pubkey_from_raw(ps, raw, rawlen, &st);
        assert_non_null(pub);
        assert_int_equal(gost_verify_digest(pub, digest, n, sig, siglen, &st), GS_ERR_OK);
        digest[0] ^= 0x80;
        assert_int_not_equal(gost_verify_digest(pub, digest, n, sig, siglen, &st), GS_ERR_OK);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(key);
    }
}

/* Name and OID lookups, including CryptoPro aliases sharing TC26 curves. */
static void test_paramset_names(void **state)
{
    (void)state;
    assert_string_equal(gost_paramset_find("A")->name, "256:A");
    assert_string_equal(gost_paramset_find("1.2.643.2.2.35.1")->name, "256:CryptoPro-A");
    assert_string_equal(gost_paramset_find("CryptoPro-A")->same_curve_as, "256:B");
    assert_string_equal(gost_paramset_find("XchA")->oid, "1.2.643.2.2.36.0");
    assert_string_equal(gost_paramset_find("XchB")->same_curve_as, "256:D");
    assert_string_equal(gost_paramset_find("512:C")->oid, "1.2.643.7.1.2.1.2.3");
    assert_string_equal(gost_paramset_find("id-tc26-gost-3410-12-512-paramSetB")->name, "512:B");
    assert_null(gost_paramset_find("256:E"));
    assert_null(gost_paramset_find(""));
}

/* DER OIDs as PKCS#11 CKA_GOSTR3410_PARAMS holds them. */
static void test_oid_der(void **state)
{
    (void)state;
    uint8_t der[32];
    size_t n = 0;
    char back[64];
    gs_status st;
    assert_int_equal(gost_oid_to_der("1.2.643.7.1.2.1.1.1", der, sizeof(der), &n, &st), GS_ERR_OK);
    static const uint8_t want[] = {
        0x06, 0x09, 0x2a, 0x85, 0x03, 0x07, 0x01, 0x02, 0x01, 0x01, 0x01
    };
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(der, want, n);
    assert_int_equal(gost_oid_from_der(der, n, back, sizeof(back), &st), GS_ERR_OK);
    assert_string_equal(back, "1.2.643.7.1.2.1.1.1");
    assert_int_not_equal(gost_oid_from_der(der, n - 1, back, sizeof(back), &st), GS_ERR_OK);
}

/* s||r <-> r||s swaps halves; wrong lengths are refused. */
static void test_signature_layouts(void **state)
{
    (void)state;
    uint8_t sr[64], rs[64], back[64];
    for (int i = 0; i < 64; i++)
        sr[i] = (uint8_t)i;
    gs_status st;
    assert_int_equal(gost_sig_convert(sr, 64, GOST_SIG_S_R, GOST_SIG_R_S, rs, &st), GS_ERR_OK);
    assert_int_equal(rs[0], 32);
    assert_int_equal(rs[32], 0);
    assert_int_equal(gost_sig_convert(rs, 64, GOST_SIG_R_S, GOST_SIG_S_R, back, &st), GS_ERR_OK);
    assert_memory_equal(back, sr, 64);
    assert_int_equal(gost_sig_convert(sr, 63, GOST_SIG_S_R, GOST_SIG_R_S, rs, &st),
                     GS_ERR_BAD_SIGNATURE_FORMAT);
}

/* Wrong-length inputs are errors, never crashes. */
static void test_bad_lengths(void **state)
{
    (void)state;
    const gost_paramset *ps = gost_paramset_find("256:A");
    gs_status st;
    uint8_t junk[200] = { 0 };
    assert_null(gost_pubkey_from_raw(ps, junk, 63, &st));
    assert_int_equal(st.code, GS_ERR_BAD_KEY);
    assert_null(gost_pubkey_from_raw(ps, junk, 64, &st));  /* (0,0) is not on the curve */
    assert_null(gost_privkey_from_raw(ps, junk, 32, &st)); /* d = 0 */
    assert_null(gost_pubkey_from_spki(junk, sizeof(junk), &st));
}

/*
 * Issue 17, target 3: a key pair's scalar is wiped (no signature without it) and put back into
 * the same pair, whose public point stayed; the signature then verifies with the standard's
 * own public key (not one derived by our code), and a zero or short scalar is refused.
 */
static void test_private_scalar_wipe_and_restore(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const standard_example *ex = &examples[i];
        uint8_t d[64], digest[64], sig[128], zero[64] = { 0 };
        size_t n = le_from_hex(ex->d, d, sizeof(d)), siglen = sizeof(sig), publen;
        gs_status st;
        EVP_PKEY *key = gost_privkey_from_raw(gost_paramset_find(ex->paramset), d, n, &st);
        assert_non_null(key);
        assert_true(gost_privkey_present(key));
        gost_privkey_wipe(key);
        assert_false(gost_privkey_present(key));
        le_from_hex(ex->e, digest, sizeof(digest));
        assert_int_not_equal(gost_sign_digest(key, digest, n, sig, &siglen, &st), GS_ERR_OK);
        assert_int_not_equal(gost_privkey_set_raw(key, zero, n, &st), GS_ERR_OK);
        assert_int_not_equal(gost_privkey_set_raw(key, d, n - 1, &st), GS_ERR_OK);
        assert_int_equal(gost_privkey_set_raw(key, d, n, &st), GS_ERR_OK);
        assert_true(gost_privkey_present(key));
        siglen = sizeof(sig);
        assert_int_equal(gost_sign_digest(key, digest, n, sig, &siglen, &st), GS_ERR_OK);
        EVP_PKEY *pub = example_public_key(ex, &publen);
        assert_int_equal(gost_verify_digest(pub, digest, n, sig, siglen, &st), GS_ERR_OK);
        EVP_PKEY_free(pub);
        EVP_PKEY_free(key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_examples_verify),
        cmocka_unit_test(test_standard_private_key_derives_public),
        cmocka_unit_test(test_every_paramset_roundtrip),
        cmocka_unit_test(test_paramset_names),
        cmocka_unit_test(test_oid_der),
        cmocka_unit_test(test_signature_layouts),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_private_scalar_wipe_and_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
