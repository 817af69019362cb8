/*
 * Native-messaging framing: a 32-bit native-endian length, then a UTF-8 JSON object. The length
 * is checked against the caller's limit before anything is allocated for it, reads and writes
 * survive EINTR and partial transfers, and bodies pass a strict UTF-8 check plus json-c's strict
 * tokener (with a small gate for the few non-RFC 8259 forms json-c's strict mode still accepts).
 */
#include "frame.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* read() with EINTR retried, for gs_frame_source_fd. */
static ssize_t fd_read(gs_frame_source *src, void *buf, size_t n)
{
    for (;;) {
        ssize_t got = read(src->fd, buf, n);
        if (got >= 0 || errno != EINTR)
            return got;
    }
}

/* Hands out the remaining bytes of a memory buffer, for fuzzing and tests. */
static ssize_t mem_read(gs_frame_source *src, void *buf, size_t n)
{
    size_t left = src->mem_len - src->mem_pos;
    if (n > left)
        n = left;
    if (n)
        memcpy(buf, src->mem + src->mem_pos, n);
    src->mem_pos += n;
    return (ssize_t)n;
}

/* Wraps an fd as a frame source. */
gs_frame_source gs_frame_source_fd(int fd)
{
    gs_frame_source src = { .read = fd_read, .fd = fd };
    return src;
}

/* Wraps a memory buffer as a frame source. */
gs_frame_source gs_frame_source_mem(const uint8_t *data, size_t len)
{
    gs_frame_source src = { .read = mem_read, .fd = -1, .mem = data, .mem_len = len };
    return src;
}

/* Fills buf completely unless the stream ends; returns the bytes read, or -1 on error. */
static ssize_t read_full(gs_frame_source *src, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = src->read(src, (char *)buf + done, n - done);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

/* Reads the 4-byte header; *closed is set when the stream ended cleanly before it. */
static gs_code read_header(gs_frame_source *src, uint32_t *length, bool *closed, gs_status *st)
{
    unsigned char hdr[sizeof(uint32_t)];
    ssize_t got = read_full(src, hdr, sizeof(hdr));
    *closed = false;
    if (got < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "reading frame header: %s", strerror(errno));
    if (got == 0) {
        *closed = true;
        return GS_ERR_OK;
    }
    if ((size_t)got < sizeof(hdr))
        return gs_fail(st, GS_ERR_BAD_FRAME, "truncated frame header (%zd of 4 bytes)", got);
    memcpy(length, hdr, sizeof(*length)); /* native byte order, as browsers write it */
    return GS_ERR_OK;
}

/* Header, limit check, then exactly `length` bytes of body. */
gs_code gs_frame_read_raw(gs_frame_source *src, size_t limit, char **body, size_t *len,
                          gs_status *st)
{
    *body = NULL;
    *len = 0;
    uint32_t length = 0;
    bool closed = false;
    gs_code rc = read_header(src, &length, &closed, st);
    if (rc != GS_ERR_OK || closed)
        return rc;
    if (length == 0)
        return gs_fail(st, GS_ERR_BAD_FRAME, "frame length is 0");
    if (length > limit)
        return gs_fail(st, GS_ERR_FRAME_TOO_LARGE, "frame of %u bytes exceeds the limit of %zu",
                       length, limit);
    char *buf = malloc((size_t)length + 1);
    if (!buf)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "frame of %u bytes", length);
    ssize_t got = read_full(src, buf, length);
    if (got != (ssize_t)length) {
        int err = errno;
        free(buf);
        if (got < 0)
            return gs_fail(st, GS_ERR_IO_ERROR, "reading frame body: %s", strerror(err));
        return gs_fail(st, GS_ERR_BAD_FRAME, "truncated frame body (%zd of %u bytes)", got, length);
    }
    buf[length] = '\0';
    *body = buf;
    *len = length;
    return GS_ERR_OK;
}

/* Strict RFC 3629 decoding of one character; 0 for anything malformed. */
size_t gs_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    uint8_t b = s[0];
    size_t need;
    uint32_t min, c;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        need = 2, min = 0x80, c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3, min = 0x800, c = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4, min = 0x10000, c = b & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return need;
}

