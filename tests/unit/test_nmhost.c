/*
 * gostsign-nmhost decisions (native-messaging/nmhost_core.c): who is calling (argv shapes of
 * Chromium and Firefox), the extension allow-list and its config file, origin validation, the
 * request envelope checks, what happens to every kind of bad frame, and the 1 MiB limit on
 * agent messages going to the browser.
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

#include "nmhost.h"

#define CHROME_ORIGIN "chrome-extension://" NM_CHROMIUM_EXTENSION_ID "/"

/* The error code of a reply built by the host. */
static const char *reply_code(json_object *reply)
{
    json_object *err, *code;
    if (!json_object_object_get_ex(reply, "error", &err) ||
        !json_object_object_get_ex(err, "code", &code))
        return "";
    return json_object_get_string(code);
}

/* The decision for a body given as a string. */
static nm_action decide(const char *body, json_object **out, char *id_text)
{
    return nm_check_request(body, strlen(body), out, id_text, NM_ID_TEXT_MAX);
}

/* Chromium: origin argument, with and without --parent-window; Firefox: path + ID. */
static void test_caller_from_args(void **state)
{
    (void)state;
    nm_caller c;
    gs_status st;
    char *chrome[] = { "nmhost", CHROME_ORIGIN };
    assert_int_equal(nm_caller_from_args(2, chrome, &c, &st), GS_ERR_OK);
    assert_int_equal(c.browser, NM_BROWSER_CHROMIUM);
    assert_string_equal(c.extension, NM_CHROMIUM_EXTENSION_ID);
    char *windows[] = { "nmhost", CHROME_ORIGIN, "--parent-window=1234" };
    assert_int_equal(nm_caller_from_args(3, windows, &c, &st), GS_ERR_OK);
    char *firefox[] = { "nmhost", "/usr/lib/mozilla/native-messaging-hosts/x.json",
                        "gostsign@gostsign.ru" };
    assert_int_equal(nm_caller_from_args(3, firefox, &c, &st), GS_ERR_OK);
    assert_int_equal(c.browser, NM_BROWSER_FIREFOX);
    assert_string_equal(c.extension, "gostsign@gostsign.ru");
    char *none[] = { "nmhost" };
    assert_int_equal(nm_caller_from_args(1, none, &c, &st), GS_ERR_BAD_REQUEST);
    char *short_id[] = { "nmhost", "chrome-extension://abc/" };
    assert_int_equal(nm_caller_from_args(2, short_id, &c, &st), GS_ERR_BAD_REQUEST);
    char *bad_letters[] = { "nmhost", "chrome-extension://zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz/" };
    assert_int_equal(nm_caller_from_args(2, bad_letters, &c, &st), GS_ERR_BAD_REQUEST);
    char *path_tail[] = { "nmhost", CHROME_ORIGIN "x" };
    assert_int_equal(nm_caller_from_args(2, path_tail, &c, &st), GS_ERR_BAD_REQUEST);
}

