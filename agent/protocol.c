/* The protocol's command table and request checks (see protocol.h). Calls only gost/. */
#include "protocol.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const proto_field no_fields[] = { { NULL, 0, false, NULL, false } };

/* One element of sign's args.batch. */
static const proto_field batch_item_fields[] = {
    { "digest", PROTO_STRING, false, NULL, false },
    { "document", PROTO_STRING, false, NULL, false },
    { NULL, 0, false, NULL, false },
};

/*
 * Where the PIN dialog of a PIN-gated command appears. The terminal of a local program (the
 * gostsign command) for pinentry-tty/-curses, and its display; pages never name a terminal.
 * display / wayland_display are the browser's: gostsign-nmhost refuses them from the page and
 * sets them from its own environment, as gpg-agent's clients pass theirs.
 */
#define DIALOG_FIELDS                                                                              \
    { "ttyname", PROTO_STRING, true, NULL, false },                                                \
        { "ttytype", PROTO_STRING, true, NULL, false },                                            \
        { "lc_ctype", PROTO_STRING, true, NULL, false },                                           \
        { "display", PROTO_STRING, false, NULL, true },                                            \
    {                                                                                              \
        "wayland_display", PROTO_STRING, false, NULL, true                                         \
    }

static const proto_field sign_fields[] = {
    { "certificate", PROTO_STRING, false, NULL, false },
    { "detached", PROTO_BOOL, false, NULL, false },
    { "data", PROTO_STRING, false, NULL, false },
    { "digest", PROTO_STRING, false, NULL, false },
    { "chunk", PROTO_STRING, false, NULL, false },
    { "more", PROTO_BOOL, false, NULL, false },
    { "document", PROTO_STRING, false, NULL, false },
    { "batch", PROTO_ARRAY, true, batch_item_fields, false },
    { "signing_time", PROTO_INT, false, NULL, false },
    { "include_chain", PROTO_BOOL, false, NULL, false },
    { "api", PROTO_STRING, false, NULL, false },
    { "cosign", PROTO_STRING, false, NULL, false },
    DIALOG_FIELDS,
    { NULL, 0, false, NULL, false },
};

static const proto_field sign_raw_fields[] = {
    { "certificate", PROTO_STRING, false, NULL, false },
    { "digest", PROTO_STRING, false, NULL, false },
    { "byte_order", PROTO_STRING, false, NULL, false },
    { "api", PROTO_STRING, false, NULL, false },
    { "document", PROTO_STRING, false, NULL, false },
    DIALOG_FIELDS,
    { NULL, 0, false, NULL, false },
};

static const proto_field verify_fields[] = {
    { "cms", PROTO_STRING, false, NULL, false },
    { "data", PROTO_STRING, false, NULL, false },
    { "digest", PROTO_STRING, false, NULL, false },
    { NULL, 0, false, NULL, false },
};

static const proto_field origins_fields[] = {
    { "add", PROTO_STRING, false, NULL, false },
    { "remove", PROTO_STRING, false, NULL, false },
    { NULL, 0, false, NULL, false },
};

static const proto_field authenticate_fields[] = {
    { "challenge", PROTO_STRING, false, NULL, false },
    { "certificate", PROTO_STRING, false, NULL, false },
    DIALOG_FIELDS,
    { NULL, 0, false, NULL, false },
};

static const proto_field cancel_fields[] = {
    { "request", PROTO_REQUEST_ID, false, NULL, false },
    { NULL, 0, false, NULL, false },
};

static const proto_field unpause_fields[] = {
    { "token", PROTO_STRING, true, NULL, false },
    { NULL, 0, false, NULL, false },
};

/* change_pin / unblock_pin: which token (id, serial or label; omitted: the only one). */
static const proto_field pin_care_fields[] = {
    { "token", PROTO_STRING, true, NULL, false },
    DIALOG_FIELDS,
    { NULL, 0, false, NULL, false },
};

static const proto_command commands[] = {
    { "hello", false, no_fields, false },
    { "tokens", true, no_fields, false },
    { "certificates", true, no_fields, false },
    { "sign", true, sign_fields, false },
    { "authenticate", true, authenticate_fields, false },
    { "cancel", false, cancel_fields, false },
    { "sign_raw", true, sign_raw_fields, false },
    { "verify", true, verify_fields, false },
    { "origins", false, origins_fields, false },
    /* `gostsign agent stop` and `gostsign agent unpause TOKEN`: the user at the terminal */
    { "shutdown", false, no_fields, true },
    { "unpause", false, unpause_fields, true },
    /* `gostsign token change-pin` / `token unblock`: PINs only in the agent's dialogs */
    { "change_pin", false, pin_care_fields, true },
    { "unblock_pin", false, pin_care_fields, true },
    /* the doctor and its support bundle: recent errors and PIN pauses, never for a page */
    { "status", false, no_fields, true },
};

