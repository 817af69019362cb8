/* The agent-side wrong-PIN limiter, driven with an explicit clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "pin_limiter.h"

static void test_cooldown_after_three_failures(void **state)
{
    (void)state;
    pin_limiter *lim = pin_limiter_new(3, 900);
    gs_status st;
    time_t t = 1000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pin_limiter_check(lim, "tok", t, &st), GS_ERR_OK);
        pin_limiter_record(lim, "tok", GS_ERR_PIN_INCORRECT, t);
    }
    assert_int_equal(pin_limiter_remaining(lim, "tok", t), 1);
    pin_limiter_record(lim, "tok", GS_ERR_PIN_INCORRECT, t);
    assert_int_equal(pin_limiter_check(lim, "tok", t + 1, &st), GS_ERR_PIN_LIMITER);
    assert_int_equal(pin_limiter_check(lim, "tok", t + 899, &st), GS_ERR_PIN_LIMITER);
    /* another token is unaffected */
    assert_int_equal(pin_limiter_check(lim, "other", t + 1, &st), GS_ERR_OK);
    /* after the cooldown a fresh set of attempts */
    assert_int_equal(pin_limiter_check(lim, "tok", t + 900, &st), GS_ERR_OK);
    assert_int_equal(pin_limiter_remaining(lim, "tok", t + 900), 3);
    pin_limiter_free(lim);
}

static void test_success_resets(void **state)
{
    (void)state;
    pin_limiter *lim = pin_limiter_new(3, 60);
    gs_status st;
    pin_limiter_record(lim, "tok", GS_ERR_PIN_INCORRECT, 10);
    pin_limiter_record(lim, "tok", GS_ERR_PIN_INCORRECT, 10);
    pin_limiter_record(lim, "tok", GS_ERR_OK, 11);
    pin_limiter_record(lim, "tok", GS_ERR_PIN_INCORRECT, 12);
    assert_int_equal(pin_limiter_check(lim, "tok", 12, &st), GS_ERR_OK);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 12), 2);
    /* cancellations and token errors do not count */
    pin_limiter_record(lim, "tok", GS_ERR_USER_CANCELLED, 13);
    pin_limiter_record(lim, "tok", GS_ERR_TOKEN_REMOVED, 13);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 13), 2);
    pin_limiter_free(lim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cooldown_after_three_failures),
        cmocka_unit_test(test_success_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
