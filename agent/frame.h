/*
 * Native-messaging framing, shared by gostsign-nmhost and the agent: each message is a 32-bit
 * native-endian length followed by that many bytes of UTF-8 JSON (an object). Also the builders
 * of the protocol's reply shapes (DESIGN.md): results, errors from the error table, and events.
 */
#ifndef GOSTSIGN_FRAME_H
#define GOSTSIGN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "gost.h"

/* Browsers refuse native-messaging replies above 1 MiB. */
#define GS_FRAME_MAX_TO_BROWSER   (1024u * 1024u)
/* Our cap on messages from the browser (Chromium itself allows up to 64 MiB). */
#define GS_FRAME_MAX_FROM_BROWSER (4u * 1024u * 1024u)

/* Where frame bytes come from: read() on an fd, or memory (fuzzing, tests). */
typedef struct gs_frame_source gs_frame_source;
struct gs_frame_source {
    /* Reads up to n bytes; returns the count, 0 at end of stream, -1 with errno on error. */
    ssize_t (*read)(gs_frame_source *src, void *buf, size_t n);
    int fd;             /* for gs_frame_source_fd */
    const uint8_t *mem; /* for gs_frame_source_mem */
    size_t mem_len, mem_pos;
};

/* A source reading an fd (EINTR retried). */
gs_frame_source gs_frame_source_fd(int fd);
/* A source reading a memory buffer (returns short reads like a pipe would at its end). */
gs_frame_source gs_frame_source_mem(const uint8_t *data, size_t len);

/*
 * Reads one frame's raw body. OK with *body == NULL means the peer closed the stream at a frame
 * boundary (not an error). BAD_FRAME: truncated header or body, or length 0; FRAME_TOO_LARGE:
 * length above `limit` (nothing is allocated for it); IO_ERROR: read failed. After any error the
 * stream is out of step and must be closed. *body is NUL-terminated; free() it.
 */
gs_code gs_frame_read_raw(gs_frame_source *src, size_t limit, char **body, size_t *len,
                          gs_status *st);

/*
 * Parses a body as one strict RFC 8259 JSON object in valid UTF-8. BAD_JSON otherwise (invalid
 * UTF-8, not JSON, trailing bytes, or an array/scalar instead of an object).
 */
gs_code gs_frame_parse(const char *body, size_t len, json_object **out, gs_status *st);

/*
 * Reads and parses one frame: gs_frame_read_raw then gs_frame_parse. OK with *out == NULL means
 * closed. After BAD_JSON the stream is still in step (the whole body was consumed).
 */
gs_code gs_frame_read(gs_frame_source *src, size_t limit, json_object **out, gs_status *st);

/* Convenience over an fd. */
gs_code gs_frame_read_fd(int fd, size_t limit, json_object **out, gs_status *st);

/*
 * Writes one frame (header + body) completely, retrying partial writes and EINTR. Refuses bodies
 * above `limit` (or 0 bytes, or above UINT32_MAX) with FRAME_TOO_LARGE / BAD_FRAME, writing
 * nothing.
 */
gs_code gs_frame_write_raw(int fd, const char *body, size_t len, size_t limit, gs_status *st);

/* Serialises `obj` compactly and writes it as one frame (see gs_frame_write_raw). */
gs_code gs_frame_write(int fd, json_object *obj, size_t limit, gs_status *st);

/* Whether bytes are well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
bool gs_utf8_valid(const uint8_t *s, size_t n);

/*
 * Decodes one UTF-8 character at s (n bytes available): returns its length and sets *cp, or
 * returns 0 when the bytes there are not a well-formed character.
 */
size_t gs_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

/* {"id": id, "ok": true, "result": result}. id is borrowed (NULL: null), result is taken over. */
json_object *gs_reply_result(json_object *id, json_object *result);

/*
 * {"id": id, "ok": false, "error": {"code": NAME, "number": N, "message", "message_ru", "fix"}}
 * with every text from the error table (gs_error_lookup). detail, when not NULL, is added as
 * "detail" (callers pass only texts safe to show to the page; never a PIN).
 */
json_object *gs_reply_error(json_object *id, gs_code code, const char *detail);

/*
 * Makes an error reply fit for a web page (an origin other than local:): local paths, socket
 * names and shell commands leave `detail`, and a `fix` / `fix_ru` that names any is replaced by
 * a general one. The local `gostsign` command keeps the full texts. Other replies stay as they are.
 */
void gs_reply_for_page(json_object *reply);

/* {"id": id, "event": event} plus "data" when data is not NULL (taken over). */
json_object *gs_reply_event(json_object *id, const char *event, json_object *data);

#endif
