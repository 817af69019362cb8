/*
 * Request dispatch: checks the envelope and the arguments against the protocol table
 * (protocol.c), applies the origin policy, and runs the command from the handler table: the
 * read-only commands here (hello, tokens, certificates, cancel), the PIN-gated ones in signing.c.
 */
#include "daemon.h"
#include "frame.h"
#include "gostsign_version.h"
#include "origin.h"
#include "protocol.h"
#include "recent_errors.h"
#include "request.h"
#include "secmem.h"
#include "user_origins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Origins of local programs of the same user (the gostsign command): no web allow-list. */
#define LOCAL_ORIGIN_PREFIX "local:"

typedef gs_code (*command_fn)(request *r, json_object **result, gs_status *st);

/* True for requests of local programs of the same user, as opposed to web pages. */
static bool request_is_local(const request *r)
{
    return r->origin && strncmp(r->origin, LOCAL_ORIGIN_PREFIX, strlen(LOCAL_ORIGIN_PREFIX)) == 0;
}

/* True for the extension's own requests (its popup and chooser), as opposed to a page's. */
static bool request_is_extension(const request *r)
{
    return r->origin && strcmp(r->origin, PROTO_EXTENSION_ORIGIN) == 0;
}

/* The commands the extension may send for itself: status and the user's site list, no signing. */
static bool extension_may_run(const char *cmd)
{
    static const char *const allowed[] = { "hello", "tokens", "certificates", "origins", "cancel" };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(allowed[i], cmd) == 0)
            return true;
    return false;
}

/* Reads and checks the envelope: id, cmd, origin (a clean string), args (an object). */
static gs_code parse_envelope(request *r, gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(r->msg, "id", &r->id))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"id\" is missing");
    gs_code rc = proto_check_id(r->id, "id", r->id_text, sizeof(r->id_text), st);
    if (rc != GS_ERR_OK) {
        r->id = NULL; /* an unusable id is not echoed back */
        return rc;
    }
    json_object_object_foreach(r->msg, key, value)
    {
        (void)value;
        if (strcmp(key, "id") && strcmp(key, "cmd") && strcmp(key, "origin") && strcmp(key, "args"))
            return gs_fail(st, GS_ERR_BAD_REQUEST, "\"%.64s\" is not a field of a request", key);
    }
    if (!json_object_object_get_ex(r->msg, "cmd", &v) || !proto_is_clean_string(v))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"cmd\" must be a string");
    r->cmd = json_object_get_string(v);
    if (json_object_object_get_ex(r->msg, "origin", &v)) {
        if (!proto_is_clean_string(v))
            return gs_fail(st, GS_ERR_BAD_REQUEST, "\"origin\" must be a string without NUL");
        r->origin = json_object_get_string(v);
    }
    if (json_object_object_get_ex(r->msg, "args", &r->args) &&
        !json_object_is_type(r->args, json_type_object))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "\"args\" must be an object");
    r->command = proto_command_find(r->cmd);
    if (!r->command)
        return gs_fail(st, GS_ERR_UNKNOWN_COMMAND, "%.64s", r->cmd);
    return proto_check_fields(r->args, r->command->fields, "args", !request_is_local(r), st);
}

/* Sites must be on the allow-list; local programs and the extension's own pages are trusted. */
static gs_code check_origin(request *r, gs_status *st)
{
    if (request_is_local(r) || request_is_extension(r))
        return GS_ERR_OK;
    agent *ag = r->conn->ag;
    gs_code rc = origin_check(&ag->cfg, r->origin, st);
    if (rc == GS_ERR_ORIGIN_NOT_ALLOWED && !ag->cfg.origins_locked &&
        user_origins_allows(ag->user_origins, r->origin)) {
        gs_status_clear(st);
        return GS_ERR_OK; /* the user allowed this site from the extension */
    }
    return rc;
}

