/*
 * Native-messaging framing over real pipes and socketpairs: round trips, every kind of bad frame,
 * the reply-size limit, and reply shapes whose texts come from the error table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"

/* A connected pair: [0] reads, [1] writes. */
static void make_pair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

/* Writes a length header (native order), then `body_len` bytes of body. */
static void send_raw(int fd, uint32_t claimed, const void *body, size_t body_len)
{
    assert_int_equal(write(fd, &claimed, 4), 4);
    if (body_len)
        assert_int_equal(write(fd, body, body_len), (ssize_t)body_len);
}

/* Reads one frame from fd and returns the code. */
static gs_code read_code(int fd, size_t limit)
{
    json_object *obj = NULL;
    gs_status st;
    gs_code rc = gs_frame_read_fd(fd, limit, &obj, &st);
    json_object_put(obj);
    return rc;
}

/* Sends a body with a correct header and returns what reading it gives. */
static gs_code code_for_body(const char *body, size_t len)
{
    int fds[2];
    make_pair(fds);
    send_raw(fds[1], (uint32_t)len, body, len);
    close(fds[1]);
    gs_code rc = read_code(fds[0], GS_FRAME_MAX_FROM_BROWSER);
    close(fds[0]);
    return rc;
}

/* Two frames out and back, then a clean close at the boundary is "closed", not an error. */
static void test_round_trip(void **state)
{
    (void)state;
    int fds[2];
    make_pair(fds);
    json_object *req =
        json_tokener_parse("{\"id\":7,\"cmd\":\"hello\",\"origin\":\"https://a.ru/x\","
                           "\"args\":{\"s\":\"Привет\"}}");
    gs_status st;
    assert_int_equal(gs_frame_write(fds[1], req, GS_FRAME_MAX_TO_BROWSER, &st), GS_ERR_OK);
    assert_int_equal(gs_frame_write(fds[1], req, GS_FRAME_MAX_TO_BROWSER, &st), GS_ERR_OK);
    close(fds[1]);
    for (int i = 0; i < 2; i++) {
        json_object *got = NULL;
        assert_int_equal(gs_frame_read_fd(fds[0], 1024, &got, &st), GS_ERR_OK);
        assert_non_null(got);
        assert_true(json_object_equal(req, got));
        json_object_put(got);
    }
    json_object *got = (json_object *)1;
    assert_int_equal(gs_frame_read_fd(fds[0], 1024, &got, &st), GS_ERR_OK);
    assert_null(got);
    close(fds[0]);
    json_object_put(req);
}

/* The header really is 32-bit native-endian, as browsers write it. */
static void test_header_layout(void **state)
{
    (void)state;
    int fds[2];
    make_pair(fds);
    gs_status st;
    assert_int_equal(gs_frame_write_raw(fds[1], "{}", 2, 10, &st), GS_ERR_OK);
    unsigned char buf[6];
    assert_int_equal(read(fds[0], buf, 6), 6);
    uint32_t len;
    memcpy(&len, buf, 4);
    assert_int_equal(len, 2);
    assert_memory_equal(buf + 4, "{}", 2);
    close(fds[0]);
    close(fds[1]);
}

/* Truncated headers and bodies are BAD_FRAME; zero length is BAD_FRAME. */
static void test_truncated_and_zero(void **state)
{
    (void)state;
    int fds[2];
    make_pair(fds);
    assert_int_equal(write(fds[1], "\x05\x00", 2), 2);
    close(fds[1]);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_BAD_FRAME);
    close(fds[0]);

    make_pair(fds);
    send_raw(fds[1], 10, "{\"a\":", 5);
    close(fds[1]);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_BAD_FRAME);
    close(fds[0]);

    make_pair(fds);
    send_raw(fds[1], 0, NULL, 0);
    close(fds[1]);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_BAD_FRAME);
    close(fds[0]);
}

