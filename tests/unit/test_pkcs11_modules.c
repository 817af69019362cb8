/*
 * Modules that come and go (issue 17): the p11-kit registry read as text (names, relative paths,
 * enable-in / disable-in / remote, later directories replacing earlier ones), and a module loaded
 * and unloaded in a running client: never while a session is open on it, unmapped after, and a
 * token listed before the unload is "removed" afterwards, also once another load took its place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkcs11_client.h"

static char work[] = "/tmp/gostsign-test-modules.XXXXXX";

/* Writes one file under the work directory. */
static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", work, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The entry named so, or NULL. */
static const p11_registered_module *named(const p11_registered_module *l, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return &l[i];
    return NULL;
}

static void test_registry_text(void **state)
{
    (void)state;
    char a[600], b[600];
    snprintf(a, sizeof(a), "%s/a", work);
    snprintf(b, sizeof(b), "%s/b", work);
    mkdir(a, 0700);
    mkdir(b, 0700);
    write_file("a/opensc-pkcs11.module", "# OpenSC\nmodule: opensc-pkcs11.so\n");
    write_file("a/vendor.module", "module:/opt/vendor/libv.so\ncritical: no\n");
    write_file("a/off.module", "module: off.so\ndisable-in: firefox, gostsign-agent\n");
    write_file("a/elsewhere.module", "module: e.so\nenable-in: p11-kit-remote\n");
    write_file("a/here.module", "module: /opt/here.so\nenable-in: seahorse gostsign-agent\n");
    write_file("a/remote.module", "remote: |ssh host p11-kit remote\n");
    write_file("a/notes.txt", "module: /opt/not-a-module-file.so\n");
    write_file("a/later.module", "module: /opt/first.so\n");
    write_file("b/later.module", "module: /opt/second.so\n");
    write_file("b/vendor.module", "# module: switched off by the admin\n");

    const char *dirs[] = { a, b };
    p11_registered_module list[16];
    size_t n = p11_registered_modules_in(dirs, 2, list, 16);
    const p11_registered_module *m = named(list, n, "opensc-pkcs11");
    assert_non_null(m);
    assert_true(m->path[0] == '/'); /* relative: under p11-kit's module directory */
    assert_non_null(strstr(m->path, "/opensc-pkcs11.so"));
    assert_non_null(named(list, n, "here"));
    assert_string_equal(named(list, n, "later")->path, "/opt/second.so");
    assert_null(named(list, n, "vendor")); /* the later file names no module */
    assert_null(named(list, n, "off"));
    assert_null(named(list, n, "elsewhere"));
    assert_null(named(list, n, "remote"));
    assert_null(named(list, n, "notes"));
    assert_int_equal(n, 3);
}

/* Whether a file of this name is mapped into the test process. */
static int mapped(const char *file_name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    while (f && fgets(line, sizeof(line), f))
        found |= strstr(line, file_name) != NULL;
    if (f)
        fclose(f);
    return found;
}

static void test_load_and_unload(void **state)
{
    (void)state;
    const char *module = getenv("SOFTTOKEN_MODULE");
    const char *setup = getenv("SOFTTOKEN_SETUP");
    assert_non_null(module);
    assert_non_null(setup);
    char tokens[600], copy[600], cmd[2048];
    snprintf(tokens, sizeof(tokens), "%s/tokens", work);
    snprintf(copy, sizeof(copy), "%s/unloadable-softtoken.so", work);
    mkdir(tokens, 0700);
    setenv("GOSTSIGN_SOFTTOKEN_DIR", tokens, 1);
    setenv("GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS", "2000", 1);
    snprintf(cmd, sizeof(cmd), "'%s' --module '%s' --out '%s/demo' >/dev/null 2>&1 && cp '%s' '%s'",
             setup, module, work, module, copy);
    assert_int_equal(system(cmd), 0);

    gs_status st;
    gs_status_clear(&st);
    p11_client *c = p11_client_open(NULL, 0, 0, &st);
    assert_non_null(c);
    assert_false(mapped("unloadable-softtoken.so"));
    long place = p11_client_load_module(c, copy);
    assert_true(place >= 0);
    assert_true(mapped("unloadable-softtoken.so"));
    assert_int_equal(p11_client_find_module(c, "unloadable-softtoken.so"), place);
    assert_int_equal(p11_client_module_token_count(c, (size_t)place), 1); /* not the spare slot */
    p11_token *list = NULL;
    size_t n = 0;
    assert_int_equal(p11_client_tokens(c, &list, &n, &st), GS_ERR_OK);
    assert_int_equal(n, 1);
    p11_token before = list[0];
    free(list);

    /* a session open on it (a batch waiting for more signatures): it stays */
    p11_session *s = p11_session_open(c, &before, "12345678", 8, &st);
    assert_non_null(s);
    p11_detached_module d;
    assert_int_equal(p11_client_module_detach(c, (size_t)place, &d), 0);
    p11_session_close(s);
    assert_int_equal(p11_client_module_detach(c, (size_t)place, &d), 1);
    p11_detached_finalize(&d);
    p11_detached_release(&d);
    assert_false(mapped("unloadable-softtoken.so"));
    assert_int_equal(p11_client_find_module(c, "unloadable-softtoken.so"), -1);
    assert_int_equal(p11_client_tokens(c, &list, &n, &st), GS_ERR_OK);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(p11_client_refresh_token(c, &before, &st), GS_ERR_TOKEN_REMOVED);

    /* loaded again into the same place: the old token record still names the gone load */
    assert_int_equal(p11_client_load_module(c, copy), place);
    assert_null(p11_session_open(c, &before, "12345678", 8, &st));
    assert_int_equal(st.code, GS_ERR_TOKEN_REMOVED);
    assert_int_equal(p11_client_tokens(c, &list, &n, &st), GS_ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p11_client_refresh_token(c, &list[0], &st), GS_ERR_OK);
    free(list);
    p11_client_close(c);
    assert_false(mapped("unloadable-softtoken.so"));
}

int main(void)
{
    if (!mkdtemp(work))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_text),
        cmocka_unit_test(test_load_and_unload),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
