/* The audit trail writes one complete line per signature to the file sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Reads the whole audit file into buf (NUL-terminated); returns its length. */
static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Counts the newline bytes: one event must be exactly one line. */
static size_t count_lines(const char *buf)
{
    size_t n = 0;
    for (; *buf; buf++)
        n += *buf == '\n';
    return n;
}

/* A fresh audit path in a private directory; the file does not exist yet. */
static void fresh_audit_path(char *dir, char *path, size_t cap)
{
    assert_non_null(mkdtemp(dir));
    snprintf(path, cap, "%s/audit.log", dir);
    setenv("GOSTSIGN_AUDIT_FILE", path, 1);
}

/* A document name (or any field) with a newline, quotes or spaces cannot forge a second line. */
static void test_fields_are_escaped(void **state)
{
    (void)state;
    char dir[] = "/tmp/gostsign-audit-XXXXXX", path[300], buf[4096];
    fresh_audit_path(dir, path, sizeof(path));
    audit_event ev = {
        .origin = "https://lk.example.ru result=OK",
        .operation = "sign",
        .cert_owner = "Иванов\" token=\"forged",
        .cert_thumbprint = "ab12\r\n",
        .token = "t\\x0a\001\177",
        .what = "doc.pdf\"\n2026-01-01T00:00:00Z op=sign origin=https://bank.ru result=OK "
                "cert=\"Петров\" sha1=ff token=\"x\" what=\"pay\"",
        .result = GS_ERR_USER_CANCELLED,
    };
    assert_int_equal(audit_record(&ev), 0);
    read_all(path, buf, sizeof(buf));
    unlink(path);
    rmdir(dir);
    assert_int_equal(count_lines(buf), 1);
    assert_null(strstr(buf, "\r"));
    char *what = strstr(buf, " what=\"");
    assert_non_null(what);
    char *real = strstr(buf, " result=");
    assert_true(real && real < what && strncmp(real, " result=USER_CANCELLED ", 23) == 0);
    assert_non_null(strstr(buf, "origin=https://lk.example.ru\\x20result=OK "));
    assert_non_null(strstr(buf, "cert=\"Иванов\\x22 token=\\x22forged\" "));
    assert_non_null(strstr(buf, "sha1=ab12\\r\\n "));
    assert_non_null(strstr(buf, "token=\"t\\\\x0a\\x01\\x7f\" "));
    assert_non_null(strstr(buf, "what=\"doc.pdf\\x22\\n2026-01-01T00:00:00Z op=sign "));
    assert_null(strstr(buf, "\"pay\""));
    assert_non_null(strstr(buf, "what=\\x22pay\\x22\"\n"));
}

/* The audit file names sites and people: created 0600, and an existing file of ours made 0600. */
static void test_file_is_private(void **state)
{
    (void)state;
    char dir[] = "/tmp/gostsign-audit-XXXXXX", path[300];
    fresh_audit_path(dir, path, sizeof(path));
    audit_event ev = { .operation = "sign", .result = GS_ERR_OK };
    mode_t old = umask(022);
    assert_int_equal(audit_record(&ev), 0);
    umask(old);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(audit_record(&ev), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    unlink(path);

    /* never through a symlink: another file would get our lines */
    char target[320];
    snprintf(target, sizeof(target), "%s/target", dir);
    FILE *f = fopen(target, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(symlink(target, path), 0);
    audit_record(&ev); /* the journal may still take it; the file must not */
    assert_int_equal(stat(target, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    unlink(path);
    unlink(target);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_line_has_every_field),
        cmocka_unit_test(test_fields_are_escaped),
        cmocka_unit_test(test_file_is_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