/* A claimed length above the limit is refused before reading (or allocating) the body. */
static void test_oversized(void **state)
{
    (void)state;
    int fds[2];
    make_pair(fds);
    send_raw(fds[1], 0xFFFFFFFFu, "{}", 2);
    assert_int_equal(read_code(fds[0], GS_FRAME_MAX_FROM_BROWSER), GS_ERR_FRAME_TOO_LARGE);
    close(fds[1]);
    close(fds[0]);
    make_pair(fds);
    send_raw(fds[1], 101, NULL, 0);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_FRAME_TOO_LARGE);
    close(fds[1]);
    close(fds[0]);
}

/* Invalid UTF-8 (stray bytes, overlongs, surrogates) is BAD_JSON. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    const char *bodies[] = { "{\"a\":\"\xFF\"}", "{\"a\":\"\xC0\x80\"}", "{\"a\":\"\xED\xA0\x80\"}",
                             "{\"a\":\"\xF4\x90\x80\x80\"}", "{\"a\":\"\xD0\"}" };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_int_equal(code_for_body(bodies[i], strlen(bodies[i])), GS_ERR_BAD_JSON);
    const char ok[] = "{\"a\":\"ПИН \xF0\x9F\x94\x91\"}";
    assert_int_equal(code_for_body(ok, strlen(ok)), GS_ERR_OK);
}

/* Not JSON, not strict JSON, trailing bytes, NUL bytes: BAD_JSON. */
static void test_bad_json(void **state)
{
    (void)state;
    const char *bodies[] = { "hello",      "{\"a\":1",         "{'a':1}",     "{\"a\":NaN}",
                             "{\"a\":1.}", "{\"a\":\"x\ny\"}", "{\"a\":1} x", "{\"a\":1}{}",
                             "{a:1}",      "{\"a\":/*c*/1}" };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_int_equal(code_for_body(bodies[i], strlen(bodies[i])), GS_ERR_BAD_JSON);
    assert_int_equal(code_for_body("{\"a\":1}\0", 8), GS_ERR_BAD_JSON);
    const char fine[] = " {\"a\":1.5e3, \"b\":\"it's \\\"N\\\" I.\"} ";
    assert_int_equal(code_for_body(fine, strlen(fine)), GS_ERR_OK);
}

/* An array or a scalar is JSON but not a message: BAD_JSON; the stream stays in step after it. */
static void test_not_an_object(void **state)
{
    (void)state;
    assert_int_equal(code_for_body("[1,2]", 5), GS_ERR_BAD_JSON);
    assert_int_equal(code_for_body("\"x\"", 3), GS_ERR_BAD_JSON);
    assert_int_equal(code_for_body("42", 2), GS_ERR_BAD_JSON);
    int fds[2];
    make_pair(fds);
    send_raw(fds[1], 3, "[1]", 3);
    send_raw(fds[1], 8, "{\"id\":1}", 8);
    close(fds[1]);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_BAD_JSON);
    assert_int_equal(read_code(fds[0], 100), GS_ERR_OK);
    close(fds[0]);
}

/* The writer refuses replies above the limit (1 MiB to the browser) and writes nothing. */
static void test_writer_limit(void **state)
{
    (void)state;
    int fds[2];
    make_pair(fds);
    json_object *big = json_object_new_object();
    size_t n = GS_FRAME_MAX_TO_BROWSER;
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    json_object_object_add(big, "result", json_object_new_string(s));
    free(s);
    gs_status st;
    assert_int_equal(gs_frame_write(fds[1], big, GS_FRAME_MAX_TO_BROWSER, &st),
                     GS_ERR_FRAME_TOO_LARGE);
    json_object_put(big);
    assert_int_equal(gs_frame_write_raw(fds[1], "", 0, 10, &st), GS_ERR_BAD_FRAME);
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 0); /* nothing was written */
    close(fds[0]);
}

/* Writer side of the large transfer test: runs in a thread so the pipe buffer can drain. */
static void *write_big(void *arg)
{
    int fd = *(int *)arg;
    size_t n = 3 * 1024 * 1024;
    char *body = malloc(n);
    memset(body, ' ', n);
    body[0] = '{';
    memcpy(body + n - 8, "\"k\":1 }", 7);
    body[n - 1] = ' ';
    gs_status st;
    gs_code rc = gs_frame_write_raw(fd, body, n, GS_FRAME_MAX_FROM_BROWSER, &st);
    free(body);
    close(fd);
    return (void *)(intptr_t)rc;
}

