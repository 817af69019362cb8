/*
 * The PIN dialog against a scripted Assuan pinentry (tests/pinentry/scripted_pinentry.c, path in
 * argv[1]): PIN returned into locked memory, cancel, killed or missing pinentry, hangs (timeout),
 * the texts that reach the pinentry, and the Russian description builder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pinentry.h"

static const char *scripted_pinentry;
static char workdir[] = "/tmp/gostsign-pinentry-XXXXXX";
static char script_path[512], record_path[512];

/* Writes the script lines for the next pinentry invocations and clears the record. */
static void script(const char *lines)
{
    char counter[600];
    snprintf(counter, sizeof(counter), "%s.next", script_path);
    unlink(counter);
    unlink(record_path);
    FILE *f = fopen(script_path, "w");
    assert_non_null(f);
    fputs(lines, f);
    fclose(f);
}

/* Reads what the pinentry received. */
static char *recorded(void)
{
    static char buf[16384];
    buf[0] = '\0';
    FILE *f = fopen(record_path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A request with the defaults the tests share. */
static pinentry_request request(void)
{
    pinentry_request req = { .program = scripted_pinentry,
                             .description = "Сайт https://example.ru запрашивает подпись.",
                             .timeout_seconds = 20 };
    return req;
}

/* No pinentry child may remain, neither running nor as a zombie. */
static void assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* The PIN arrives intact, in locked (or at least wiped, non-dumped) memory. */
static void test_pin_returned(void **state)
{
    (void)state;
    script("pin 12%34 56\n");
    pinentry_request req = request();
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    assert_non_null(pin);
    assert_int_equal(pin->len, 8);
    assert_memory_equal(pin->data, "12%34 56", 9);
    assert_true(secmem_is_dontdump(pin->data));
    secure_pin_free(pin);
    assert_no_children();
    const char *rec = recorded();
    assert_non_null(strstr(rec, "GETPIN"));
    assert_null(strstr(rec, "12%34"));          /* the PIN never travels towards the pinentry */
    assert_null(strstr(rec, "OPTION ttyname")); /* no tty given, no tty options */
}

/* An empty field confirmed with OK is an empty PIN, not an error. */
static void test_empty_pin(void **state)
{
    (void)state;
    script("empty\n");
    pinentry_request req = request();
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    assert_int_equal(pin->len, 0);
    assert_string_equal(pin->data, "");
    secure_pin_free(pin);
}

/* Cancel in the dialog is USER_CANCELLED and gives no PIN. */
static void test_cancel(void **state)
{
    (void)state;
    script("cancel\n");
    pinentry_request req = request();
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_USER_CANCELLED);
    assert_null(pin);
    assert_no_children();
}

/* A pinentry killed mid-dialog is PINENTRY_FAILED, and it is reaped. */
static void test_killed(void **state)
{
    (void)state;
    script("die\n");
    pinentry_request req = request();
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_PINENTRY_FAILED);
    assert_null(pin);
    assert_no_children();
    script("die-early\n");
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_PINENTRY_FAILED);
    assert_no_children();
}

/* A missing program is PINENTRY_FAILED with its path in the detail. */
static void test_missing(void **state)
{
    (void)state;
    pinentry_request req = request();
    req.program = "/nonexistent/pinentry-gostsign-test";
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_PINENTRY_FAILED);
    assert_non_null(strstr(st.detail, "/nonexistent/pinentry-gostsign-test"));
    req.program = "/etc/passwd"; /* exists but is not executable */
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_PINENTRY_FAILED);
    assert_no_children();
}

/* Seconds elapsed on the monotonic clock since `start`. */
static double since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A pinentry that never answers (after or even before its greeting) ends as TIMEOUT, on time. */
static void test_hang_timeout(void **state)
{
    (void)state;
    const char *modes[] = { "hang\n", "hang-early\n", "hang-hard\n" };
    for (size_t i = 0; i < 3; i++) {
        script(modes[i]);
        pinentry_request req = request();
        req.timeout_seconds = 1;
        secure_pin *pin = NULL;
        gs_status st;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_TIMEOUT);
        double took = since(&start);
        assert_true(took >= 0.9 && took < 6.0); /* 1 s + grace + SIGTERM/SIGKILL steps */
        assert_null(pin);
        assert_no_children();
    }
}

