/*
 * The agent-side wrong-PIN limiter, driven with an explicit clock: counting and the pause, the
 * state on disk surviving a restart and a crash between the attempt and its verdict, and the
 * per-token gate that keeps PIN dialogs of one token from overlapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pin_limiter.h"

/* One wrong PIN, as the agent records it around C_Login. */
static void wrong_pin(pin_limiter *lim, const char *key, time_t t)
{
    gs_status st;
    assert_int_equal(pin_limiter_begin_attempt(lim, key, t, &st), GS_ERR_OK);
    pin_limiter_finish_attempt(lim, key, GS_ERR_PIN_INCORRECT, t);
}

static void test_cooldown_after_three_failures(void **state)
{
    (void)state;
    pin_limiter *lim = pin_limiter_new(NULL, 3, 900);
    gs_status st;
    time_t t = 1000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pin_limiter_check(lim, "tok", t, &st), GS_ERR_OK);
        wrong_pin(lim, "tok", t);
    }
    assert_int_equal(pin_limiter_remaining(lim, "tok", t), 1);
    wrong_pin(lim, "tok", t);
    assert_int_equal(pin_limiter_check(lim, "tok", t + 1, &st), GS_ERR_PIN_LIMITER);
    assert_int_equal(pin_limiter_check(lim, "tok", t + 899, &st), GS_ERR_PIN_LIMITER);
    assert_int_equal(pin_limiter_begin_attempt(lim, "tok", t + 2, &st), GS_ERR_PIN_LIMITER);
    assert_int_equal(pin_limiter_paused_until(lim, "tok", t + 2), t + 900);
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
    pin_limiter *lim = pin_limiter_new(NULL, 3, 60);
    gs_status st;
    wrong_pin(lim, "tok", 10);
    wrong_pin(lim, "tok", 10);
    assert_int_equal(pin_limiter_begin_attempt(lim, "tok", 11, &st), GS_ERR_OK);
    pin_limiter_finish_attempt(lim, "tok", GS_ERR_OK, 11);
    wrong_pin(lim, "tok", 12);
    assert_int_equal(pin_limiter_check(lim, "tok", 12, &st), GS_ERR_OK);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 12), 2);
    /* no verdict on the PIN (token pulled out, cancelled): the attempt is given back */
    assert_int_equal(pin_limiter_begin_attempt(lim, "tok", 13, &st), GS_ERR_OK);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 13), 1);
    pin_limiter_finish_attempt(lim, "tok", GS_ERR_TOKEN_REMOVED, 13);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 13), 2);
    pin_limiter_free(lim);
}

/* A fresh temporary state directory. */
static char *make_state_dir(void)
{
    char tmpl[] = "/tmp/gostsign-test-limiter.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    char *path = malloc(strlen(d) + 32);
    sprintf(path, "%s/state/pin-limiter", d);
    return path;
}

static void test_restart_keeps_the_pause(void **state)
{
    (void)state;
    char *dir = make_state_dir();
    gs_status st;
    pin_limiter *lim = pin_limiter_new(dir, 3, 900);
    assert_non_null(lim);
    for (int i = 0; i < 3; i++)
        wrong_pin(lim, "mod.so:0001", 100);
    pin_limiter_free(lim); /* the agent restarts */
    lim = pin_limiter_new(dir, 3, 900);
    assert_int_equal(pin_limiter_check(lim, "mod.so:0001", 101, &st), GS_ERR_PIN_LIMITER);
    assert_int_equal(pin_limiter_check(lim, "mod.so:0002", 101, &st), GS_ERR_OK);
    /* the directory and its files are the owner's only */
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0077, 0);
    pin_limiter_clear(lim, "mod.so:0001", &st);
    assert_int_equal(pin_limiter_check(lim, "mod.so:0001", 101, &st), GS_ERR_OK);
    pin_limiter_free(lim);
    free(dir);
}