/* A 3 MiB frame through a 64 KiB pipe exercises partial reads and writes. */
static void test_partial_io(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_big, &fds[1]), 0);
    json_object *obj = NULL;
    gs_status st;
    assert_int_equal(gs_frame_read_fd(fds[0], GS_FRAME_MAX_FROM_BROWSER, &obj, &st), GS_ERR_OK);
    void *ret;
    pthread_join(t, &ret);
    assert_int_equal((intptr_t)ret, GS_ERR_OK);
    assert_int_equal(json_object_get_int(json_object_object_get(obj, "k")), 1);
    json_object_put(obj);
    close(fds[0]);
}

/* A memory source gives the same verdicts, for the fuzzer. */
static void test_memory_source(void **state)
{
    (void)state;
    uint8_t buf[4 + 8];
    uint32_t len = 8;
    memcpy(buf, &len, 4);
    memcpy(buf + 4, "{\"id\":1}", 8);
    gs_frame_source src = gs_frame_source_mem(buf, sizeof(buf));
    json_object *obj = NULL;
    gs_status st;
    assert_int_equal(gs_frame_read(&src, 100, &obj, &st), GS_ERR_OK);
    json_object_put(obj);
    assert_int_equal(gs_frame_read(&src, 100, &obj, &st), GS_ERR_OK);
    assert_null(obj);
    src = gs_frame_source_mem(buf, sizeof(buf) - 1);
    assert_int_equal(gs_frame_read(&src, 100, &obj, &st), GS_ERR_BAD_FRAME);
}

/* Error replies carry code, number and texts straight from the table. */
static void test_error_reply(void **state)
{
    (void)state;
    json_object *id = json_object_new_string("req-1");
    json_object *reply = gs_reply_error(id, GS_ERR_PIN_INCORRECT, NULL);
    const gs_error_info *info = gs_error_lookup(GS_ERR_PIN_INCORRECT);
    json_object *err = json_object_object_get(reply, "error");
    assert_string_equal(json_object_get_string(json_object_object_get(reply, "id")), "req-1");
    assert_false(json_object_get_boolean(json_object_object_get(reply, "ok")));
    assert_string_equal(json_object_get_string(json_object_object_get(err, "code")),
                        "PIN_INCORRECT");
    assert_int_equal(json_object_get_int(json_object_object_get(err, "number")), 43);
    assert_string_equal(json_object_get_string(json_object_object_get(err, "message")),
                        info->message_en);
    assert_string_equal(json_object_get_string(json_object_object_get(err, "message_ru")),
                        info->message_ru);
    assert_string_equal(json_object_get_string(json_object_object_get(err, "fix")), info->fix);
    assert_null(json_object_object_get(err, "detail"));
    json_object_put(reply);
    /* every table entry produces a reply that survives the frame round trip */
    size_t count = 0;
    const gs_error_info *table = gs_error_table(&count);
    for (size_t i = 0; i < count; i++) {
        int fds[2];
        make_pair(fds);
        gs_status st;
        reply = gs_reply_error(id, table[i].code, "detail text");
        assert_int_equal(gs_frame_write(fds[1], reply, GS_FRAME_MAX_TO_BROWSER, &st), GS_ERR_OK);
        json_object *back = NULL;
        assert_int_equal(gs_frame_read_fd(fds[0], GS_FRAME_MAX_FROM_BROWSER, &back, &st),
                         GS_ERR_OK);
        err = json_object_object_get(back, "error");
        assert_string_equal(json_object_get_string(json_object_object_get(err, "code")),
                            table[i].name);
        assert_string_equal(json_object_get_string(json_object_object_get(err, "detail")),
                            "detail text");
        json_object_put(back);
        json_object_put(reply);
        close(fds[0]);
        close(fds[1]);
    }
    json_object_put(id);
}

