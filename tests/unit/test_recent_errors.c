/*
 * The agent's recent errors across an idle shrink (agent/recent_errors.c, agent/idle_shrink.c):
 * the ring written as JSON, handed on in a memory file and read back by the next agent image,
 * gives the same entries; a state that is not what an agent wrote (wrong types, unknown codes,
 * bad times, garbage, an oversized file) leaves out what it cannot read and never crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "idle_shrink.h"
#include "recent_errors.h"

/* A memory file holding text, positioned at its start, as the listener hands it on. */
static int memory_file(const char *text, size_t len)
{
    int fd = memfd_create("test-state", 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* The ring's entries as one JSON text, to compare two rings. */
static char *ring_text(void)
{
    json_object *ring = recent_errors_json();
    char *text = strdup(json_object_to_json_string_ext(ring, JSON_C_TO_STRING_PLAIN));
    json_object_put(ring);
    return text;
}

/* Runs first: the ring of this process starts empty, and what goes in comes back. */
static void test_round_trip(void **state)
{
    (void)state;
    recent_errors_add(GS_ERR_UNKNOWN_COMMAND, "no_such", "https://lk.example.ru", 1764547200);
    recent_errors_add(GS_ERR_PIN_INCORRECT, "sign", NULL, 1764547260);
    char *before = ring_text();
    json_object *wrapper = json_object_new_object();
    json_object_object_add(wrapper, "recent_errors", recent_errors_json());
    const char *text = json_object_to_json_string(wrapper);
    json_object *back = idle_shrink_take_state(memory_file(text, strlen(text)));
    json_object_put(wrapper);
    assert_non_null(back);
    json_object *entries;
    assert_true(json_object_object_get_ex(back, "recent_errors", &entries));
    recent_errors_restore(entries); /* the ring now holds both twice, in order */
    json_object_put(back);
    json_object *ring = recent_errors_json();
    assert_int_equal(json_object_array_length(ring), 4);
    json_object *third = json_object_array_get_idx(ring, 2), *v;
    assert_true(json_object_object_get_ex(third, "code", &v));
    assert_string_equal(json_object_get_string(v), "UNKNOWN_COMMAND");
    assert_true(json_object_object_get_ex(third, "time", &v));
    assert_string_equal(json_object_get_string(v), "2025-12-01T00:00:00Z");
    assert_true(json_object_object_get_ex(third, "origin", &v));
    assert_string_equal(json_object_get_string(v), "https://lk.example.ru");
    json_object *fourth = json_object_array_get_idx(ring, 3);
    assert_true(json_object_object_get_ex(fourth, "origin", &v));
    assert_null(v);
    json_object_put(ring);
    char *after = ring_text();
    assert_non_null(strstr(after, before + 1)); /* the old entries are still there */
    free(after);
    free(before);
}

/* Entries an agent would never write are left out; the good one among them is kept. */
static void test_bad_entries_left_out(void **state)
{
    (void)state;
    json_object *earlier = recent_errors_json();
    size_t had = json_object_array_length(earlier);
    json_object_put(earlier);
    json_object *bad = json_tokener_parse(
        "[{\"code\":\"NO_SUCH_CODE\",\"time\":\"2025-12-01T00:00:00Z\"},"
        "{\"code\":\"BAD_JSON\",\"time\":\"yesterday\"},"
        "{\"code\":42,\"time\":\"2025-12-01T00:00:00Z\"},"
        "{\"code\":\"BAD_JSON\"},"
        "null, 7, \"text\","
        "{\"code\":\"BAD_JSON\",\"time\":\"2025-12-01T00:00:00Z\",\"cmd\":[1],\"origin\":{}},"
        "{\"code\":\"BAD_JSON\",\"time\":\"2025-12-01T00:00:00Zjunk\"}]");
    assert_non_null(bad);
    recent_errors_restore(bad);
    recent_errors_restore(NULL);
    json_object *not_array = json_object_new_string("x");
    recent_errors_restore(not_array);
    json_object_put(not_array);
    json_object_put(bad);
    json_object *ring = recent_errors_json();
    assert_int_equal(json_object_array_length(ring), had + 1);
    json_object_put(ring);
}

/* A state file that is not one JSON object gives NULL: the agent starts with an empty ring. */
static void test_garbage_state(void **state)
{
    (void)state;
    const char *texts[] = { "", "not json", "[1,2]", "\"x\"", "{\"recent_errors\":", "null" };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_null(idle_shrink_take_state(memory_file(texts[i], strlen(texts[i]))));
    size_t big = 300 * 1024; /* over the reader's limit: cut, so not valid JSON */
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    assert_null(idle_shrink_take_state(memory_file(huge, big)));
    free(huge);
    assert_null(idle_shrink_take_state(-1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_entries_left_out),
        cmocka_unit_test(test_garbage_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
