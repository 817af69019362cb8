/* The error table: numbers and names are unique, and every entry has both languages and a fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "gost.h"

static void test_table_is_consistent(void **state)
{
    (void)state;
    size_t n = 0;
    const gs_error_info *t = gs_error_table(&n);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].code < 256); /* numbers double as exit statuses */
        assert_true(strlen(t[i].message_en) > 0 && strlen(t[i].message_ru) > 0);
        assert_true(strlen(t[i].cause) > 0 && strlen(t[i].fix) > 0);
        assert_ptr_equal(gs_error_by_name(t[i].name), &t[i]);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(t[i].code, t[j].code);
            assert_string_not_equal(t[i].name, t[j].name);
        }
    }
}

static void test_lookup(void **state)
{
    (void)state;
    assert_string_equal(gs_error_lookup(GS_ERR_PIN_INCORRECT)->name, "PIN_INCORRECT");
    assert_string_equal(gs_error_lookup((gs_code)250)->name, "INTERNAL");
    assert_null(gs_error_by_name("NO_SUCH_CODE"));
    gs_status st;
    assert_int_equal(gs_fail(&st, GS_ERR_TIMEOUT, "after %d s", 30), GS_ERR_TIMEOUT);
    assert_string_equal(st.detail, "after 30 s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