/* The pinentry's own timeout answer (after SETTIMEOUT) is TIMEOUT as well. */
static void test_pinentry_reports_timeout(void **state)
{
    (void)state;
    script("timeout\n");
    pinentry_request req = request();
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_TIMEOUT);
    assert_non_null(strstr(recorded(), "SETTIMEOUT 20"));
}

/* Texts reach the pinentry percent-escaped, with Russian labels, the retry error and tty options.
 */
static void test_texts_sent(void **state)
{
    (void)state;
    script("pin 0000\n");
    pinentry_request req = request();
    req.description = "100% готово\r\nвторая строка";
    req.error_text = "Неверный PIN-код. Осталось попыток: 2";
    req.ttyname = "/dev/null";
    req.ttytype = "vt100";
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    secure_pin_free(pin);
    const char *rec = recorded();
    assert_non_null(strstr(rec, "SETDESC 100%25 готово%0D%0Aвторая строка\n"));
    assert_non_null(strstr(rec, "SETERROR Неверный PIN-код. Осталось попыток: 2\n"));
    assert_non_null(strstr(rec, "SETTITLE gostsign — электронная подпись\n"));
    assert_non_null(strstr(rec, "SETPROMPT PIN-код:\n"));
    assert_non_null(strstr(rec, "SETOK Подписать\n"));
    assert_non_null(strstr(rec, "SETCANCEL Отмена\n"));
    assert_non_null(strstr(rec, "OPTION ttyname=/dev/null\n"));
    assert_non_null(strstr(rec, "OPTION ttytype=vt100\n"));
    assert_non_null(strstr(rec, "OPTION lc-ctype=C.UTF-8\n"));
    /* SETERROR is only sent when the caller asks for it: nothing retries by itself. */
    script("pin 0000\npin 1111\n");
    req.error_text = NULL;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    assert_string_equal(pin->data, "0000");
    secure_pin_free(pin);
    const char *rec2 = recorded();
    assert_null(strstr(rec2, "SETERROR"));
    const char *first = strstr(rec2, "GETPIN");
    assert_non_null(first);
    assert_null(strstr(first + 1, "GETPIN")); /* one dialog, one GETPIN */
}

/* A description that cannot fit one Assuan line is refused, not cut silently. */
static void test_too_long_description(void **state)
{
    (void)state;
    script("pin 0000\n");
    char big[2000];
    memset(big, '%', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pinentry_request req = request();
    req.description = big;
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_BAD_REQUEST);
    assert_null(pin);
    assert_no_children();
}

/* Assuan escaping of '%', CR and LF (and other controls), and the size check. */
static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(pinentry_escape("a%b\rc\nd\te", out, sizeof(out)), 17);
    assert_string_equal(out, "a%25b%0Dc%0Ad%09e");
    assert_int_equal(pinentry_escape("ПИН", out, sizeof(out)), 6);
    assert_string_equal(out, "ПИН");
    assert_int_equal(pinentry_escape("%%%%", out, 12), -1);
    assert_int_equal(pinentry_escape("%%%%", out, 13), 12);
}

/* The description names the site, action, owner, organisation, INN/OGRN, token and retries. */
static void test_describe(void **state)
{
    (void)state;
    pinentry_signing_info info = {
        .origin = "https://lk.gosuslugi.ru",
        .action = "вход на сайт",
        .owner = "Иванов Иван Иванович",
        .organisation = "ООО \"Ромашка\"",
        .innle = "7701234567",
        .inn = "770123456789",
        .ogrn = "1027700132195",
        .token_label = "Rutoken ECP",
        .token_serial = "0A1B2C3D",
        .retries_left = 3,
    };
    char desc[PINENTRY_DESC_SIZE];
    gs_status st;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    const char *want[] = { "Сайт https://lk.gosuslugi.ru запрашивает электронную подпись.",
                           "Действие: вход на сайт",
                           "Владелец: Иванов Иван Иванович",
                           "Организация: ООО \"Ромашка\"",
                           "ИНН ЮЛ 7701234567, ИНН 770123456789, ОГРН 1027700132195",
                           "Токен: Rutoken ECP, серийный номер 0A1B2C3D",
                           "Осталось попыток ввода PIN-кода: 3" };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_non_null(strstr(desc, want[i]));
    assert_null(strstr(desc, "Последняя попытка"));
    assert_null(strstr(desc, "на устройстве"));
    /* a file and its digest */
    info.action = "подпись файла";
    info.document = "отчёт.pdf";
    info.digest_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_non_null(strstr(desc, "Документ: отчёт.pdf"));
    assert_non_null(strstr(desc, "0011223344556677…8899aabbccddeeff"));
}

