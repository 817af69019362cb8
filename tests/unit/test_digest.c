/*
 * Streebog known answers from GOST R 34.11-2012 Appendix A / RFC 6986 section 10
 * (messages M1 and M2; digests as the hash output bytes, which is how `openssl dgst` prints them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#include <cmocka.h>

#include "gost.h"

static const char M1[] = "012345678901234567890123456789012345678901234567890123456789012";

/* M2 is the standard's Cyrillic sentence in CP1251. */
static const char M2_HEX[] = "d1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20"
                             "f120eceef0ff20f1f2f0e5ebe0ece820ede020f5f0e0e1f0fbff20efebfaeafb"
                             "20c8e3eef0e5e2fb";

static const char M1_256[] = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500";
static const char M1_512[] = "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
                             "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48";
static const char M2_256[] = "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50";
static const char M2_512[] = "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
                             "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28";

/* Hashes buf one-shot and compares with the expected hex. */
static void expect_digest(int bits, const uint8_t *buf, size_t len, const char *want)
{
    uint8_t md[GOST_MAX_DIGEST];
    char hex[2 * GOST_MAX_DIGEST + 1];
    gs_status st;
    assert_int_equal(gost_digest_buffer(bits, buf, len, md, &st), GS_ERR_OK);
    gost_hex(md, (size_t)bits / 8, hex);
    assert_string_equal(hex, want);
}

static void test_m1(void **state)
{
    (void)state;
    expect_digest(256, (const uint8_t *)M1, strlen(M1), M1_256);
    expect_digest(512, (const uint8_t *)M1, strlen(M1), M1_512);
}

static void test_m2(void **state)
{
    (void)state;
    uint8_t m2[128];
    long n = gost_unhex(M2_HEX, m2, sizeof(m2));
    assert_int_equal(n, 72);
    expect_digest(256, m2, (size_t)n, M2_256);
    expect_digest(512, m2, (size_t)n, M2_512);
}

/* Feeding the message byte by byte must give the same answer as one call. */
static void test_streaming_matches_oneshot(void **state)
{
    (void)state;
    gs_status st;
    gost_digest *d = gost_digest_new(512, &st);
    assert_non_null(d);
    for (size_t i = 0; i < strlen(M1); i++)
        assert_int_equal(gost_digest_update(d, M1 + i, 1, &st), GS_ERR_OK);
    uint8_t md[64];
    char hex[129];
    assert_int_equal(gost_digest_final(d, md, &st), GS_ERR_OK);
    gost_digest_free(d);
    gost_hex(md, 64, hex);
    assert_string_equal(hex, M1_512);
}

/* The fd path (used for multi-gigabyte files) reads through a pipe in chunks. */
static void test_fd_digest(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], M1, strlen(M1)), (ssize_t)strlen(M1));
    close(p[1]);
    uint8_t md[32];
    char hex[65];
    gs_status st;
    assert_int_equal(gost_digest_fd(256, p[0], md, &st), GS_ERR_OK);
    close(p[0]);
    gost_hex(md, 32, hex);
    assert_string_equal(hex, M1_256);
}

static void test_bad_size_rejected(void **state)
{
    (void)state;
    gs_status st;
    assert_null(gost_digest_new(384, &st));
    assert_int_equal(st.code, GS_ERR_UNSUPPORTED_ALGORITHM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m1),
        cmocka_unit_test(test_m2),
        cmocka_unit_test(test_streaming_matches_oneshot),
        cmocka_unit_test(test_fd_digest),
        cmocka_unit_test(test_bad_size_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
