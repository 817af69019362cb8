/*
 * Unit tests of the accredited-CA store (gost/tsl.c, trust_store.c, trust.c, cert_json.c): the
 * TSL parse over the list tests/data/make-test-tsl.sh builds, its refusals, accreditation
 * periods (with and without a history), the store write/read round trip and its crash-safe
 * switch, the qualified verdict of each test certificate, and the JSON status fields.
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

#include "gost.h"

static char dir[] = "/tmp/gostsign-test-trust.XXXXXX";
static gs_trust_list *list; /* tsl.xml, parsed once */

/* Path of a file of the test list (static buffer: one use at a time). */
static const char *path_of(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

/* Reads a whole file. */
static uint8_t *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path_of(name), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parses a list file of the fixture. */
static gs_trust_list *parse_file(const char *name, gs_status *st)
{
    size_t len = 0;
    uint8_t *xml = slurp(name, &len);
    gs_trust_list *l = gs_tsl_parse(xml, len, st);
    free(xml);
    return l;
}

/* Builds the test list once for the group and parses tsl.xml. */
static int setup(void **state)
{
    (void)state;
    const char *root = getenv("SOURCE_ROOT");
    char cmd[1024];
    if (!root || !mkdtemp(dir))
        return -1;
    snprintf(cmd, sizeof(cmd), "bash '%s/tests/data/make-test-tsl.sh' '%s' >/dev/null 2>&1", root,
             dir);
    if (system(cmd) != 0)
        return -1;
    gs_status st;
    list = parse_file("tsl.xml", &st);
    return list ? 0 : -1;
}

/* Removes the fixture. */
static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    gs_trust_list_free(list);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The authority with this INN. */
static const gs_trust_ca *ca_by_inn(const gs_trust_list *l, const char *inn)
{
    for (size_t i = 0; i < l->ca_count; i++)
        if (l->cas[i].inn && strcmp(l->cas[i].inn, inn) == 0)
            return &l->cas[i];
    fail_msg("no authority with INN %s", inn);
    return NULL;
}

/* UTC midnight of a date, minus the Moscow offset (the list's dates are Moscow time). */
static time_t msk(int y, int m, int d)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d };
    return timegm(&tm) - 3 * 3600;
}

/* Version, date, names, identifiers, statuses, CRL addresses and certificates. */
static void test_parse_fields(void **state)
{
    (void)state;
    assert_string_equal(list->version, "100");
    assert_true(list->date > time(NULL) - 3600 && list->date <= time(NULL));
    assert_int_equal(list->ca_count, 5);
    assert_int_equal(gs_trust_active_count(list), 3);
    assert_int_equal(list->skipped_certs, 0);
    const gs_trust_ca *a = ca_by_inn(list, "7700000001");
    assert_string_equal(a->name, "ООО «Удостоверяющий центр Альфа»");
    assert_string_equal(a->short_name, "УЦ Альфа");
    assert_string_equal(a->ogrn, "1027700000001");
    assert_int_equal(a->status, GS_ACCR_ACTIVE);
    assert_int_equal(a->status_since, msk(2020, 1, 1));
    assert_int_equal(a->cert_count, 1);
    assert_int_equal(a->crl_count, 1);
    assert_string_equal(a->crl_urls[0], "http://127.0.0.1:9/7700000001.crl");
    /* a bare date (no time, no zone) is Moscow midnight */
    assert_int_equal(ca_by_inn(list, "7700000002")->status_since, msk(2021, 7, 1));
    assert_int_equal(ca_by_inn(list, "7700000004")->status, GS_ACCR_ANNULLED);
}

/* The history gives the periods; without one, a lapsed CA counts as accredited before. */
static void test_periods(void **state)
{
    (void)state;
    const gs_trust_ca *e = ca_by_inn(list, "7700000003");
    assert_int_equal(e->status, GS_ACCR_ENDED);
    assert_int_equal(e->period_count, 2);
    assert_int_equal(gs_trust_ca_status_at(e, msk(2018, 6, 1)), GS_ACCR_UNKNOWN);
    assert_int_equal(gs_trust_ca_status_at(e, msk(2022, 6, 1)), GS_ACCR_ACTIVE);
    assert_int_equal(gs_trust_ca_status_at(e, msk(2024, 1, 1)), GS_ACCR_ENDED);
    const gs_trust_ca *x = ca_by_inn(list, "7700000004");
    assert_int_equal(gs_trust_ca_status_at(x, msk(2023, 1, 1)), GS_ACCR_ACTIVE);
    assert_int_equal(gs_trust_ca_status_at(x, msk(2024, 6, 1)), GS_ACCR_ANNULLED);
    const gs_trust_ca *a = ca_by_inn(list, "7700000001");
    assert_int_equal(gs_trust_ca_status_at(a, msk(2019, 12, 31)), GS_ACCR_UNKNOWN);
    assert_int_equal(gs_trust_ca_status_at(a, time(NULL)), GS_ACCR_ACTIVE);
}

