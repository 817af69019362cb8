/*
 * libFuzzer target for the native-messaging framing: the input is a byte stream as a browser
 * (or a hostile process) could write it; frames are read until the stream closes or fails, and
 * every parsed message is written back through a pipe and re-read, which must give it again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes a parsed message and reads it back; the frame code must agree with itself. */
static void round_trip(json_object *obj)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    gs_status st;
    /* small limit: the pipe must hold the whole frame without a reader thread */
    if (gs_frame_write(fds[1], obj, 60000, &st) == GS_ERR_OK) {
        json_object *back = NULL;
        if (gs_frame_read_fd(fds[0], 60000, &back, &st) != GS_ERR_OK || !back)
            abort();
        if (!json_object_equal(obj, back))
            abort();
        json_object_put(back);
    }
    close(fds[0]);
    close(fds[1]);
}

/*
 * The agent's request checks over a parsed frame: id, command and arguments against the
 * protocol table, as a web page's and as a local client's. An accepted id must fit its buffer
 * and contain no NUL; an accepted request must name a known command.
 */
static void check_request(json_object *obj)
{
    json_object *id = NULL, *cmd = NULL, *args = NULL;
    char text[PROTO_ID_MAX + 1];
    gs_status st;
    if (json_object_object_get_ex(obj, "id", &id) &&
        proto_check_id(id, "id", text, sizeof(text), &st) == GS_ERR_OK &&
        strlen(text) > PROTO_ID_MAX)
        abort();
    json_object_object_get_ex(obj, "cmd", &cmd);
    json_object_object_get_ex(obj, "args", &args);
    const proto_command *pc =
        proto_is_clean_string(cmd) ? proto_command_find(json_object_get_string(cmd)) : NULL;
    if (pc) {
        proto_check_fields(args, pc->fields, "args", true, &st);
        proto_check_fields(args, pc->fields, "args", false, &st);
    }
}

/* Reads up to 64 frames from the input as a stream, then parses the whole input as one body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_frame_source src = gs_frame_source_mem(data, size);
    gs_status st;
    for (int frames = 0; frames < 64; frames++) {
        json_object *obj = NULL;
        gs_code rc = gs_frame_read(&src, 1u << 20, &obj, &st);
        if (rc == GS_ERR_OK && !obj)
            break; /* closed at a frame boundary */
        if (rc == GS_ERR_BAD_JSON)
            continue; /* the body was consumed: the stream is still in step */
        if (rc != GS_ERR_OK)
            break;
        round_trip(obj);
        check_request(obj);
        json_object_put(obj);
    }
    /* the body parser alone, over the whole input */
    json_object *obj = NULL;
    if (gs_frame_parse((const char *)data, size, &obj, &st) == GS_ERR_OK)
        json_object_put(obj);
    return 0;
}