/* Result and event shapes. */
static void test_result_and_event(void **state)
{
    (void)state;
    json_object *id = json_object_new_int(5);
    json_object *reply = gs_reply_result(id, json_object_new_string("done"));
    assert_string_equal(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN),
                        "{\"id\":5,\"ok\":true,\"result\":\"done\"}");
    json_object_put(reply);
    reply = gs_reply_event(id, "waiting_for_pin", NULL);
    assert_string_equal(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN),
                        "{\"id\":5,\"event\":\"waiting_for_pin\"}");
    json_object_put(reply);
    reply = gs_reply_result(NULL, NULL);
    assert_string_equal(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN),
                        "{\"id\":null,\"ok\":true,\"result\":null}");
    json_object_put(reply);
    json_object_put(id);
}

/* Empty handler: its only job is to interrupt a blocking read() with EINTR. */
static void on_sigusr1(int sig)
{
    (void)sig;
}

/* Reader side of the EINTR test: blocks in gs_frame_read_fd until the frame arrives. */
static void *read_one(void *arg)
{
    int fd = *(int *)arg;
    json_object *obj = NULL;
    gs_status st;
    gs_code rc = gs_frame_read_fd(fd, 100, &obj, &st);
    if (rc == GS_ERR_OK && !obj)
        rc = GS_ERR_INTERNAL; /* "closed" is wrong here */
    json_object_put(obj);
    return (void *)(intptr_t)rc;
}

/* A signal interrupting the blocked read (no SA_RESTART) must not lose or break the frame. */
static void test_eintr(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigusr1; /* no SA_RESTART: read() fails with EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    int fds[2];
    make_pair(fds);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_one, &fds[0]), 0);
    usleep(100 * 1000);
    pthread_kill(t, SIGUSR1);
    uint32_t len = 8;
    assert_int_equal(write(fds[1], &len, 2), 2); /* header in two pieces, interrupted between */
    usleep(100 * 1000);
    pthread_kill(t, SIGUSR1);
    usleep(50 * 1000);
    assert_int_equal(write(fds[1], (char *)&len + 2, 2), 2);
    assert_int_equal(write(fds[1], "{\"id\":1}", 8), 8);
    void *ret;
    pthread_join(t, &ret);
    assert_int_equal((intptr_t)ret, GS_ERR_OK);
    close(fds[0]);
    close(fds[1]);
}

/* Runs the framing tests; SIGPIPE is ignored as the agent and nmhost do. */
/* A page learns no local path, socket or shell command from an error; fix_ru is always there. */
static void test_error_for_page(void **state)
{
    (void)state;
    json_object *reply = gs_reply_error(
        NULL, GS_ERR_AGENT_UNAVAILABLE,
        "/run/user/1000/gostsign/agent.sock: No such file or directory (`gostsign agent status`)");
    json_object *err = json_object_object_get(reply, "error");
    assert_non_null(
        strstr(json_object_get_string(json_object_object_get(err, "fix")), "systemctl"));
    assert_non_null(json_object_object_get(err, "fix_ru"));
    gs_reply_for_page(reply);
    const char *detail = json_object_get_string(json_object_object_get(err, "detail"));
    const char *fix = json_object_get_string(json_object_object_get(err, "fix"));
    const char *fix_ru = json_object_get_string(json_object_object_get(err, "fix_ru"));
    assert_null(strstr(detail, "/run"));
    assert_null(strstr(detail, "agent.sock"));
    assert_null(strstr(detail, "`"));
    assert_non_null(strstr(detail, "No such file"));
    assert_null(strstr(fix, "systemctl"));
    assert_null(strstr(fix, "`"));
    assert_null(strstr(fix_ru, "`"));
    json_object_put(reply);
    /* a detail without anything local stays as it is */
    reply = gs_reply_error(NULL, GS_ERR_BAD_REQUEST, "args.x is not a field of this command");
    gs_reply_for_page(reply);
    err = json_object_object_get(reply, "error");
    assert_string_equal(json_object_get_string(json_object_object_get(err, "detail")),
                        "args.x is not a field of this command");
    json_object_put(reply);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_truncated_and_zero),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_writer_limit),
        cmocka_unit_test(test_partial_io),
        cmocka_unit_test(test_memory_source),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_result_and_event),
        cmocka_unit_test(test_eintr),
        cmocka_unit_test(test_error_for_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