static void test_crash_between_attempt_and_verdict_counts(void **state)
{
    (void)state;
    char *dir = make_state_dir();
    gs_status st;
    pin_limiter *lim = pin_limiter_new(dir, 3, 900);
    assert_int_equal(pin_limiter_begin_attempt(lim, "tok", 100, &st), GS_ERR_OK);
    pin_limiter_free(lim); /* killed during C_Login: no finish */
    lim = pin_limiter_new(dir, 3, 900);
    assert_int_equal(pin_limiter_remaining(lim, "tok", 100), 2);
    pin_limiter_free(lim);
    free(dir);
}

static void test_damaged_state_pauses(void **state)
{
    (void)state;
    char *dir = make_state_dir();
    gs_status st;
    pin_limiter *lim = pin_limiter_new(dir, 3, 900);
    wrong_pin(lim, "tok", 100);
    pin_limiter_free(lim);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "for f in %s/*; do echo garbage > \"$f\"; done", dir);
    assert_int_equal(system(cmd), 0);
    lim = pin_limiter_new(dir, 3, 900);
    assert_int_equal(pin_limiter_check(lim, "tok", time(NULL), &st), GS_ERR_PIN_LIMITER);
    pin_limiter_free(lim);
    free(dir);
}

typedef struct {
    pin_limiter *lim;
    atomic_int cancelled;
    gs_code rc;
    int waited;
} gate_waiter;

/* A second request for the same token while the first holds the gate. */
static void *wait_for_gate(void *p)
{
    gate_waiter *w = p;
    gs_status st;
    w->rc = pin_limiter_gate_enter(w->lim, "tok", &w->cancelled, time(NULL) + 10, &w->waited, &st);
    if (w->rc == GS_ERR_OK)
        pin_limiter_gate_leave(w->lim, "tok");
    return NULL;
}

static void test_one_dialog_per_token(void **state)
{
    (void)state;
    pin_limiter *lim = pin_limiter_new(NULL, 3, 900);
    gs_status st;
    int waited;
    assert_int_equal(pin_limiter_gate_enter(lim, "tok", NULL, time(NULL) + 5, &waited, &st),
                     GS_ERR_OK);
    assert_int_equal(waited, 0);
    /* another token is not held up */
    assert_int_equal(pin_limiter_gate_enter(lim, "other", NULL, time(NULL) + 5, &waited, &st),
                     GS_ERR_OK);
    pin_limiter_gate_leave(lim, "other");
    /* the same token: a cancelled waiter gives up, a patient one gets in after the first leaves */
    gate_waiter a = { .lim = lim }, b = { .lim = lim };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, wait_for_gate, &a);
    pthread_create(&tb, NULL, wait_for_gate, &b);
    usleep(300 * 1000);
    atomic_store(&a.cancelled, 1);
    pthread_join(ta, NULL);
    assert_int_equal(a.rc, GS_ERR_CANCELLED);
    pin_limiter_gate_leave(lim, "tok");
    pthread_join(tb, NULL);
    assert_int_equal(b.rc, GS_ERR_OK);
    assert_int_equal(b.waited, 1);
    /* a deadline already passed while the gate is held: TIMEOUT */
    assert_int_equal(pin_limiter_gate_enter(lim, "tok", NULL, time(NULL) + 5, &waited, &st),
                     GS_ERR_OK);
    assert_int_equal(pin_limiter_gate_enter(lim, "tok", NULL, time(NULL) - 1, &waited, &st),
                     GS_ERR_TIMEOUT);
    pin_limiter_gate_leave(lim, "tok");
    pin_limiter_free(lim);
}

int main(void)
{
    gs_status st;
    if (gost_init(&st) != GS_ERR_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cooldown_after_three_failures),
        cmocka_unit_test(test_success_resets),
        cmocka_unit_test(test_restart_keeps_the_pause),
        cmocka_unit_test(test_crash_between_attempt_and_verdict_counts),
        cmocka_unit_test(test_damaged_state_pauses),
        cmocka_unit_test(test_one_dialog_per_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