/* Damaged XML, another document, a list with no version or certificate: TSL_INVALID. */
static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "<АккредитованныеУдостоверяющиеЦентры><Версия>1</Версия>",
        "<html><body>503</body></html>",
        "<АккредитованныеУдостоверяющиеЦентры><Дата>2026-01-01</Дата>"
        "</АккредитованныеУдостоверяющиеЦентры>",
        "<АккредитованныеУдостоверяющиеЦентры><Версия>1</Версия><Дата>2026-01-01</Дата>"
        "<УдостоверяющийЦентр><Название>X</Название><СтатусАккредитации><Статус>Действует"
        "</Статус></СтатусАккредитации></УдостоверяющийЦентр></"
        "АккредитованныеУдостоверяющиеЦентры>",
        "<!DOCTYPE a [<!ENTITY e SYSTEM "
        "\"file:///etc/passwd\">]><АккредитованныеУдостоверяющиеЦентры>"
        "<Версия>&e;</Версия></АккредитованныеУдостоверяющиеЦентры>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gs_status st;
        gs_status_clear(&st);
        assert_null(gs_tsl_parse((const uint8_t *)bad[i], strlen(bad[i]), &st));
        assert_int_equal(st.code, GS_ERR_TSL_INVALID);
    }
    gs_status st;
    gs_status_clear(&st);
    assert_null(parse_file("tsl-damaged.xml", &st));
    assert_int_equal(st.code, GS_ERR_TSL_INVALID);
    assert_non_null(strstr(st.detail, "XML"));
}

/* Loads a certificate of the fixture. */
static gs_cert *cert(const char *name)
{
    char file[64];
    gs_status st;
    snprintf(file, sizeof(file), "%s.pem", name);
    gs_cert *c = gs_cert_load_file(path_of(file), &st);
    assert_non_null(c);
    return c;
}

/* Judges one test certificate now and checks qualified, chain and code. */
static void expect_verdict(gs_trust_list *l, const char *name, int qualified, gs_chain_state chain,
                           gs_code code)
{
    gs_cert *c = cert(name);
    gs_trust_verdict v;
    gs_trust_assess(l, c, time(NULL), &v);
    if (v.qualified != qualified || v.chain != chain || v.code != code)
        fail_msg("%s: qualified %d chain %s code %d (%s)", name, v.qualified,
                 gs_chain_word(v.chain), v.code, v.detail);
    gs_cert_free(c);
}

/* Every status of the issue has its verdict, and no non-qualified certificate is qualified. */
static void test_verdicts(void **state)
{
    (void)state;
    expect_verdict(list, "alice", 1, GS_CHAIN_ACCREDITED, GS_ERR_OK);
    expect_verdict(list, "bob", 1, GS_CHAIN_ACCREDITED, GS_ERR_OK);
    expect_verdict(list, "carol", 0, GS_CHAIN_ENDED, GS_ERR_CA_ACCREDITATION_ENDED);
    expect_verdict(list, "dave", 0, GS_CHAIN_ANNULLED, GS_ERR_CA_ACCREDITATION_ENDED);
    expect_verdict(list, "olga", 0, GS_CHAIN_NOT_ACCREDITED, GS_ERR_CA_NOT_ACCREDITED);
    expect_verdict(list, "plain", 0, GS_CHAIN_ACCREDITED, GS_ERR_CERT_NOT_QUALIFIED);
    expect_verdict(NULL, "alice", 0, GS_CHAIN_NOT_CHECKED, GS_ERR_TRUST_STORE_MISSING);
    gs_cert *c = cert("alice");
    gs_trust_verdict v;
    gs_trust_assess(list, c, time(NULL), &v);
    gs_trust_verdict_revoked(&v, "listed");
    assert_false(v.qualified);
    assert_string_equal(gs_trust_verdict_ru(&v), "сертификат отозван");
    /* signed before the end of carol's CA's accreditation would be judged by that time; a
     * certificate expired at `at` is not qualified either */
    gs_trust_assess(list, c, c->not_after + 86400, &v);
    assert_false(v.qualified);
    assert_int_equal(v.code, GS_ERR_CERT_EXPIRED);
    gs_cert_free(c);
    c = cert("plain");
    char missing[160];
    assert_true(gs_cert_missing_qualified_fields(c, missing, sizeof(missing)) >= 3);
    assert_non_null(strstr(missing, "subjectSignTool"));
    gs_cert_free(c);
}

