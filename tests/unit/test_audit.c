/* The audit trail writes one complete line per signature to the file sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"

static void test_audit_line_has_every_field(void **state)
{
    (void)state;
    char path[] = "/tmp/gostsign-audit-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    setenv("GOSTSIGN_AUDIT_FILE", path, 1);
    audit_event ev = { .origin = "https://esia.gosuslugi.ru",
                       .operation = "authenticate",
                       .cert_owner = "Иванов Иван, ООО Ромашка",
                       .cert_thumbprint = "ab12",
                       .token = "gostsign demo #0001",
                       .what = "login challenge",
                       .result = GS_ERR_PIN_INCORRECT };
    assert_int_equal(audit_record(&ev), 0);
    ev.operation = NULL;
    ev.result = GS_ERR_OK;
    assert_int_equal(audit_record(&ev), 0);
    char buf[2048] = { 0 };
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    assert_true(n > 0);
    assert_non_null(strstr(buf, "origin=https://esia.gosuslugi.ru"));
    assert_non_null(strstr(buf, "result=PIN_INCORRECT"));
    assert_non_null(strstr(buf, "token=\"gostsign demo #0001\""));
    assert_non_null(strstr(buf, "op=- "));
    assert_non_null(strstr(buf, "result=OK"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_line_has_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
