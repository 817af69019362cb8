/* Origin parsing and the allow-list, including the config files that feed it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "origin.h"

/* Shorthand: the code origin_check gives for one origin. */
static gs_code check(const agent_config *cfg, const char *origin)
{
    gs_status st;
    return origin_check(cfg, origin, &st);
}

static void test_defaults_allow_gosuslugi(void **state)
{
    (void)state;
    agent_config cfg;
    gs_status st;
    assert_int_equal(agent_config_defaults(&cfg, &st), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://esia.gosuslugi.ru"), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://gosuslugi.ru"), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://LK.GOSUSLUGI.RU:443"), GS_ERR_OK);
    assert_int_equal(check(&cfg, "http://esia.gosuslugi.ru"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "https://evilgosuslugi.ru"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "https://gosuslugi.ru.evil.com"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "https://esia.gosuslugi.ru:8443"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "https://localhost"), GS_ERR_ORIGIN_NOT_ALLOWED);
    agent_config_free(&cfg);
}

static void test_malformed_origins(void **state)
{
    (void)state;
    agent_config cfg;
    gs_status st;
    agent_config_defaults(&cfg, &st);
    const char *bad[] = { NULL,
                          "",
                          "gosuslugi.ru",
                          "https://",
                          "https://esia.gosuslugi.ru/",
                          "https://user@esia.gosuslugi.ru",
                          "https://esia.gosuslugi.ru.",
                          "https://esia..gosuslugi.ru",
                          "https://esia.gosuslugi.ru:0",
                          "https://esia.gosuslugi.ru:99999",
                          "file:///etc/passwd",
                          "javascript://gosuslugi.ru",
                          "https://esia.gosuslugi.ru:443x",
                          "https://[::2]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(check(&cfg, bad[i]), GS_ERR_ORIGIN_NOT_ALLOWED);
    agent_config_free(&cfg);
}

/* Writes a config file into a temp dir and returns its path in out. */
static void write_file(char *out, size_t cap, const char *dir, const char *name, const char *text)
{
    snprintf(out, cap, "%s/%s", dir, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_system_and_user_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/gostsign-cfg-XXXXXX", sys[300], usr[300];
    assert_non_null(mkdtemp(dir));
    write_file(sys, sizeof(sys), dir, "system.json",
               "{\"allowed_origins\": [\"https://lk.example.ru\"], \"pin_max_failures\": 5}");
    write_file(
        usr, sizeof(usr), dir, "user.json",
        "{\"allowed_origins\": [\"https://portal.example.org:8443\"], \"allow_localhost\": true,"
        " \"pinentry\": \"/usr/bin/pinentry-tty\"}");
    agent_config cfg;
    gs_status st;
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_OK);
    assert_int_equal(cfg.pin_max_failures, 5);
    assert_int_equal(cfg.pin_cooldown_seconds, 900);
    assert_string_equal(cfg.pinentry, "/usr/bin/pinentry-tty");
    assert_int_equal(check(&cfg, "https://lk.example.ru"), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://portal.example.org:8443"), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://portal.example.org"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "https://esia.gosuslugi.ru"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "http://localhost:8080"), GS_ERR_OK);
    agent_config_free(&cfg);

    /* A locked system list ignores the user's additions and localhost switch. */
    write_file(sys, sizeof(sys), dir, "system.json",
               "{\"allowed_origins\": [\"https://lk.example.ru\"], \"lock_origins\": true}");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_OK);
    assert_int_equal(check(&cfg, "https://portal.example.org:8443"), GS_ERR_ORIGIN_NOT_ALLOWED);
    assert_int_equal(check(&cfg, "http://localhost:8080"), GS_ERR_ORIGIN_NOT_ALLOWED);
    agent_config_free(&cfg);

    /* Malformed files are errors with the file named; missing files are fine. */
    write_file(usr, sizeof(usr), dir, "user.json", "{\"pin_max_failures\": -1}");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_BAD_JSON);
    assert_non_null(strstr(st.detail, "user.json"));
    agent_config_free(&cfg);
    write_file(usr, sizeof(usr), dir, "user.json", "not json");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_BAD_JSON);
    agent_config_free(&cfg);
    assert_int_equal(agent_config_load(&cfg, "/nonexistent/a.json", NULL, &st), GS_ERR_OK);
    agent_config_free(&cfg);
    unlink(sys);
    unlink(usr);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_allow_gosuslugi),
        cmocka_unit_test(test_malformed_origins),
        cmocka_unit_test(test_system_and_user_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
