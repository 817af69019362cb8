/*
 * Base64 of protocol fields (agent/base64.c): the test vectors of RFC 4648 section 10 both ways,
 * every byte value through a round trip, and the refusals the protocol documents (a length that
 * is not a multiple of 4, characters outside the alphabet, padding in the middle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

/* RFC 4648, section 10. */
static const struct {
    const char *data, *base64;
} rfc4648_vectors[] = {
    { "", "" },
    { "f", "Zg==" },
    { "fo", "Zm8=" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" },
    { "fooba", "Zm9vYmE=" },
    { "foobar", "Zm9vYmFy" },
};

/* Encodes data and compares the JSON string with the expected text. */
static void assert_encodes_to(const uint8_t *data, size_t len, const char *expected)
{
    json_object *s = gs_base64_json(data, len);
    assert_non_null(s);
    assert_string_equal(json_object_get_string(s), expected);
    json_object_put(s);
}

/* Decodes text and compares the bytes with the expected ones. */
static void assert_decodes_to(const char *text, const uint8_t *expected, size_t len)
{
    uint8_t *out = NULL;
    size_t out_len = 99;
    gs_status st;
    gs_status_clear(&st);
    assert_int_equal(gs_base64_decode(text, &out, &out_len, &st), GS_ERR_OK);
    assert_int_equal(out_len, len);
    if (len)
        assert_memory_equal(out, expected, len);
    free(out);
}

/* Decoding text fails with BAD_REQUEST and leaves no buffer behind. */
static void assert_refused(const char *text)
{
    uint8_t *out = (uint8_t *)"not touched";
    size_t out_len = 99;
    gs_status st;
    gs_status_clear(&st);
    assert_int_equal(gs_base64_decode(text, &out, &out_len, &st), GS_ERR_BAD_REQUEST);
    assert_null(out);
    assert_int_equal(out_len, 0);
}

/* The RFC's vectors, encoded and decoded. */
static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]); i++) {
        const char *data = rfc4648_vectors[i].data;
        assert_encodes_to((const uint8_t *)data, strlen(data), rfc4648_vectors[i].base64);
        assert_decodes_to(rfc4648_vectors[i].base64, (const uint8_t *)data, strlen(data));
    }
}

/* The two last letters of the standard alphabet (not the URL-safe "-_"), and zero bytes. */
static void test_alphabet_edges(void **state)
{
    (void)state;
    static const uint8_t high[] = { 0xfb, 0xff, 0xbf };
    static const uint8_t zeros[] = { 0, 0, 0, 0 };
    assert_encodes_to(high, sizeof(high), "+/+/");
    assert_decodes_to("+/+/", high, sizeof(high));
    assert_encodes_to(zeros, sizeof(zeros), "AAAAAA==");
    assert_decodes_to("AAAAAA==", zeros, sizeof(zeros));
}

/* Every byte value at every position of a 3-byte group survives a round trip. */
static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    uint8_t data[258];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    for (size_t len = 255; len <= sizeof(data); len++) {
        json_object *s = gs_base64_json(data, len);
        assert_non_null(s);
        assert_int_equal(strlen(json_object_get_string(s)), 4 * ((len + 2) / 3));
        assert_decodes_to(json_object_get_string(s), data, len);
        json_object_put(s);
    }
}

/* What the protocol refuses: bad lengths, foreign characters, padding where it cannot be. */
static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",      /* length not a multiple of 4 */
        "Zm9vY",    /* idem */
        "Zm9v!A==", /* outside the alphabet */
        "Zm9v-_==", /* the URL-safe alphabet is not the protocol's */
        "Zm\x01v",  /* a control character */
        "Zg==Zm8=", /* padding in the middle */
        "Z===",     /* three padding characters */
        "====",     /* padding only */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused(bad[i]);
}

/* A NULL text decodes as the empty string (an absent optional field). */
static void test_null_is_empty(void **state)
{
    (void)state;
    assert_decodes_to(NULL, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),      cmocka_unit_test(test_alphabet_edges),
        cmocka_unit_test(test_round_trip_all_bytes), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_null_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