const proto_command *proto_command_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool proto_is_clean_string(json_object *v)
{
    return json_object_is_type(v, json_type_string) &&
           strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

/* Largest integer a JavaScript page can send exactly (Number.MAX_SAFE_INTEGER). */
#define PROTO_SAFE_INTEGER 9007199254740991LL

gs_code proto_check_id(json_object *id, const char *where, char *text, size_t cap,
                       gs_status *st)
{
    if (json_object_is_type(id, json_type_int)) {
        int64_t n = json_object_get_int64(id);
        /* json-c saturates what does not fit, so a saturated value is refused with the rest */
        if (n > PROTO_SAFE_INTEGER || n < -PROTO_SAFE_INTEGER)
            return gs_fail(st, GS_ERR_BAD_REQUEST, "\"%s\" must be an integer below 2^53", where);
        snprintf(text, cap, "%" PRId64, n);
        return GS_ERR_OK;
    }
    if (!proto_is_clean_string(id))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"%s\" must be a string or an integer", where);
    size_t len = (size_t)json_object_get_string_len(id);
    if (len == 0 || len > PROTO_ID_MAX || len >= cap)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"%s\" must be 1..%d bytes", where, PROTO_ID_MAX);
    memcpy(text, json_object_get_string(id), len + 1);
    return GS_ERR_OK;
}

/* The JSON type name for messages. */
static const char *type_name(proto_type t)
{
    switch (t) {
    case PROTO_STRING:
        return "a string";
    case PROTO_BOOL:
        return "true or false";
    case PROTO_ARRAY:
        return "an array";
    case PROTO_INT:
        return "an integer";
    default:
        return "a string or an integer";
    }
}

static gs_code check_fields(json_object *obj, const proto_field *spec, const char *where,
                            bool from_page, gs_status *st);

/* Each element of an array field: an object of the field's item fields. */
static gs_code check_elements(json_object *arr, const proto_field *f, const char *where,
                              gs_status *st)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s.%s[%zu]", where, f->name, i);
        json_object *e = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(e, json_type_object))
            return gs_fail(st, GS_ERR_BAD_REQUEST, "%s must be an object, not %s", name,
                           e ? json_type_to_name(json_object_get_type(e)) : "null");
        gs_code rc = check_fields(e, f->items, name, false, st);
        if (rc != GS_ERR_OK)
            return rc;
    }
    return GS_ERR_OK;
}

/* One field's value against its type. */
static gs_code check_value(json_object *v, const proto_field *f, const char *where, gs_status *st)
{
    bool good;
    switch (f->type) {
    case PROTO_STRING:
        good = proto_is_clean_string(v);
        break;
    case PROTO_BOOL:
        good = json_object_is_type(v, json_type_boolean);
        break;
    case PROTO_ARRAY:
        good = json_object_is_type(v, json_type_array);
        break;
    case PROTO_INT:
        good = json_object_is_type(v, json_type_int) &&
               json_object_get_int64(v) < PROTO_SAFE_INTEGER &&
               json_object_get_int64(v) > -PROTO_SAFE_INTEGER;
        break;
    default: {
        char text[PROTO_ID_MAX + 1], name[96];
        snprintf(name, sizeof(name), "%s.%s", where, f->name);
        return proto_check_id(v, name, text, sizeof(text), st);
    }
    }
    if (good && f->type == PROTO_ARRAY && f->items)
        return check_elements(v, f, where, st);
    if (good)
        return GS_ERR_OK;
    return gs_fail(st, GS_ERR_BAD_REQUEST, "%s.%s must be %s, not %s", where, f->name,
                   type_name(f->type), v ? json_type_to_name(json_object_get_type(v)) : "null");
}

gs_code proto_check_fields(json_object *obj, const proto_field *spec, const char *where,
                           bool from_page, gs_status *st)
{
    return check_fields(obj, spec, where, from_page, st);
}

gs_code proto_check_host_fields(json_object *obj, const proto_field *spec, gs_status *st)
{
    for (const proto_field *f = spec; obj && f->name; f++)
        if (f->host_set && json_object_object_get_ex(obj, f->name, NULL))
            return gs_fail(st, GS_ERR_BAD_REQUEST,
                           "args.%s is not a field of this command for web pages", f->name);
    return GS_ERR_OK;
}

/* proto_check_fields, reachable from check_elements above it. */
static gs_code check_fields(json_object *obj, const proto_field *spec, const char *where,
                            bool from_page, gs_status *st)
{
    if (!obj)
        return GS_ERR_OK;
    if (!json_object_is_type(obj, json_type_object))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "%s must be an object", where);
    json_object_object_foreach(obj, key, value)
    {
        const proto_field *f = spec;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name || (f->local_only && from_page))
            return gs_fail(st, GS_ERR_BAD_REQUEST, "%s.%.64s is not a field of this command%s",
                           where, key, f->name ? " for web pages" : "");
        gs_code rc = check_value(value, f, where, st);
        if (rc != GS_ERR_OK)
            return rc;
    }
    return GS_ERR_OK;
}
