/*
 * Request dispatch: validates the request shape, applies the origin policy, and runs the
 * read-only commands (hello, tokens, certificates, cancel). Signing lives in signing.c.
 */
#include "daemon.h"
#include "request.h"
#include "frame.h"
#include "gostsign_version.h"
#include "origin.h"
#include "secmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Origins of local programs of the same user (the gostsign command): no web allow-list. */
#define LOCAL_ORIGIN_PREFIX "local:"

/* Reads and checks the request envelope: id (string or integer), cmd, origin, args. */
static gs_code parse_envelope(request *r, gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(r->msg, "id", &r->id) ||
        !(json_object_is_type(r->id, json_type_string) ||
          json_object_is_type(r->id, json_type_int)))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"id\" must be a string or an integer");
    snprintf(r->id_text, sizeof(r->id_text), "%s", json_object_get_string(r->id));
    if (!json_object_object_get_ex(r->msg, "cmd", &v) || !json_object_is_type(v, json_type_string))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"cmd\" must be a string");
    r->cmd = json_object_get_string(v);
    if (json_object_object_get_ex(r->msg, "origin", &v)) {
        if (!json_object_is_type(v, json_type_string))
            return gs_fail(st, GS_ERR_BAD_REQUEST, "\"origin\" must be a string");
        r->origin = json_object_get_string(v);
    }
    if (json_object_object_get_ex(r->msg, "args", &r->args) &&
        !json_object_is_type(r->args, json_type_object))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"args\" must be an object");
    return GS_ERR_OK;
}

/* Sites must be on the allow-list; local programs of the same user are trusted. */
static gs_code check_origin(request *r, gs_status *st)
{
    if (r->origin && strncmp(r->origin, LOCAL_ORIGIN_PREFIX, strlen(LOCAL_ORIGIN_PREFIX)) == 0)
        return GS_ERR_OK;
    return origin_check(&r->conn->ag->cfg, r->origin, st);
}

/* `hello`: versions and capabilities; allowed for every origin so pages can detect us. */
static json_object *command_hello(void)
{
    static const char *const caps[] = { "tokens",       "certificates", "sign",  "sign.digest",
                                        "sign.chunked", "authenticate", "cancel" };
    json_object *o = json_object_new_object();
    json_object_object_add(o, "agent", json_object_new_string("gostsign-agent"));
    json_object_object_add(o, "version", json_object_new_string(GOSTSIGN_VERSION));
    json_object_object_add(o, "protocol", json_object_new_int(AGENT_PROTOCOL_VERSION));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        json_object_array_add(arr, json_object_new_string(caps[i]));
    json_object_object_add(o, "capabilities", arr);
    json_object_object_add(o, "secure_memory",
                           json_object_new_string(secmem_all_locked() ? "locked" : "unlocked"));
    return o;
}

/* `cancel`: {"request": id} cancels that request of the same connection. */
static gs_code command_cancel(request *r, json_object **result, gs_status *st)
{
    json_object *v;
    if (!r->args || !json_object_object_get_ex(r->args, "request", &v))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "cancel needs args.request");
    int found = request_cancel_by_id(r->conn, json_object_get_string(v)) == 0;
    *result = json_object_new_object();
    json_object_object_add(*result, "cancelled", json_object_new_boolean(found));
    return GS_ERR_OK;
}

/* Runs the named command; every path ends in a result or a failure in st. */
static gs_code run_command(request *r, json_object **result, gs_status *st)
{
    if (strcmp(r->cmd, "hello") == 0) {
        *result = command_hello();
        return GS_ERR_OK;
    }
    if (strcmp(r->cmd, "cancel") == 0)
        return command_cancel(r, result, st);
    int known = strcmp(r->cmd, "tokens") == 0 || strcmp(r->cmd, "certificates") == 0 ||
                strcmp(r->cmd, "sign") == 0 || strcmp(r->cmd, "authenticate") == 0;
    if (!known)
        return gs_fail(st, GS_ERR_UNKNOWN_COMMAND, "%.64s", r->cmd);
    gs_code rc = check_origin(r, st);
    if (rc != GS_ERR_OK)
        return rc;
    token_cache *tc = r->conn->ag->tokens;
    if (strcmp(r->cmd, "tokens") == 0)
        return token_cache_tokens_json(tc, result, st);
    if (strcmp(r->cmd, "certificates") == 0)
        return token_cache_certificates_json(tc, time(NULL), result, st);
    if (strcmp(r->cmd, "sign") == 0)
        return command_sign(r, result, st);
    return command_authenticate(r, result, st);
}

void request_accept(request *r)
{
    gs_status_clear(&r->envelope);
    if (parse_envelope(r, &r->envelope) == GS_ERR_OK)
        request_register(r);
}

void dispatch_request(request *r)
{
    agent *ag = r->conn->ag;
    gs_status st = r->envelope;
    json_object *result = NULL;
    r->deadline = time(NULL) + ag->cfg.request_timeout_seconds;
    gs_code rc = st.code;
    if (rc == GS_ERR_OK) {
        rc = run_command(r, &result, &st);
        request_unregister(r);
    }
    if (rc == GS_ERR_OK && result)
        request_reply_result(r, result);
    else if (rc != GS_ERR_OK)
        request_reply_error(r, rc, st.detail[0] ? st.detail : NULL);
    /* rc == OK without a result: a chunk was accepted and an event already went out. */
    json_object_put(r->msg);
    free(r);
}
