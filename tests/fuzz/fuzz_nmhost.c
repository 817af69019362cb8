/*
 * libFuzzer target for gostsign-nmhost's browser side: the input is the byte stream a browser
 * (or a hostile process posing as one) writes to the host's stdin. Frames are judged exactly as
 * the host does (nm_from_browser) until it would close; every decision must be well formed:
 * a forwarded request has exactly id, cmd, a validated origin and object args, and every reply
 * is an error object. The whole input is also judged as one agent message (nm_check_agent_message).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nmhost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A forwarded request must carry only what the agent may see, with an origin we accept. */
static void check_forwarded(json_object *req)
{
    json_object *v;
    char normalised[300];
    gs_status st;
    if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
        abort();
    if (!json_object_object_get_ex(req, "origin", &v) ||
        nm_origin_validate(json_object_get_string(v), normalised, sizeof(normalised), &st) !=
            GS_ERR_OK ||
        strcmp(normalised, json_object_get_string(v)) != 0)
        abort();
    if (json_object_object_get_ex(req, "args", &v) && !json_object_is_type(v, json_type_object))
        abort();
    size_t allowed = 3 + json_object_object_get_ex(req, "args", &v);
    if (json_object_object_length(req) != (int)allowed)
        abort();
}

/* A reply must be {"id", "ok": false, "error": {"code", ...}}. */
static void check_reply(json_object *reply)
{
    json_object *v, *code;
    if (!json_object_object_get_ex(reply, "ok", &v) || json_object_get_boolean(v) ||
        !json_object_object_get_ex(reply, "error", &v) ||
        !json_object_object_get_ex(v, "code", &code) ||
        !gs_error_by_name(json_object_get_string(code)))
        abort();
}

/* Judges frames as the host would, then the whole input as an agent message. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_frame_source src = gs_frame_source_mem(data, size);
    for (int frames = 0; frames < 64; frames++) {
        json_object *out = NULL;
        char id_text[NM_ID_TEXT_MAX];
        nm_action act = nm_from_browser(&src, &out, id_text, sizeof(id_text));
        if (act == NM_CLOSE)
            break;
        if (act == NM_FORWARD)
            check_forwarded(out);
        else
            check_reply(out);
        json_object_put(out);
        if (act == NM_REPLY_AND_CLOSE)
            break;
    }
    json_object *replacement = NULL;
    bool final;
    char id_text[NM_ID_TEXT_MAX];
    if (!nm_check_agent_message((const char *)data, size, &replacement, &final, id_text,
                                sizeof(id_text))) {
        check_reply(replacement);
        json_object_put(replacement);
    }
    return 0;
}