/* `hello`: versions and capabilities; allowed for every origin so pages can detect us. */
static gs_code command_hello(request *r, json_object **result, gs_status *st)
{
    (void)r;
    (void)st;
    static const char *const caps[] = { "tokens",       "certificates",    "sign",   "sign.digest",
                                        "sign.chunked", "authenticate",    "cancel", "sign.hash",
                                        "sign.raw",     "sign.options",    "cosign", "verify",
                                        "origins",      "certificates.der" };
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
    *result = o;
    return GS_ERR_OK;
}

/* `cancel`: {"request": id} cancels that request of the same connection. */
static gs_code command_cancel(request *r, json_object **result, gs_status *st)
{
    json_object *v;
    char id_text[PROTO_ID_MAX + 1];
    if (!r->args || !json_object_object_get_ex(r->args, "request", &v))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "cancel needs args.request");
    gs_code rc = proto_check_id(v, "args.request", id_text, sizeof(id_text), st);
    if (rc != GS_ERR_OK)
        return rc;
    int found = request_cancel_by_id(r->conn, id_text) == 0;
    *result = json_object_new_object();
    json_object_object_add(*result, "cancelled", json_object_new_boolean(found));
    return GS_ERR_OK;
}

/*
 * Adds the agent's own wrong-PIN pause to each token of the `tokens` list, apart from the
 * token's flags: agent_attempts_left, and resume_at (ISO 8601 UTC) while paused.
 */
static void add_agent_pause(agent *ag, json_object *list)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *t = json_object_array_get_idx(list, i), *id;
        if (!json_object_object_get_ex(t, "id", &id))
            continue;
        const char *key = json_object_get_string(id);
        json_object_object_add(t, "agent_attempts_left",
                               json_object_new_int(pin_limiter_remaining(ag->limiter, key, now)));
        time_t until = pin_limiter_paused_until(ag->limiter, key, now);
        char when[32];
        struct tm tm;
        if (until > now && gmtime_r(&until, &tm) &&
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
            json_object_object_add(t, "resume_at", json_object_new_string(when));
    }
}

/* `tokens`: the tokens the cache sees, with the agent's pause of each. */
static gs_code command_tokens(request *r, json_object **result, gs_status *st)
{
    gs_code rc = token_cache_tokens_json(r->conn->ag->tokens, result, st);
    if (rc == GS_ERR_OK)
        add_agent_pause(r->conn->ag, *result);
    return rc;
}

/* `certificates`: certificates with a private key on a present token. */
static gs_code command_certificates(request *r, json_object **result, gs_status *st)
{
    return token_cache_certificates_json(r->conn->ag->tokens, time(NULL), result, st);
}

/* A JSON array of a config list. */
static json_object *list_json(char *const *items, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, json_object_new_string(items[i]));
    return arr;
}

/*
 * `origins`: the allow-list the extension registers its adapters for, and the user's own
 * additions (add / remove one https site, unless the system policy locks the list). Only for
 * the extension itself (the user in its popup) and local programs, never for a web page.
 */
static gs_code command_origins(request *r, json_object **result, gs_status *st)
{
    agent *ag = r->conn->ag;
    json_object *v;
    gs_code rc = GS_ERR_OK;
    if (!request_is_extension(r) && !request_is_local(r))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "the site list is not for web pages");
    int add = r->args && json_object_object_get_ex(r->args, "add", &v);
    int remove = !add && r->args && json_object_object_get_ex(r->args, "remove", &v);
    if ((add || remove) && ag->cfg.origins_locked)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "the system policy locks the site list");
    if (add)
        rc = user_origins_add(ag->user_origins, json_object_get_string(v), st);
    else if (remove)
        rc = user_origins_remove(ag->user_origins, json_object_get_string(v), st);
    if (rc != GS_ERR_OK)
        return rc;
    json_object *allowed = list_json(ag->cfg.origins, ag->cfg.origin_count);
    json_object *user = user_origins_json(ag->user_origins);
    if (!ag->cfg.origins_locked)
        for (size_t i = 0; i < json_object_array_length(user); i++)
            json_object_array_add(allowed, json_object_get(json_object_array_get_idx(user, i)));
    *result = json_object_new_object();
    json_object_object_add(*result, "allowed", allowed);
    json_object_object_add(*result, "hash_sign",
                           list_json(ag->cfg.hash_origins, ag->cfg.hash_origin_count));
    json_object_object_add(*result, "locked", json_object_new_boolean(ag->cfg.origins_locked));
    json_object_object_add(*result, "user", user);
    return GS_ERR_OK;
}

