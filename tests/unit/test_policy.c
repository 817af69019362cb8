/*
 * Relying-party policy (gost/policy.h) on certificates of the test PKI made by the openssl
 * command: class names and OIDs, the class a certificate states, required INN/INNLE/OGRN, and
 * the signing-time window in both directions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gost.h"

static char pki[256];
static gs_cert *employee;

/* Group setup: the test PKI and the employee certificate model. */
static int make_pki(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    snprintf(pki, sizeof(pki), "%s/gostsign-test-policy.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!root || !mkdtemp(pki))
        return -1;
    char cmd[1024], path[400];
    snprintf(cmd, sizeof(cmd), "bash '%s/tests/data/make-test-pki.sh' '%s' >/dev/null", root, pki);
    gs_status st;
    if (system(cmd) != 0 || gost_init(&st) != GS_ERR_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/employee.pem", pki);
    employee = gs_cert_load_file(path, &st);
    return employee ? 0 : -1;
}

/* Group teardown. */
static int remove_pki(void **state)
{
    (void)state;
    gs_cert_free(employee);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki);
    return system(cmd) == 0 ? 0 : -1;
}

/* Latin, Cyrillic and OID spellings; unknown names give NONE. */
static void test_class_names(void **state)
{
    (void)state;
    assert_int_equal(gs_protection_class_parse("KC1"), GS_CLASS_KC1);
    assert_int_equal(gs_protection_class_parse("kc2"), GS_CLASS_KC2);
    assert_int_equal(gs_protection_class_parse("КС2"), GS_CLASS_KC2);
    assert_int_equal(gs_protection_class_parse("1.2.643.100.113.3"), GS_CLASS_KC3);
    assert_int_equal(gs_protection_class_parse("KA1"), GS_CLASS_KA1);
    assert_int_equal(gs_protection_class_parse("KC9"), GS_CLASS_NONE);
    assert_int_equal(gs_protection_class_parse(NULL), GS_CLASS_NONE);
    assert_string_equal(gs_protection_class_name(GS_CLASS_KB2), "KB2");
    assert_string_equal(gs_protection_class_name(GS_CLASS_NONE), "");
}

/* The employee certificate (policies KC1 and KC2, written by openssl) states KC2. */
static void test_cert_class(void **state)
{
    (void)state;
    assert_int_equal(gs_cert_protection_class(employee), GS_CLASS_KC2);
    gs_policy p;
    gs_policy_init(&p);
    gs_status st;
    p.require_class = GS_CLASS_KC2;
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_OK);
    p.require_class = GS_CLASS_KC3;
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_POLICY_CLASS_MISSING);
}

/* Required numbers: matches pass, any difference is POLICY_ID_MISMATCH. */
static void test_identity(void **state)
{
    (void)state;
    gs_policy p;
    gs_policy_init(&p);
    gs_status st;
    assert_true(gs_policy_is_empty(&p));
    p.require_inn = "500100732259";
    p.require_innle = "7707083893";
    p.require_ogrn = "1027700132195";
    assert_false(gs_policy_is_empty(&p));
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_OK);
    p.require_inn = "50010073225"; /* a prefix is not a match */
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_POLICY_ID_MISMATCH);
    p.require_inn = NULL;
    p.require_ogrn = "1027700132196";
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_POLICY_ID_MISMATCH);
    p.require_ogrn = NULL;
    p.require_innle = "7707083894";
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_POLICY_ID_MISMATCH);
}

/* The window holds at its edges, fails one second beyond either, and needs a signingTime. */
static void test_skew(void **state)
{
    (void)state;
    gs_policy p;
    gs_policy_init(&p);
    gs_status st;
    p.now = 1800000000;
    p.max_skew_seconds = 60;
    assert_int_equal(gs_policy_check(&p, employee, p.now - 60, 1, &st), GS_ERR_OK);
    assert_int_equal(gs_policy_check(&p, employee, p.now + 60, 1, &st), GS_ERR_OK);
    assert_int_equal(gs_policy_check(&p, employee, p.now - 61, 1, &st), GS_ERR_SIGNING_TIME_SKEW);
    assert_int_equal(gs_policy_check(&p, employee, p.now + 61, 1, &st), GS_ERR_SIGNING_TIME_SKEW);
    assert_int_equal(gs_policy_check(&p, employee, p.now, 0, &st), GS_ERR_SIGNING_TIME_SKEW);
    p.max_skew_seconds = -1;
    assert_int_equal(gs_policy_check(&p, employee, 0, 0, &st), GS_ERR_OK);
}

/* Test entry point. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_cert_class),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_skew),
    };
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