/* Writes the list to a store, reads it back, and checks the switch keeps one directory. */
static void test_store_roundtrip(void **state)
{
    (void)state;
    char root[600], cmd[700];
    snprintf(root, sizeof(root), "%s/store", dir);
    gs_status st;
    gs_status_clear(&st);
    assert_int_equal(gs_trust_store_write(list, root, "tsl.xml", 1700000000, &st), GS_ERR_OK);
    assert_int_equal(gs_trust_store_write(list, root, "tsl.xml", 1700000001, &st), GS_ERR_OK);
    snprintf(cmd, sizeof(cmd), "test $(ls -d '%s'/v-* | wc -l) -eq 1", root);
    assert_int_equal(system(cmd), 0);
    gs_trust_list *l = gs_trust_store_load(root, &st);
    assert_non_null(l);
    assert_string_equal(l->version, "100");
    assert_int_equal(l->date, list->date);
    assert_int_equal(l->updated_at, 1700000001);
    assert_string_equal(l->source, "tsl.xml");
    assert_int_equal(l->ca_count, list->ca_count);
    for (size_t i = 0; i < l->ca_count; i++) {
        assert_int_equal(l->cas[i].status, list->cas[i].status);
        assert_int_equal(l->cas[i].period_count, list->cas[i].period_count);
        assert_int_equal(l->cas[i].cert_count, list->cas[i].cert_count);
        assert_int_equal(X509_cmp(l->cas[i].certs[0], list->cas[i].certs[0]), 0);
    }
    expect_verdict(l, "alice", 1, GS_CHAIN_ACCREDITED, GS_ERR_OK);
    expect_verdict(l, "carol", 0, GS_CHAIN_ENDED, GS_ERR_CA_ACCREDITATION_ENDED);
    gs_trust_list_free(l);
    snprintf(cmd, sizeof(cmd), "%s/none", dir);
    assert_null(gs_trust_store_load(cmd, &st));
    assert_int_equal(st.code, GS_ERR_TRUST_STORE_MISSING);
}

/* The list age in days, for the 30-day warning. */
static void test_age(void **state)
{
    (void)state;
    assert_int_equal(gs_trust_age_days(list, list->date), 0);
    assert_int_equal(gs_trust_age_days(list, list->date + 31 * 86400 + 5), 31);
}

/* A JSON member by dotted path. */
static json_object *at(json_object *o, const char *a, const char *b)
{
    json_object *x = NULL, *y = NULL;
    assert_true(json_object_object_get_ex(o, a, &x));
    if (b)
        assert_true(json_object_object_get_ex(x, b, &y));
    return b ? y : x;
}

/* status.qualified / status.chain / authority in the certificate model. */
static void test_json_status(void **state)
{
    (void)state;
    gs_cert *c = cert("alice");
    json_object *j = gs_cert_to_json_trust(c, time(NULL), list), *s = at(j, "status", NULL);
    assert_true(json_object_get_boolean(at(s, "qualified", NULL)));
    assert_string_equal(json_object_get_string(at(s, "chain", NULL)), "accredited");
    assert_string_equal(json_object_get_string(at(s, "authority", "inn")), "7700000001");
    assert_string_equal(json_object_get_string(at(s, "trust_list", "version")), "100");
    json_object_put(j);
    j = gs_cert_to_json_trust(c, time(NULL), NULL);
    s = at(j, "status", NULL);
    assert_false(json_object_get_boolean(at(s, "qualified", NULL)));
    assert_string_equal(json_object_get_string(at(s, "chain", NULL)), "not_checked");
    json_object_put(j);
    gs_cert_free(c);
    c = cert("dave");
    j = gs_cert_to_json_trust(c, time(NULL), list);
    s = at(j, "status", NULL);
    assert_false(json_object_get_boolean(at(s, "qualified", NULL)));
    assert_string_equal(json_object_get_string(at(s, "chain", NULL)), "annulled");
    assert_string_equal(json_object_get_string(at(s, "qualified_message_ru", NULL)),
                        "аккредитация УЦ аннулирована");
    json_object_put(j);
    gs_cert_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),    cmocka_unit_test(test_periods),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_store_roundtrip), cmocka_unit_test(test_age),
        cmocka_unit_test(test_json_status),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
