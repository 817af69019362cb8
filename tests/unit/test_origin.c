/* Origin parsing and the allow-list, including the config files that feed it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define OTHER_UID 65534 /* a throwaway uid as the bad owner; CI runs the tests as root */

/* Loads one user file and expects the code; CONFIG_UNSAFE details name the file and the reason. */
static void expect_user_file(const char *path, gs_code want, const char *reason)
{
    agent_config cfg;
    gs_status st;
    gs_status_clear(&st);
    assert_int_equal(agent_config_load(&cfg, NULL, path, &st), want);
    if (want == GS_ERR_CONFIG_UNSAFE) {
        assert_non_null(strstr(st.detail, path));
        assert_non_null(strstr(st.detail, reason));
        assert_string_equal(cfg.pinentry, "pinentry"); /* nothing of the file was applied */
    } else {
        assert_string_equal(cfg.pinentry, "/tmp/evil-pinentry");
    }
    agent_config_free(&cfg);
}

/* A config that others own or may write could start their program as us: refused. */
/* check_revocation_before_sign: off by default; the user file may make it stricter, not weaker. */
static void test_revocation_policy(void **state)
{
    (void)state;
    char dir[] = "/tmp/gostsign-cfg-XXXXXX", sys[300], usr[300];
    assert_non_null(mkdtemp(dir));
    agent_config cfg;
    gs_status st;
    assert_int_equal(agent_config_load(&cfg, NULL, NULL, &st), GS_ERR_OK);
    assert_int_equal(cfg.revocation_policy, AGENT_REVOCATION_OFF);
    assert_int_equal(cfg.revocation_timeout_seconds, AGENT_REVOCATION_TIMEOUT_DEFAULT);
    agent_config_free(&cfg);
    write_file(sys, sizeof(sys), dir, "system.json",
               "{\"check_revocation_before_sign\": \"require\"}");
    write_file(usr, sizeof(usr), dir, "user.json",
               "{\"check_revocation_before_sign\": \"off\", \"revocation_timeout_seconds\": 7}");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_OK);
    assert_int_equal(cfg.revocation_policy, AGENT_REVOCATION_REQUIRE);
    assert_int_equal(cfg.revocation_timeout_seconds, 7);
    agent_config_free(&cfg);
    write_file(sys, sizeof(sys), dir, "system.json", "{\"check_revocation_before_sign\": \"off\"}");
    write_file(usr, sizeof(usr), dir, "user.json", "{\"check_revocation_before_sign\": \"warn\"}");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_OK);
    assert_int_equal(cfg.revocation_policy, AGENT_REVOCATION_WARN);
    agent_config_free(&cfg);
    write_file(usr, sizeof(usr), dir, "user.json", "{\"check_revocation_before_sign\": true}");
    assert_int_equal(agent_config_load(&cfg, sys, usr, &st), GS_ERR_BAD_JSON);
    assert_non_null(strstr(st.detail, "check_revocation_before_sign"));
    agent_config_free(&cfg);
    unlink(sys);
    unlink(usr);
    rmdir(dir);
}

static void test_unsafe_config_files(void **state)
{
    (void)state;
    assert_int_equal(geteuid(), 0); /* chown to another uid needs root, as in CI */
    char dir[] = "/tmp/gostsign-cfg-XXXXXX", path[300], sub[300];
    assert_non_null(mkdtemp(dir));
    const char *text = "{\"pinentry\": \"/tmp/evil-pinentry\"}";
    write_file(path, sizeof(path), dir, "user.json", text);
    assert_int_equal(chmod(path, 0644), 0);
    expect_user_file(path, GS_ERR_OK, NULL);

    assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
    expect_user_file(path, GS_ERR_CONFIG_UNSAFE, "belongs to another user");
    assert_int_equal(chown(path, 0, 0), 0);

    assert_int_equal(chmod(path, 0666), 0);
    expect_user_file(path, GS_ERR_CONFIG_UNSAFE, "writable by group or others");
    assert_int_equal(chmod(path, 0620), 0);
    expect_user_file(path, GS_ERR_CONFIG_UNSAFE, "writable by group or others");
    assert_int_equal(chmod(path, 0600), 0);

    /* the directory: writable by others, owned by another user, or sticky (fine) */
    assert_int_equal(chmod(dir, 0777), 0);
    expect_user_file(path, GS_ERR_CONFIG_UNSAFE, "the directory");
    assert_int_equal(chmod(dir, 01777), 0);
    expect_user_file(path, GS_ERR_OK, NULL);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chown(dir, OTHER_UID, OTHER_UID), 0);
    expect_user_file(path, GS_ERR_CONFIG_UNSAFE, "belongs to another user");
    assert_int_equal(chown(dir, 0, 0), 0);
    assert_int_equal(chmod(dir, 0700), 0);

    /* the system file is checked the same way */
    agent_config cfg;
    gs_status st;
    assert_int_equal(chmod(path, 0646), 0);
    assert_int_equal(agent_config_load(&cfg, path, NULL, &st), GS_ERR_CONFIG_UNSAFE);
    assert_non_null(strstr(st.detail, path));
    agent_config_free(&cfg);

    /* not a regular file (a FIFO would also block the reader) */
    snprintf(sub, sizeof(sub), "%s/fifo.json", dir);
    assert_int_equal(mkfifo(sub, 0600), 0);
    expect_user_file(sub, GS_ERR_CONFIG_UNSAFE, "not a regular file");
    unlink(sub);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_allow_gosuslugi), cmocka_unit_test(test_malformed_origins),
        cmocka_unit_test(test_system_and_user_files),    cmocka_unit_test(test_unsafe_config_files),
        cmocka_unit_test(test_revocation_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
