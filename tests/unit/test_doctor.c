/*
 * Unit tests of the doctor's pure parts: the Info.plist device reader (against libccid's real
 * file when installed, and hostile input), the hwdb-generated token table, and the report model
 * (worst status, exit code, JSON shape).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doctor.h"
#include "doctor_plist.h"
#include "tokendb.h"

#define CCID_PLIST "/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist"

/* Reads a file into a NUL-terminated buffer; NULL when absent. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    return buf;
}

/* The arrays and the single-string form, with mixed-case hex and friendly names. */
static void test_plist_small(void **state)
{
    (void)state;
    const char *xml = "<dict><key>ifdVendorID</key>\n<array>\n <string>0x0A89</string>\n"
                      " <string>0x24dc</string></array><key>ifdProductID</key><array>"
                      "<string>0x0030</string><string>0x0101</string></array>"
                      "<key>ifdFriendlyName</key><array><string>A</string><string>B</string>"
                      "</array></dict>";
    char name[32];
    assert_int_equal(doctor_plist_lists(xml, 0x0a89, 0x0030, name, sizeof(name)), 1);
    assert_string_equal(name, "A");
    assert_int_equal(doctor_plist_lists(xml, 0x24dc, 0x0101, name, sizeof(name)), 1);
    assert_string_equal(name, "B");
    /* vendor of one entry with the product of the other is not a match */
    assert_int_equal(doctor_plist_lists(xml, 0x0a89, 0x0101, name, sizeof(name)), 0);
    const char *single = "<key>ifdVendorID</key> <string>0x0A89</string>"
                         "<key>ifdProductID</key><string>0x0020</string>";
    assert_int_equal(doctor_plist_lists(single, 0x0a89, 0x0020, name, sizeof(name)), 1);
    assert_string_equal(name, "");
}