/* One attempt left (by count or by the token's FINAL_TRY flag) gets the explicit warning. */
static void test_final_try(void **state)
{
    (void)state;
    pinentry_signing_info info = { .origin = "https://lk.gosuslugi.ru", .retries_left = 1 };
    char desc[PINENTRY_DESC_SIZE];
    gs_status st;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_non_null(strstr(desc, "Последняя попытка!"));
    info.retries_left = -1;
    info.final_try = true;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_non_null(strstr(desc, "Последняя попытка!"));
    info.final_try = false;
    info.count_low = true;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_null(strstr(desc, "Последняя попытка!"));
    assert_non_null(strstr(desc, "Осталось мало попыток"));
    info.retries_left = 0;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_PIN_LOCKED);
    info.retries_left = 2;
    info.origin = NULL;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_BAD_REQUEST);
}

/* Makes an empty executable file dir/name (a stand-in for an installed pinentry). */
static void fake_program(const char *dir, const char *name)
{
    char path[700];
    assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexit 1\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
}

/*
 * The default "pinentry" is looked up in PATH: the desktop's dialog when a display is there,
 * else a terminal one; a bare name is found in PATH, and a request naming only the scripted
 * pinentry's file name runs it (the old code tried the bare name as a path: "No such file").
 */
static void test_resolve_in_path(void **state)
{
    (void)state;
    char dir[600], out[700], want[700];
    snprintf(dir, sizeof(dir), "%s/bin", workdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    fake_program(dir, "pinentry-gnome3");
    fake_program(dir, "pinentry-curses");
    fake_program(dir, "pinentry-tty");
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", dir, 1);
    assert_int_equal(pinentry_resolve("pinentry", true, out, sizeof(out)), 0);
    snprintf(want, sizeof(want), "%s/pinentry-gnome3", dir);
    assert_string_equal(out, want);
    assert_int_equal(pinentry_resolve("pinentry", false, out, sizeof(out)), 0);
    snprintf(want, sizeof(want), "%s/pinentry-curses", dir);
    assert_string_equal(out, want);
    assert_int_equal(pinentry_resolve("pinentry-tty", true, out, sizeof(out)), 0);
    snprintf(want, sizeof(want), "%s/pinentry-tty", dir);
    assert_string_equal(out, want);
    assert_int_equal(pinentry_resolve("pinentry-qt", true, out, sizeof(out)), -1);
    assert_int_equal(pinentry_resolve("/opt/x/pinentry", false, out, sizeof(out)), 0);
    assert_string_equal(out, "/opt/x/pinentry");
    /* a bare name in the agent's configuration starts the program found in PATH */
    char sdir[600];
    snprintf(sdir, sizeof(sdir), "%s", scripted_pinentry);
    *strrchr(sdir, '/') = '\0';
    setenv("PATH", sdir, 1);
    script("pin 2468\n");
    pinentry_request req = request();
    req.program = strrchr(scripted_pinentry, '/') + 1;
    req.display = ":7";
    secure_pin *pin = NULL;
    gs_status st;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    assert_string_equal(pin->data, "2468");
    secure_pin_free(pin);
    assert_non_null(strstr(recorded(), "OPTION display=:7\n"));
    setenv("PATH", saved, 1);
    free(saved);
}

/* Every page-controlled field at its longest, with the API name and a bare hash: still one line. */
static void test_describe_worst_case_fits(void **state)
{
    (void)state;
    char longest[600], origin[200];
    longest[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(longest, "Щ");
    snprintf(origin, sizeof(origin), "https://%s.example", "very-long-subdomain-name-of-a-site");
    pinentry_signing_info info = {
        .origin = origin,
        .api = longest,
        .action = longest,
        .document = longest,
        .content_hidden = true,
        .digest_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        .owner = longest,
        .organisation = longest,
        .inn = "123456789012",
        .innle = "1234567890",
        .ogrn = "1234567890123",
        .ogrnip = "123456789012345",
        .token_label = longest,
        .token_serial = "0123456789abcdef",
        .retries_left = 1,
        .agent_attempts_left = 1,
        .pinpad = true,
    };
    char desc[PINENTRY_DESC_SIZE], escaped[PINENTRY_ARG_MAX + 1];
    gs_status st;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_true(pinentry_escape(desc, escaped, sizeof(escaped)) > 0);
    assert_non_null(strstr(desc, "Владелец: Щ")); /* every line is still there, only shorter */
    assert_non_null(strstr(desc, "Организация: Щ"));
    assert_non_null(strstr(desc, "Последняя попытка"));
}

/* A site cannot forge lines (newlines, bidi overrides) and long fields are shortened to fit. */
static void test_describe_hostile_fields(void **state)
{
    (void)state;
    char longest[600];
    longest[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(longest, "Щ\xE2\x80\xAE"); /* Cyrillic letter + RIGHT-TO-LEFT OVERRIDE */
    pinentry_signing_info info = {
        .origin = "https://evil.example\nОсталось попыток ввода PIN-кода: 99",
        .action = longest,
        .document = longest,
        .digest_hex = longest,
        .owner = longest,
        .organisation = longest,
        .inn = longest,
        .innle = longest,
        .ogrn = longest,
        .ogrnip = longest,
        .token_label = longest,
        .token_serial = longest,
        .retries_left = 1,
        .pinpad = true,
        .expires_soon = true, /* and the certificate's own warnings on top */
        .days_left = 29,
        .revocation_unknown = true,
    };
    char desc[PINENTRY_DESC_SIZE];
    gs_status st;
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    /* the certificate's warnings have a line of their own (SETERROR), in both languages */
    char warnings[PINENTRY_WARNINGS_SIZE], warn_escaped[PINENTRY_ARG_MAX + 1];
    assert_true(pinentry_describe_warnings(&info, warnings, sizeof(warnings)) > 0);
    assert_non_null(
        strstr(warnings, "истекает через 29 дн. / The certificate expires in 29 day(s)."));
    assert_non_null(strstr(warnings, "не отозван ли сертификат. / The certificate's revocation"));
    assert_true(pinentry_escape(warnings, warn_escaped, sizeof(warn_escaped)) > 0);
    assert_null(strstr(desc, "истекает"));
    info.expires_soon = info.revocation_unknown = false;
    assert_int_equal(pinentry_describe_warnings(&info, warnings, sizeof(warnings)), 0);
    assert_string_equal(warnings, "");
    assert_null(strstr(desc, "\nОсталось попыток ввода PIN-кода: 99"));
    assert_null(strstr(desc, "\xE2\x80\xAE"));
    assert_non_null(strstr(desc, "Последняя попытка!"));
    assert_non_null(strstr(desc, "Введите PIN-код на устройстве."));
    char escaped[PINENTRY_ARG_MAX + 1];
    assert_true(pinentry_escape(desc, escaped, sizeof(escaped)) > 0);
    assert_null(strstr(desc, "Хэш")); /* not hex: not shown as a digest */
    /* the worst case still goes through libassuan as one line */
    script("pin 1\n");
    pinentry_request req = request();
    req.description = desc;
    secure_pin *pin = NULL;
    assert_int_equal(pinentry_ask(&req, &pin, &st), GS_ERR_OK);
    secure_pin_free(pin);
    assert_non_null(strstr(recorded(), escaped));
    /* invalid UTF-8 is replaced, not passed on */
    info.owner = "bad \xC0\x80 bytes";
    assert_int_equal(pinentry_describe_signing(&info, desc, sizeof(desc), &st), GS_ERR_OK);
    assert_non_null(strstr(desc, "bad ?? bytes"));
}

/* The PIN-pad dialog: shown in the background, closed by the agent, or cancelled by the user. */
static void test_pinpad(void **state)
{
    (void)state;
    script("hang\n");
    pinentry_request req = request();
    req.description = "Введите PIN-код на устройстве.";
    pinentry_pinpad *pad = NULL;
    gs_status st;
    assert_int_equal(pinentry_pinpad_open(&req, &pad, &st), GS_ERR_OK);
    usleep(200 * 1000);
    assert_true(pinentry_pinpad_active(pad));
    assert_int_equal(pinentry_pinpad_close(pad, &st), GS_ERR_OK);
    assert_no_children();
    assert_non_null(strstr(recorded(), "CONFIRM"));
    assert_null(strstr(recorded(), "GETPIN"));
    script("cancel\n");
    assert_int_equal(pinentry_pinpad_open(&req, &pad, &st), GS_ERR_OK);
    for (int i = 0; i < 200 && pinentry_pinpad_active(pad); i++)
        usleep(10 * 1000);
    assert_false(pinentry_pinpad_active(pad));
    assert_int_equal(pinentry_pinpad_close(pad, &st), GS_ERR_USER_CANCELLED);
    assert_no_children();
}

/* Confirm dialogs map OK and Cancel. */
static void test_confirm(void **state)
{
    (void)state;
    script("pin x\ncancel\n");
    pinentry_request req = request();
    gs_status st;
    assert_int_equal(pinentry_confirm(&req, false, &st), GS_ERR_OK);
    assert_int_equal(pinentry_confirm(&req, true, &st), GS_ERR_USER_CANCELLED);
    assert_non_null(strstr(recorded(), "CONFIRM --one-button"));
}

/* secmem: zeroed, usable, wiped; secure_pin bounds its growth. */
static void test_secmem(void **state)
{
    (void)state;
    unsigned char *p = secmem_alloc(100);
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xAB, 100);
    p = secmem_realloc(p, 5000);
    assert_non_null(p);
    assert_int_equal(p[99], 0xAB);
    assert_int_equal(p[100], 0);
    assert_true(secmem_is_dontdump(p));
    struct rlimit lim;
    if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0 && lim.rlim_cur >= 1024 * 1024)
        assert_true(secmem_is_locked(p)); /* mlock must work when the limit allows it */
    secmem_free(p);
    secmem_free(NULL);
    secure_pin *pin = secure_pin_new(4);
    assert_true(secure_pin_append(pin, "12", 2));
    assert_true(secure_pin_append(pin, "34", 2));
    assert_false(secure_pin_append(pin, "5", 1));
    assert_string_equal(pin->data, "1234");
    secure_pin_free(pin);
}

/* Creates the scratch directory for the script and record files. */
static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(workdir))
        return -1;
    snprintf(script_path, sizeof(script_path), "%s/script", workdir);
    snprintf(record_path, sizeof(record_path), "%s/record", workdir);
    setenv("GS_TEST_PINENTRY_SCRIPT", script_path, 1);
    setenv("GS_TEST_PINENTRY_RECORD", record_path, 1);
    return 0;
}

/* Removes the scratch directory. */
static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Takes the scripted pinentry's path from argv[1] (meson passes it) and runs the tests. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPTED_PINENTRY\n", argv[0]);
        return 2;
    }
    scripted_pinentry = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_returned),
        cmocka_unit_test(test_empty_pin),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_killed),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_hang_timeout),
        cmocka_unit_test(test_pinentry_reports_timeout),
        cmocka_unit_test(test_texts_sent),
        cmocka_unit_test(test_too_long_description),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_final_try),
        cmocka_unit_test(test_describe_hostile_fields),
        cmocka_unit_test(test_describe_worst_case_fits),
        cmocka_unit_test(test_pinpad),
        cmocka_unit_test(test_confirm),
        cmocka_unit_test(test_secmem),
        cmocka_unit_test(test_resolve_in_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