/* `shutdown` (`gostsign agent stop`): the agent exits once this reply went out. */
static gs_code command_shutdown(request *r, json_object **result, gs_status *st)
{
    (void)st;
    r->stop_after_reply = true;
    *result = json_object_new_object();
    json_object_object_add(*result, "stopping", json_object_new_boolean(1));
    return GS_ERR_OK;
}

/* Whether a token of the `tokens` list is the one the user named: id, serial or label. */
static bool token_matches(json_object *t, const char *name)
{
    static const char *const keys[] = { "id", "serial", "label" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_object *v;
        if (json_object_object_get_ex(t, keys[i], &v) && json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), name) == 0)
            return true;
    }
    return false;
}

/* The limiter key of the named token: a present token's id, else the name itself (an id). */
static gs_code unpause_key(request *r, const char *name, char *key, size_t cap, gs_status *st)
{
    json_object *list = NULL, *id;
    gs_code rc = token_cache_tokens_json(r->conn->ag->tokens, &list, st);
    snprintf(key, cap, "%s", name);
    size_t n = rc == GS_ERR_OK ? json_object_array_length(list) : 0, found = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(list, i);
        if (token_matches(t, name) && json_object_object_get_ex(t, "id", &id) && ++found == 1)
            snprintf(key, cap, "%s", json_object_get_string(id));
    }
    json_object_put(list);
    if (found > 1)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "several tokens are named so: give the token id");
    gs_status_clear(st);
    return GS_ERR_OK;
}

/* `unpause` (`gostsign agent unpause TOKEN`): ends the agent's wrong-PIN pause for a token. */
static gs_code command_unpause(request *r, json_object **result, gs_status *st)
{
    json_object *v;
    if (!r->args || !json_object_object_get_ex(r->args, "token", &v) || !*json_object_get_string(v))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "unpause needs args.token");
    char key[256];
    gs_code rc = unpause_key(r, json_object_get_string(v), key, sizeof(key), st);
    if (rc == GS_ERR_OK)
        rc = pin_limiter_clear(r->conn->ag->limiter, key, st);
    if (rc != GS_ERR_OK)
        return rc;
    *result = json_object_new_object();
    json_object_object_add(*result, "token", json_object_new_string(key));
    json_object_object_add(*result, "unpaused", json_object_new_boolean(1));
    return GS_ERR_OK;
}