/* Only listed extensions pass; a config file adds to the compiled-in list. */
static void test_allowlist(void **state)
{
    (void)state;
    nm_allowlist al;
    nm_caller c = { NM_BROWSER_CHROMIUM, NM_CHROMIUM_EXTENSION_ID };
    gs_status st;
    nm_allowlist_defaults(&al);
    assert_int_equal(nm_caller_check(&al, &c, &st), GS_ERR_OK);
    snprintf(c.extension, sizeof(c.extension), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(nm_caller_check(&al, &c, &st), GS_ERR_ORIGIN_NOT_ALLOWED);

    char path[] = "/tmp/gostsign-nmhost-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *cfg = "{\"allowed_extensions\": [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}";
    assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
    close(fd);
    assert_int_equal(nm_allowlist_load(&al, path, &st), GS_ERR_OK);
    assert_int_equal(nm_caller_check(&al, &c, &st), GS_ERR_OK);
    FILE *f = fopen(path, "w");
    fputs("{\"allowed_extensions\": 5}", f);
    fclose(f);
    assert_int_equal(nm_allowlist_load(&al, path, &st), GS_ERR_BAD_JSON);
    f = fopen(path, "w");
    fputs("[not json", f);
    fclose(f);
    assert_int_equal(nm_allowlist_load(&al, path, &st), GS_ERR_BAD_JSON);
    unlink(path);
    assert_int_equal(nm_allowlist_load(&al, path, &st), GS_ERR_OK); /* missing: fine */
    nm_allowlist_free(&al);
}

/* https passes (normalised); http only for loopback; "extension:" exactly; never local: or others. */
static void test_origin_validate(void **state)
{
    (void)state;
    char out[300];
    gs_status st;
    assert_int_equal(nm_origin_validate("https://LK.Example.RU", out, sizeof(out), &st), GS_ERR_OK);
    assert_string_equal(out, "https://lk.example.ru");
    assert_int_equal(nm_origin_validate("https://a.ru:8443", out, sizeof(out), &st), GS_ERR_OK);
    assert_string_equal(out, "https://a.ru:8443");
    assert_int_equal(nm_origin_validate("http://localhost:8080", out, sizeof(out), &st), GS_ERR_OK);
    assert_int_equal(nm_origin_validate("http://127.0.0.1", out, sizeof(out), &st), GS_ERR_OK);
    /* the extension's own popup and chooser: passed on exactly, and nothing like it */
    assert_int_equal(nm_origin_validate("extension:", out, sizeof(out), &st), GS_ERR_OK);
    assert_string_equal(out, PROTO_EXTENSION_ORIGIN);
    static const char extension_origin[] = "chrome-extension://" NM_CHROMIUM_EXTENSION_ID;
    const char *refused[] = { "local:gostsign",
                              "extension:x",
                              "Extension:",
                              "extension: ",
                              "extension:https://lk.example.ru",
                              "extension",
                              "http://example.ru",
                              "https://example.ru/path",
                              "https://user@example.ru",
                              "ftp://example.ru",
                              extension_origin,
                              "null",
                              "",
                              "https://",
                              "https://exa mple.ru",
                              "https://example.ru.",
                              "https://example.ru:0",
                              "https://example.ru:99999" };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(nm_origin_validate(refused[i], out, sizeof(out), &st),
                         GS_ERR_ORIGIN_NOT_ALLOWED);
    }
    assert_int_equal(nm_origin_validate(NULL, out, sizeof(out), &st), GS_ERR_ORIGIN_NOT_ALLOWED);
}

/* A good request is rebuilt with exactly id, cmd, the normalised origin and args. */
static void test_forward_rebuilds_request(void **state)
{
    (void)state;
    json_object *out = NULL, *v;
    char id_text[NM_ID_TEXT_MAX];
    assert_int_equal(decide("{\"id\":7,\"cmd\":\"sign\",\"origin\":\"https://A.ru\","
                            "\"args\":{\"data\":\"eA==\"},\"extra\":\"dropped\",\"pin\":\"1\"}",
                            &out, id_text),
                     NM_FORWARD);
    assert_string_equal(id_text, "7");
    assert_int_equal(json_object_object_length(out), 4);
    assert_true(json_object_object_get_ex(out, "origin", &v));
    assert_string_equal(json_object_get_string(v), "https://a.ru");
    assert_false(json_object_object_get_ex(out, "extra", &v));
    assert_false(json_object_object_get_ex(out, "pin", &v));
    json_object_put(out);
    assert_int_equal(
        decide("{\"id\":\"abc\",\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}", &out, id_text),
        NM_FORWARD);
    assert_string_equal(id_text, "abc");
    json_object_put(out);
}

/* Bad envelopes are answered (with the id when it is usable) and never forwarded. */
static void test_envelope_errors(void **state)
{
    (void)state;
    struct {
        const char *body, *code;
        int has_id;
    } cases[] = {
        { "{\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 0 },
        { "{\"id\":1.5,\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 0 },
        { "{\"id\":[1],\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 0 },
        { "{\"id\":1,\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 1 },
        { "{\"id\":1,\"cmd\":7,\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 1 },
        { "{\"id\":1,\"cmd\":\"\",\"origin\":\"https://a.ru\"}", "BAD_REQUEST", 1 },
        { "{\"id\":1,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":[]}", "BAD_REQUEST", 1 },
        { "{\"id\":1,\"cmd\":\"sign\",\"origin\":5}", "BAD_REQUEST", 1 },
        { "{\"id\":1,\"cmd\":\"sign\"}", "ORIGIN_NOT_ALLOWED", 1 },
        { "{\"id\":1,\"cmd\":\"sign\",\"origin\":\"local:gostsign\"}", "ORIGIN_NOT_ALLOWED", 1 },
        { "{\"id\":1,\"cmd\":\"sign\",\"origin\":\"http://evil.ru\"}", "ORIGIN_NOT_ALLOWED", 1 },
        { "[1,2]", "BAD_JSON", 0 },
        { "{\"id\":1", "BAD_JSON", 0 },
        { "{\"id\":1} trailing", "BAD_JSON", 0 },
        { "{\"id\":\"\xff\xfe\"}", "BAD_JSON", 0 },
        { "{\"id\":\"\xc0\xaf\"}", "BAD_JSON", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *out = NULL, *id;
        char id_text[NM_ID_TEXT_MAX];
        assert_int_equal(decide(cases[i].body, &out, id_text), NM_REPLY);
        assert_string_equal(reply_code(out), cases[i].code);
        assert_true(json_object_object_get_ex(out, "id", &id));
        assert_int_equal(id != NULL, cases[i].has_id);
        json_object_put(out);
    }
    /* an id too long to track */
    char body[400];
    snprintf(body, sizeof(body),
             "{\"id\":\"%0200d\",\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}", 0);
    json_object *out = NULL;
    char id_text[NM_ID_TEXT_MAX];
    assert_int_equal(decide(body, &out, id_text), NM_REPLY);
    assert_string_equal(reply_code(out), "BAD_REQUEST");
    json_object_put(out);
}

/* Stream-level faults: truncated header or body, zero and oversized lengths close the stream. */
static void test_stream_faults(void **state)
{
    (void)state;
    struct {
        const uint8_t *data;
        size_t len;
        nm_action act;
        const char *code;
    } cases[] = {
        { (const uint8_t *)"", 0, NM_CLOSE, "" },
        { (const uint8_t *)"\x05\x00", 2, NM_REPLY_AND_CLOSE, "BAD_FRAME" },
        { (const uint8_t *)"\x10\x00\x00\x00{\"id\":1}", 12, NM_REPLY_AND_CLOSE, "BAD_FRAME" },
        { (const uint8_t *)"\x00\x00\x00\x00", 4, NM_REPLY_AND_CLOSE, "BAD_FRAME" },
        { (const uint8_t *)"\x01\x00\x40\x00", 4, NM_REPLY_AND_CLOSE, "FRAME_TOO_LARGE" },
        { (const uint8_t *)"\xff\xff\xff\xff", 4, NM_REPLY_AND_CLOSE, "FRAME_TOO_LARGE" },
        { (const uint8_t *)"\x02\x00\x00\x00{}", 6, NM_REPLY, "BAD_REQUEST" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gs_frame_source src = gs_frame_source_mem(cases[i].data, cases[i].len);
        json_object *out = NULL;
        char id_text[NM_ID_TEXT_MAX];
        assert_int_equal(nm_from_browser(&src, &out, id_text, sizeof(id_text)), cases[i].act);
        assert_string_equal(out ? reply_code(out) : "", cases[i].code);
        json_object_put(out);
    }
    /* exactly at the 4 MiB cap is still read (and then judged as JSON) */
    size_t n = GS_FRAME_MAX_FROM_BROWSER;
    uint8_t *big = malloc(n + 4);
    uint32_t len = (uint32_t)n;
    memcpy(big, &len, 4);
    memset(big + 4, ' ', n);
    big[4] = '{';
    big[n + 3] = '}';
    gs_frame_source src = gs_frame_source_mem(big, n + 4);
    json_object *out = NULL;
    char id_text[NM_ID_TEXT_MAX];
    assert_int_equal(nm_from_browser(&src, &out, id_text, sizeof(id_text)), NM_REPLY);
    assert_string_equal(reply_code(out), "BAD_REQUEST");
    json_object_put(out);
    free(big);
}

/* Agent messages: events are not final, replies are; above 1 MiB becomes FRAME_TOO_LARGE. */
static void test_agent_messages(void **state)
{
    (void)state;
    json_object *rep = NULL, *id;
    bool final = false;
    char id_text[NM_ID_TEXT_MAX];
    const char *event = "{\"id\":3,\"event\":\"pin-requested\"}";
    assert_true(
        nm_check_agent_message(event, strlen(event), &rep, &final, id_text, sizeof(id_text)));
    assert_false(final);
    assert_string_equal(id_text, "3");
    const char *reply = "{\"id\":\"x\",\"ok\":true,\"result\":{}}";
    assert_true(
        nm_check_agent_message(reply, strlen(reply), &rep, &final, id_text, sizeof(id_text)));
    assert_true(final);
    assert_string_equal(id_text, "x");
    assert_false(nm_check_agent_message("nope", 4, &rep, &final, id_text, sizeof(id_text)));
    assert_string_equal(reply_code(rep), "INTERNAL");
    json_object_put(rep);

    size_t n = GS_FRAME_MAX_TO_BROWSER + 1;
    char *big = malloc(n + 1);
    const char *head = "{\"id\":9,\"ok\":true,\"result\":\"";
    memset(big, 'A', n);
    memcpy(big, head, strlen(head));
    memcpy(big + n - 2, "\"}", 2);
    big[n] = '\0';
    assert_false(nm_check_agent_message(big, n, &rep, &final, id_text, sizeof(id_text)));
    assert_true(final);
    assert_string_equal(reply_code(rep), "FRAME_TOO_LARGE");
    assert_true(json_object_object_get_ex(rep, "id", &id));
    assert_int_equal(json_object_get_int(id), 9);
    json_object_put(rep);
    /* exactly 1 MiB passes */
    big[n - 3] = '"';
    big[n - 2] = '}';
    assert_true(nm_check_agent_message(big, n - 1, &rep, &final, id_text, sizeof(id_text)));
    free(big);
}

/* Only the documented commands and fields of page commands leave for the agent. */
static void test_only_documented_fields(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *code;
        const char *field;
    } cases[] = {
        { "{\"id\":1,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{\"data\":null}}",
          "BAD_REQUEST", "args.data" },
        { "{\"id\":2,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{\"x\":1}}",
          "BAD_REQUEST", "args.x" },
        { "{\"id\":3,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{\"batch\":[]}}",
          "BAD_REQUEST", "args.batch" },
        { "{\"id\":4,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{\"detached\":"
          "\"false\"}}",
          "BAD_REQUEST", "args.detached" },
        { "{\"id\":5,\"cmd\":\"cancel\",\"origin\":\"https://a.ru\",\"args\":{\"request\":"
          "null}}",
          "BAD_REQUEST", "args.request" },
        { "{\"id\":6,\"cmd\":\"format-token\",\"origin\":\"https://a.ru\"}", "UNKNOWN_COMMAND",
          "format-token" },
        /* PIN care is for the user at the terminal: a page never reaches it */
        { "{\"id\":11,\"cmd\":\"change_pin\",\"origin\":\"https://a.ru\"}", "UNKNOWN_COMMAND",
          "change_pin" },
        { "{\"id\":12,\"cmd\":\"unblock_pin\",\"origin\":\"https://a.ru\",\"args\":{"
          "\"token\":\"x\"}}",
          "UNKNOWN_COMMAND", "unblock_pin" },
        /* the agent's local-only commands: its recent errors and PIN pauses are not a page's */
        { "{\"id\":13,\"cmd\":\"status\",\"origin\":\"https://a.ru\"}", "UNKNOWN_COMMAND",
          "status" },
        { "{\"id\":14,\"cmd\":\"shutdown\",\"origin\":\"https://a.ru\"}", "UNKNOWN_COMMAND",
          "shutdown" },
        { "{\"id\":8,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{\"ttyname\":"
          "\"/dev/pts/1\"}}",
          "BAD_REQUEST", "args.ttyname" },
        { "{\"id\":9,\"cmd\":\"authenticate\",\"origin\":\"https://a.ru\",\"args\":{"
          "\"display\":\":1\"}}",
          "BAD_REQUEST", "args.display" },
        { "{\"id\":123456789012345678901234567890,\"cmd\":\"hello\",\"origin\":\"https://a.ru\"}",
          "BAD_REQUEST", "id" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *out = NULL;
        char id_text[NM_ID_TEXT_MAX];
        assert_int_equal(decide(cases[i].body, &out, id_text), NM_REPLY);
        assert_string_equal(reply_code(out), cases[i].code);
        json_object *err = NULL, *detail = NULL;
        assert_true(json_object_object_get_ex(out, "error", &err) &&
                    json_object_object_get_ex(err, "detail", &detail));
        assert_non_null(strstr(json_object_get_string(detail), cases[i].field));
        json_object_put(out);
    }
    json_object *out = NULL;
    char id_text[NM_ID_TEXT_MAX];
    assert_int_equal(decide("{\"id\":7,\"cmd\":\"sign\",\"origin\":\"https://a.ru\",\"args\":{"
                            "\"data\":\"aGk=\",\"detached\":false,\"document\":\"a.txt\"}}",
                            &out, id_text),
                     NM_FORWARD);
    json_object_put(out);
    /* the host adds the browser's display, so the PIN dialog opens on the page's desktop */
    setenv("DISPLAY", ":5", 1);
    assert_int_equal(decide("{\"id\":10,\"cmd\":\"authenticate\",\"origin\":\"https://a.ru\","
                            "\"args\":{\"challenge\":\"abcdefgh\"}}",
                            &out, id_text),
                     NM_FORWARD);
    json_object *args = NULL, *display = NULL;
    assert_true(json_object_object_get_ex(out, "args", &args) &&
                json_object_object_get_ex(args, "display", &display));
    assert_string_equal(json_object_get_string(display), ":5");
    json_object_put(out);
    unsetenv("DISPLAY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_from_args), cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_origin_validate),  cmocka_unit_test(test_forward_rebuilds_request),
        cmocka_unit_test(test_envelope_errors),  cmocka_unit_test(test_stream_faults),
        cmocka_unit_test(test_agent_messages),
        cmocka_unit_test(test_only_documented_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