/* Damaged input: unequal arrays are an error, truncation and junk never crash or match. */
static void test_plist_hostile(void **state)
{
    (void)state;
    char name[8];
    const char *unequal = "<key>ifdVendorID</key><array><string>0x1</string><string>0x2</string>"
                          "</array><key>ifdProductID</key><array><string>0x1</string></array>";
    assert_int_equal(doctor_plist_lists(unequal, 1, 1, name, sizeof(name)), -1);
    const char *cases[] = {
        "",
        "<key>ifdVendorID</key>",
        "<key>ifdVendorID</key><array><string>0x0A89",
        "<key>ifdVendorID</key><array><string>zz</string></array>"
        "<key>ifdProductID</key><array><string>0x0030</string></array>",
        "<key>ifdVendorID</key><array><string>0x1FFFF</string></array>"
        "<key>ifdProductID</key><array><string>0x0030</string></array>",
        "<key>ifdVendorIDx</key><array><string>0x0A89</string></array>",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(doctor_plist_lists(cases[i], 0x0a89, 0x0030, name, sizeof(name)) <= 0);
}

/* Every CCID entry of the hwdb table is listed, under the same IDs, by the installed libccid. */
static void test_table_matches_libccid(void **state)
{
    (void)state;
    char *xml = slurp(CCID_PLIST);
    if (!xml)
        skip();
    size_t ccid = 0;
    for (size_t i = 0; i < gs_token_model_count; i++) {
        const gs_token_model *m = &gs_token_model_table[i];
        char name[256];
        int listed = doctor_plist_lists(xml, m->vendor_id, m->product_id, name, sizeof(name));
        if (gs_token_model_is_ccid(m)) {
            ccid++;
            if (listed != 1)
                fail_msg("%04x:%04x (%s) is marked ccid but libccid does not list it", m->vendor_id,
                         m->product_id, m->model);
        } else if (listed == 1) {
            fail_msg("%04x:%04x (%s) is listed by libccid but marked %s", m->vendor_id,
                     m->product_id, m->model, m->driver);
        }
    }
    assert_true(ccid >= 10);
    free(xml);
}

/* The table covers the vendors the issue names and look-ups work both ways. */
static void test_table_vendors(void **state)
{
    (void)state;
    const uint16_t vendors[] = { 0x0a89, 0x24dc, 0x2ce4, 0x0529, 0x096e };
    for (size_t v = 0; v < 5; v++) {
        int seen = 0;
        for (size_t i = 0; i < gs_token_model_count; i++)
            seen |= gs_token_model_table[i].vendor_id == vendors[v];
        assert_true(seen);
    }
    const gs_token_model *m = gs_token_model_find(0x0a89, 0x0020);
    assert_non_null(m);
    assert_string_equal(m->model, "Rutoken S");
    assert_string_equal(m->driver, "ifd-rutokens");
    assert_false(gs_token_model_is_ccid(m));
    assert_null(gs_token_model_find(0x1d6b, 0x0002)); /* a Linux root hub is not a token */
    for (size_t i = 0; i < gs_token_model_count; i++)
        assert_true(gs_token_model_table[i].source[0] != '\0');
}

/* Worst status and exit code: skip does not count, warn gives 90, fail gives 91. */
static void test_exit_codes(void **state)
{
    (void)state;
    doctor_opts o;
    memset(&o, 0, sizeof(o));
    doctor_ctx ctx;
    doctor_ctx_init(&ctx, &o);
    assert_int_equal(doctor_exit_code(&ctx), 0);
    doctor_add(&ctx, DOCTOR_LAYER_USB, "usb.none", DOCTOR_SKIP, GS_ERR_OK);
    assert_int_equal(doctor_exit_code(&ctx), 0);
    doctor_add(&ctx, DOCTOR_LAYER_AGENT, "agent.running", DOCTOR_WARN, GS_ERR_AGENT_UNAVAILABLE);
    assert_int_equal(doctor_exit_code(&ctx), GS_ERR_DOCTOR_WARNINGS);
    doctor_check *c =
        doctor_add(&ctx, DOCTOR_LAYER_TOKENS, "tokens.pin", DOCTOR_FAIL, GS_ERR_PIN_LOCKED);
    doctor_say(c, "token %s locked", "токен %s заблокирован", "X");
    doctor_fix(c, "unblock %d", "разблокируйте %d", 1);
    assert_string_equal(c->message, "token X locked");
    assert_string_equal(c->message_ru, "токен X заблокирован");
    assert_string_equal(c->fix_ru, "разблокируйте 1");
    assert_int_equal(doctor_exit_code(&ctx), GS_ERR_DOCTOR_FAILED);
    doctor_ctx_free(&ctx);
}

/* The JSON has the documented shape: schema 1, ten layers in order, checks with their fields. */
static void test_json_shape(void **state)
{
    (void)state;
    doctor_opts o;
    memset(&o, 0, sizeof(o));
    doctor_ctx ctx;
    doctor_ctx_init(&ctx, &o);
    doctor_check *c = doctor_add(&ctx, DOCTOR_LAYER_DRIVER, "driver.device", DOCTOR_FAIL,
                                 GS_ERR_READER_DRIVER_MISSING);
    doctor_ev_str(c, "expected_driver", "ifd-rutokens");
    json_object *j = doctor_to_json(&ctx), *v, *layers, *l4, *checks, *chk;
    assert_true(json_object_object_get_ex(j, "schema", &v));
    assert_int_equal(json_object_get_int(v), DOCTOR_SCHEMA);
    assert_true(json_object_object_get_ex(j, "exit_code", &v));
    assert_int_equal(json_object_get_int(v), GS_ERR_DOCTOR_FAILED);
    assert_true(json_object_object_get_ex(j, "layers", &layers));
    assert_int_equal(json_object_array_length(layers), DOCTOR_LAYER_COUNT);
    l4 = json_object_array_get_idx(layers, 3);
    assert_true(json_object_object_get_ex(l4, "id", &v));
    assert_string_equal(json_object_get_string(v), "driver");
    assert_true(json_object_object_get_ex(l4, "status", &v));
    assert_string_equal(json_object_get_string(v), "fail");
    assert_true(json_object_object_get_ex(l4, "checks", &checks));
    chk = json_object_array_get_idx(checks, 0);
    assert_true(json_object_object_get_ex(chk, "code", &v));
    assert_string_equal(json_object_get_string(v), "READER_DRIVER_MISSING");
    assert_true(json_object_object_get_ex(chk, "number", &v));
    assert_int_equal(json_object_get_int(v), 94);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(layers, 0), "status", &v));
    assert_string_equal(json_object_get_string(v), "skip"); /* a layer with no check */
    json_object_put(j);
    doctor_ctx_free(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plist_small),
        cmocka_unit_test(test_plist_hostile),
        cmocka_unit_test(test_table_matches_libccid),
        cmocka_unit_test(test_table_vendors),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