/* A time as UTC ISO 8601, or JSON null for 0. */
static json_object *iso_time(time_t t)
{
    char stamp[32];
    struct tm tm;
    if (!t || !gmtime_r(&t, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_object_new_string(stamp);
}

/* The limiter's state of each present token: wrong PINs counted and the pause, if any. */
static json_object *pin_pauses_json(agent *ag, time_t now)
{
    json_object *list = NULL, *out = json_object_new_array(), *v;
    gs_status st;
    gs_status_clear(&st);
    if (token_cache_tokens_json(ag->tokens, &list, &st) != GS_ERR_OK)
        return out;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *t = json_object_array_get_idx(list, i), *p = json_object_new_object();
        if (!json_object_object_get_ex(t, "id", &v) || !json_object_is_type(v, json_type_string)) {
            json_object_put(p);
            continue;
        }
        const char *id = json_object_get_string(v);
        time_t until = pin_limiter_paused_until(ag->limiter, id, now);
        int left = pin_limiter_remaining(ag->limiter, id, now);
        json_object_object_add(p, "token", json_object_new_string(id));
        if (json_object_object_get_ex(t, "label", &v))
            json_object_object_add(p, "label", json_object_get(v));
        json_object_object_add(p, "max_failures", json_object_new_int(ag->cfg.pin_max_failures));
        json_object_object_add(p, "failures",
                               json_object_new_int(until ? ag->cfg.pin_max_failures
                                                         : ag->cfg.pin_max_failures - left));
        json_object_object_add(p, "paused_until", iso_time(until));
        json_object_array_add(out, p);
    }
    json_object_put(list);
    return out;
}

/*
 * `status` (the doctor, local programs only): recent errors, the PIN pauses per token, and the
 * open client connections (this one included): a connection left open, e.g. by a browser's
 * native port, keeps the agent from going idle.
 */
static gs_code command_status(request *r, json_object **result, gs_status *st)
{
    (void)st;
    agent *ag = r->conn->ag;
    *result = json_object_new_object();
    json_object_object_add(*result, "started", iso_time(ag->started));
    json_object_object_add(*result, "connections",
                           json_object_new_int(atomic_load(&ag->connections)));
    json_object_object_add(*result, "recent_errors", recent_errors_json());
    json_object_object_add(*result, "pin_pauses", pin_pauses_json(ag, time(NULL)));
    return GS_ERR_OK;
}

/* The handler of every command of the protocol table. */
/*
 * Each command's handler, and whether it may parse a certificate or sign: the GOST engine is
 * set up for those only (a browser's first `hello` is not kept waiting for it).
 */
static const struct {
    const char *name;
    command_fn run;
    bool needs_engine;
} handlers[] = {
    { "hello", command_hello, false },
    { "tokens", command_tokens, true },
    { "certificates", command_certificates, true },
    { "sign", command_sign, true },
    { "authenticate", command_authenticate, true },
    { "cancel", command_cancel, false },
    { "sign_raw", command_sign_raw, true },
    { "verify", command_verify, true },
    { "origins", command_origins, true },
    { "shutdown", command_shutdown, true },
    { "unpause", command_unpause, true },
    { "change_pin", command_change_pin, true },
    { "unblock_pin", command_unblock_pin, true },
    { "status", command_status, true },
};

/* Runs the checked command; every path ends in a result or a failure in st. */
static gs_code run_command(request *r, json_object **result, gs_status *st)
{
    size_t h = 0;
    while (h < sizeof(handlers) / sizeof(handlers[0]) && strcmp(handlers[h].name, r->command->name))
        h++;
    if (h == sizeof(handlers) / sizeof(handlers[0]))
        return gs_fail(st, GS_ERR_UNKNOWN_COMMAND, "%.64s", r->cmd);
    /* The engine is set up before anything parses a certificate (an X509 parsed without it
     * would keep a GOST key it cannot read); once only, at the first request that needs it. */
    gs_code rc = handlers[h].needs_engine ? gost_init(st) : GS_ERR_OK;
    if (rc != GS_ERR_OK)
        return rc;
    if (r->command->local_only && !request_is_local(r))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "%s is only for local programs", r->cmd);
    if (request_is_extension(r) && !extension_may_run(r->command->name))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "%s needs the web page that asks", r->cmd);
    if (r->command->needs_origin) {
        rc = check_origin(r, st);
        if (rc != GS_ERR_OK)
            return rc;
    }
    return handlers[h].run(r, result, st);
}

void request_accept(request *r)
{
    gs_status_clear(&r->envelope);
    if (parse_envelope(r, &r->envelope) == GS_ERR_OK)
        request_register(r);
}

bool dispatch_request(request *r)
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
    bool stop = rc == GS_ERR_OK && r->stop_after_reply;
    json_object_put(r->error_fields);
    json_object_put(r->msg);
    free(r);
    return stop;
}
