/* The ring of the agent's recent errors (see recent_errors.h). Calls only gost/. */
#include "recent_errors.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Longest command and origin kept: a page cannot fill the ring with long texts. */
#define RECENT_CMD_MAX    64
#define RECENT_ORIGIN_MAX 128

typedef struct {
    gs_code code;
    time_t when;
    char cmd[RECENT_CMD_MAX + 1];
    char origin[RECENT_ORIGIN_MAX + 1];
} recent_error;

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static recent_error ring[RECENT_ERRORS_MAX];
static size_t ring_next, ring_count;

/* Copies at most cap-1 printable ASCII characters: the bundle stays plain text. */
static void copy_printable(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (; in && *in && n + 1 < cap; in++)
        out[n++] = (*in >= ' ' && *in <= '~') ? *in : '?';
    out[n] = '\0';
}

void recent_errors_add(gs_code code, const char *cmd, const char *origin, time_t when)
{
    pthread_mutex_lock(&ring_lock);
    recent_error *e = &ring[ring_next];
    e->code = code;
    e->when = when;
    copy_printable(e->cmd, sizeof(e->cmd), cmd);
    copy_printable(e->origin, sizeof(e->origin), origin);
    ring_next = (ring_next + 1) % RECENT_ERRORS_MAX;
    if (ring_count < RECENT_ERRORS_MAX)
        ring_count++;
    pthread_mutex_unlock(&ring_lock);
}

/* One entry as JSON, its time in UTC ISO 8601 as the audit log writes it. */
static json_object *entry_json(const recent_error *e)
{
    json_object *o = json_object_new_object();
    char stamp[32];
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&e->when, &tm));
    const gs_error_info *info = gs_error_lookup(e->code);
    json_object_object_add(o, "time", json_object_new_string(stamp));
    json_object_object_add(o, "code", json_object_new_string(info->name));
    json_object_object_add(o, "number", json_object_new_int((int)info->code));
    json_object_object_add(o, "cmd", e->cmd[0] ? json_object_new_string(e->cmd) : NULL);
    json_object_object_add(o, "origin", e->origin[0] ? json_object_new_string(e->origin) : NULL);
    return o;
}

json_object *recent_errors_json(void)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&ring_lock);
    size_t first = (ring_next + RECENT_ERRORS_MAX - ring_count) % RECENT_ERRORS_MAX;
    for (size_t i = 0; i < ring_count; i++)
        json_object_array_add(arr, entry_json(&ring[(first + i) % RECENT_ERRORS_MAX]));
    pthread_mutex_unlock(&ring_lock);
    return arr;
}

/* A string member of an entry, or NULL. */
static const char *entry_string(json_object *entry, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(entry, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* The entry's time as entry_json() wrote it; -1 when it is not of that form. */
static time_t entry_time(const char *stamp)
{
    struct tm tm = { 0 };
    const char *end = stamp ? strptime(stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    return end && *end == '\0' ? timegm(&tm) : (time_t)-1;
}

void recent_errors_restore(json_object *entries)
{
    size_t n =
        json_object_is_type(entries, json_type_array) ? json_object_array_length(entries) : 0;
    for (size_t i = 0; i < n && i < RECENT_ERRORS_MAX; i++) {
        json_object *entry = json_object_array_get_idx(entries, i);
        const char *name = entry_string(entry, "code");
        const gs_error_info *info = name ? gs_error_by_name(name) : NULL;
        time_t when = entry_time(entry_string(entry, "time"));
        if (info && when != (time_t)-1)
            recent_errors_add(info->code, entry_string(entry, "cmd"), entry_string(entry, "origin"),
                              when);
    }
}