/* json-c validates UTF-8 only loosely (overlongs and surrogates pass), hence our own check. */
bool gs_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        size_t step = gs_utf8_next(s + i, n - i, &cp);
        if (step == 0)
            return false;
        i += step;
    }
    return true;
}

/*
 * json-c's strict mode still accepts single-quoted names, NaN/Infinity, "1." and raw control
 * characters inside strings. This lexical pass rejects exactly those, outside or inside strings.
 */
static bool strict_json_gate(const char *s, size_t n)
{
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_string) {
            if (c < 0x20)
                return false;
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '\'' || c == 'N' || c == 'I')
            return false;
        else if (c == '.' && (i + 1 >= n || s[i + 1] < '0' || s[i + 1] > '9'))
            return false;
    }
    return true;
}

/* UTF-8, lexical gate, strict tokener over the whole body, and the object check. */
gs_code gs_frame_parse(const char *body, size_t len, json_object **out, gs_status *st)
{
    *out = NULL;
    if (!gs_utf8_valid((const uint8_t *)body, len))
        return gs_fail(st, GS_ERR_BAD_JSON, "message is not valid UTF-8");
    if (len > INT_MAX || !strict_json_gate(body, len))
        return gs_fail(st, GS_ERR_BAD_JSON, "message is not strict JSON");
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "json tokener");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!obj || jerr != json_tokener_success || end != len) {
        json_object_put(obj);
        return gs_fail(st, GS_ERR_BAD_JSON, "message is not JSON: %s",
                       jerr == json_tokener_success ? "trailing bytes"
                                                    : json_tokener_error_desc(jerr));
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return gs_fail(st, GS_ERR_BAD_JSON, "message is JSON but not an object");
    }
    *out = obj;
    return GS_ERR_OK;
}

/* The usual path for both hops: one frame in, one object out. */
gs_code gs_frame_read(gs_frame_source *src, size_t limit, json_object **out, gs_status *st)
{
    char *body = NULL;
    size_t len = 0;
    *out = NULL;
    gs_code rc = gs_frame_read_raw(src, limit, &body, &len, st);
    if (rc != GS_ERR_OK || !body)
        return rc;
    rc = gs_frame_parse(body, len, out, st);
    free(body);
    return rc;
}

/* Saves callers from building a source for the common fd case. */
gs_code gs_frame_read_fd(int fd, size_t limit, json_object **out, gs_status *st)
{
    gs_frame_source src = gs_frame_source_fd(fd);
    return gs_frame_read(&src, limit, out, st);
}

/* write() until everything is out, retrying EINTR and partial writes. */
static bool write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(fd, (const char *)buf + done, n - done);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return false;
        done += (size_t)put;
    }
    return true;
}

/* Checks the size first so an oversized reply never reaches the browser, even in part. */
gs_code gs_frame_write_raw(int fd, const char *body, size_t len, size_t limit, gs_status *st)
{
    if (len == 0)
        return gs_fail(st, GS_ERR_BAD_FRAME, "refusing to write an empty frame");
    if (len > limit || len > UINT32_MAX)
        return gs_fail(st, GS_ERR_FRAME_TOO_LARGE, "reply of %zu bytes exceeds the limit of %zu",
                       len, limit);
    uint32_t length = (uint32_t)len;
    unsigned char hdr[sizeof(length)];
    memcpy(hdr, &length, sizeof(length));
    if (!write_full(fd, hdr, sizeof(hdr)) || !write_full(fd, body, len))
        return gs_fail(st, GS_ERR_IO_ERROR, "writing frame: %s", strerror(errno));
    return GS_ERR_OK;
}

/* Compact serialisation without "\/" escapes, then one frame. */
gs_code gs_frame_write(int fd, json_object *obj, size_t limit, gs_status *st)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!text)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "serialising reply");
    return gs_frame_write_raw(fd, text, len, limit, st);
}

/* Starts every reply shape with the request's id (a new reference, or null). */
static json_object *reply_with_id(json_object *id)
{
    json_object *reply = json_object_new_object();
    if (reply)
        json_object_object_add(reply, "id", id ? json_object_get(id) : NULL);
    return reply;
}

/* Success reply. */
json_object *gs_reply_result(json_object *id, json_object *result)
{
    json_object *reply = reply_with_id(id);
    if (!reply) {
        json_object_put(result);
        return NULL;
    }
    json_object_object_add(reply, "ok", json_object_new_boolean(1));
    json_object_object_add(reply, "result", result);
    return reply;
}

/* Error reply whose texts all come from the one error table. */
json_object *gs_reply_error(json_object *id, gs_code code, const char *detail)
{
    const gs_error_info *info = gs_error_lookup(code);
    json_object *reply = reply_with_id(id);
    json_object *err = json_object_new_object();
    if (!reply || !err) {
        json_object_put(reply);
        json_object_put(err);
        return NULL;
    }
    json_object_object_add(err, "code", json_object_new_string(info->name));
    json_object_object_add(err, "number", json_object_new_int((int)info->code));
    json_object_object_add(err, "message", json_object_new_string(info->message_en));
    json_object_object_add(err, "message_ru", json_object_new_string(info->message_ru));
    json_object_object_add(err, "fix", json_object_new_string(info->fix));
    json_object_object_add(err, "fix_ru", json_object_new_string(info->fix_ru));
    if (detail && *detail)
        json_object_object_add(err, "detail", json_object_new_string(detail));
    json_object_object_add(reply, "ok", json_object_new_boolean(0));
    json_object_object_add(reply, "error", err);
    return reply;
}

/* A word of a message that names something local: a path, a socket, a variable, a command. */
static bool is_local_word(const char *w, size_t n)
{
    if (n == 0)
        return false;
    if (w[0] == '/' || w[0] == '~' || w[0] == '$' || w[0] == '`' || memchr(w, '`', n))
        return true;
    if (n >= 2 && w[0] == '.' && (w[1] == '/' || w[1] == '.'))
        return true;
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(w + i, ".sock", 5) == 0)
            return true;
    return (w[0] == '(' || w[0] == '"' || w[0] == '\'') && n > 1 && is_local_word(w + 1, n - 1);
}

/* Whether a text names anything local (see is_local_word). */
static bool names_local(const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " \t\n,;");
        if (is_local_word(p, n))
            return true;
        p += n + (p[n] != '\0');
    }
    return false;
}

/* The text with each local word (a backtick span counts as one) replaced by "…". */
static char *scrub_text(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len * 3 + 4), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        size_t gap = strspn(p, " \t\n,;");
        memcpy(o, p, gap);
        o += gap;
        p += gap;
        const char *tick = *p == '`' ? strchr(p + 1, '`') : NULL;
        size_t n = tick ? (size_t)(tick - p) + 1 : strcspn(p, " \t\n,;");
        if (is_local_word(p, n)) {
            memcpy(o, "…", strlen("…"));
            o += strlen("…");
        } else {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

void gs_reply_for_page(json_object *reply)
{
    json_object *err, *v;
    if (!reply || !json_object_object_get_ex(reply, "error", &err) ||
        !json_object_is_type(err, json_type_object))
        return;
    if (json_object_object_get_ex(err, "detail", &v) && names_local(json_object_get_string(v))) {
        char *clean = scrub_text(json_object_get_string(v));
        json_object_object_add(err, "detail", clean ? json_object_new_string(clean) : NULL);
        free(clean);
    }
    static const struct {
        const char *key, *general;
    } fixes[] = {
        { "fix", "The user of this computer sees the cause and the fix in the gostsign program "
                 "(its check \"doctor\"), or can ask the administrator." },
        { "fix_ru", "Причину и способ исправления пользователь этого компьютера увидит в "
                    "программе gostsign (проверка «doctor») или узнает у администратора." },
    };
    for (size_t i = 0; i < sizeof(fixes) / sizeof(fixes[0]); i++)
        if (json_object_object_get_ex(err, fixes[i].key, &v) &&
            names_local(json_object_get_string(v)))
            json_object_object_add(err, fixes[i].key, json_object_new_string(fixes[i].general));
}

/* Progress event while the agent waits (for the PIN, the token...). */
json_object *gs_reply_event(json_object *id, const char *event, json_object *data)
{
    json_object *reply = reply_with_id(id);
    if (!reply) {
        json_object_put(data);
        return NULL;
    }
    json_object_object_add(reply, "event", json_object_new_string(event ? event : ""));
    if (data)
        json_object_object_add(reply, "data", data);
    return reply;
}
