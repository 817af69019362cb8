/*
 * gostsign-nmhost decisions: caller identification, the extension allow-list, request
 * validation (envelope and origin) and the checks on agent messages going to the browser.
 */
#include "nmhost.h"
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHROMIUM_ORIGIN_PREFIX "chrome-extension://"
#define LOCAL_ORIGIN_PREFIX    "local:"
/* Limits on the command name; the agent rejects unknown names itself. */
#define NM_CMD_MAX             64

/* True for an ID Chromium derives from a key: 32 letters a..p. */
static bool chromium_id_ok(const char *id, size_t len)
{
    if (len != 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (id[i] < 'a' || id[i] > 'p')
            return false;
    return true;
}

/* Gecko IDs are "name@domain" or a {GUID}: printable ASCII without spaces or quotes. */
static bool gecko_id_ok(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > 200)
        return false;
    for (size_t i = 0; i < len; i++)
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '"' || id[i] == '\\' || id[i] == '/')
            return false;
    return true;
}

/* Parses "chrome-extension://ID/" into the caller. */
static gs_code caller_from_chromium(const char *arg, nm_caller *out, gs_status *st)
{
    const char *id = arg + strlen(CHROMIUM_ORIGIN_PREFIX);
    size_t len = strcspn(id, "/");
    if (!chromium_id_ok(id, len) || strcmp(id + len, "/") != 0)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "malformed extension origin");
    out->browser = NM_BROWSER_CHROMIUM;
    snprintf(out->extension, sizeof(out->extension), "%.*s", (int)len, id);
    return GS_ERR_OK;
}

gs_code nm_caller_from_args(int argc, char **argv, nm_caller *out, gs_status *st)
{
    memset(out, 0, sizeof(*out));
    /* Skip options Chromium adds on some platforms (--parent-window=N on Windows). */
    const char *args[3] = { 0 };
    int n = 0;
    for (int i = 1; i < argc && n < 3; i++)
        if (strncmp(argv[i], "--", 2) != 0)
            args[n++] = argv[i];
    if (n >= 1 && strncmp(args[0], CHROMIUM_ORIGIN_PREFIX, strlen(CHROMIUM_ORIGIN_PREFIX)) == 0)
        return caller_from_chromium(args[0], out, st);
    if (n == 2 && gecko_id_ok(args[1])) {
        out->browser = NM_BROWSER_FIREFOX;
        snprintf(out->extension, sizeof(out->extension), "%s", args[1]);
        return GS_ERR_OK;
    }
    return gs_fail(st, GS_ERR_BAD_REQUEST,
                   "gostsign-nmhost is started by a browser (expected chrome-extension://ID/ or "
                   "a Firefox manifest path and extension ID)");
}

/* Adds one id unless it is already listed or the list is full. */
static void allowlist_add(nm_allowlist *al, const char *id)
{
    for (size_t i = 0; i < al->count; i++)
        if (strcmp(al->ids[i], id) == 0)
            return;
    if (al->count < NM_MAX_EXTENSIONS) {
        char *copy = strdup(id);
        if (copy)
            al->ids[al->count++] = copy;
    }
}

void nm_allowlist_defaults(nm_allowlist *al)
{
    memset(al, 0, sizeof(*al));
    allowlist_add(al, NM_CHROMIUM_EXTENSION_ID);
    allowlist_add(al, NM_FIREFOX_EXTENSION_ID);
}

gs_code nm_allowlist_load(nm_allowlist *al, const char *path, gs_status *st)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return GS_ERR_OK;
    fclose(f);
    json_object *root = json_object_from_file(path), *list;
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return gs_fail(st, GS_ERR_BAD_JSON, "%s is not a JSON object", path);
    }
    gs_code rc = GS_ERR_OK;
    if (json_object_object_get_ex(root, "allowed_extensions", &list)) {
        if (!json_object_is_type(list, json_type_array))
            rc = gs_fail(st, GS_ERR_BAD_JSON, "%s: allowed_extensions must be an array", path);
        for (size_t i = 0; rc == GS_ERR_OK && i < json_object_array_length(list); i++) {
            json_object *v = json_object_array_get_idx(list, i);
            if (json_object_is_type(v, json_type_string))
                allowlist_add(al, json_object_get_string(v));
        }
    }
    json_object_put(root);
    return rc;
}

gs_code nm_allowlist_load_all(nm_allowlist *al, gs_status *st)
{
    gs_code rc = nm_allowlist_load(al, NM_SYSTEM_CONFIG_PATH, st);
    if (rc != GS_ERR_OK)
        return rc;
    char path[1024];
    const char *env = getenv("GOSTSIGN_NMHOST_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else if (xdg && *xdg)
        snprintf(path, sizeof(path), "%s/gostsign/nmhost.json", xdg);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.config/gostsign/nmhost.json", home);
    else
        return GS_ERR_OK;
    return nm_allowlist_load(al, path, st);
}

void nm_allowlist_free(nm_allowlist *al)
{
    for (size_t i = 0; i < al->count; i++)
        free(al->ids[i]);
    memset(al, 0, sizeof(*al));
}

gs_code nm_caller_check(const nm_allowlist *al, const nm_caller *caller, gs_status *st)
{
    for (size_t i = 0; i < al->count; i++)
        if (strcmp(al->ids[i], caller->extension) == 0)
            return GS_ERR_OK;
    return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED,
                   "extension %s is not allowed to use gostsign-nmhost", caller->extension);
}

/* The loopback hosts for which plain http is passed on (the agent decides). */
static bool is_loopback(const web_origin *o)
{
    return strcmp(o->host, "localhost") == 0 || strcmp(o->host, "127.0.0.1") == 0 ||
           strcmp(o->host, "[::1]") == 0;
}

gs_code nm_origin_validate(const char *origin, char *out, size_t cap, gs_status *st)
{
    if (!origin)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "the request has no origin");
    if (strncmp(origin, LOCAL_ORIGIN_PREFIX, strlen(LOCAL_ORIGIN_PREFIX)) == 0)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED,
                       "local: origins are not accepted from a browser");
    if (strcmp(origin, PROTO_EXTENSION_ORIGIN) == 0) {
        /* the extension's own popup or chooser: the agent lets it read status, never sign */
        int n = snprintf(out, cap, "%s", PROTO_EXTENSION_ORIGIN);
        return n > 0 && (size_t)n < cap ? GS_ERR_OK
                                        : gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "no room");
    }
    web_origin o;
    gs_code rc = origin_parse(origin, &o, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (strcmp(o.scheme, "https") != 0 && !is_loopback(&o))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "only https sites may request signatures");
    int n = o.port ? snprintf(out, cap, "%s://%s:%d", o.scheme, o.host, o.port)
                   : snprintf(out, cap, "%s://%s", o.scheme, o.host);
    if (n < 0 || (size_t)n >= cap)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin is too long");
    return GS_ERR_OK;
}

/* The id as text for tracking; false when it is neither a short string nor an integer. */
static bool id_to_text(json_object *id, char *id_text, size_t cap)
{
    gs_status st;
    return id && proto_check_id(id, "id", id_text, cap, &st) == GS_ERR_OK;
}

/* A string member, or NULL when absent or of another type. */
static const char *string_member(json_object *obj, const char *key, bool *present)
{
    json_object *v;
    *present = json_object_object_get_ex(obj, key, &v);
    return *present && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/*
 * The browser's display for the PIN dialog (the host runs in the browser's environment), for the
 * commands whose table has such fields: the dialog then opens on the desktop the page is on.
 */
static json_object *with_display(json_object *args, const proto_command *pc)
{
    static const struct {
        const char *field, *env;
    } vars[] = { { "display", "DISPLAY" }, { "wayland_display", "WAYLAND_DISPLAY" } };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *value = getenv(vars[i].env);
        const proto_field *f = pc->fields;
        while (f->name && strcmp(f->name, vars[i].field) != 0)
            f++;
        if (!f->name || !f->host_set || !value || !*value || strlen(value) > 256)
            continue;
        if (!args)
            args = json_object_new_object();
        json_object_object_add(args, vars[i].field, json_object_new_string(value));
    }
    return args;
}

/* Builds the request the agent gets: exactly id, cmd, normalised origin and args. */
static json_object *rebuild_request(json_object *req, const proto_command *pc, const char *origin)
{
    if (!pc) /* check_envelope found the command in the table before it calls this */
        return gs_reply_error(NULL, GS_ERR_INTERNAL, "no command");
    json_object *out = json_object_new_object(), *id, *args = NULL, *copy = NULL;
    json_object_object_get_ex(req, "id", &id);
    json_object_object_add(out, "id", json_object_get(id));
    json_object_object_add(out, "cmd", json_object_new_string(pc->name));
    json_object_object_add(out, "origin", json_object_new_string(origin));
    if (json_object_object_get_ex(req, "args", &args) && json_object_deep_copy(args, &copy, NULL))
        copy = NULL;
    copy = with_display(copy, pc);
    if (copy)
        json_object_object_add(out, "args", copy);
    return out;
}

/* Validates a parsed request's envelope and origin; error replies carry its id when valid. */
static nm_action check_envelope(json_object *req, json_object **out, char *id_text, size_t cap)
{
    json_object *id = NULL, *args;
    gs_status st;
    gs_status_clear(&st);
    json_object_object_get_ex(req, "id", &id);
    if (!id_to_text(id, id_text, cap)) {
        *out = gs_reply_error(NULL, GS_ERR_BAD_REQUEST,
                              "\"id\" must be a safe integer or a string of 1..128 bytes");
        return NM_REPLY;
    }
    bool present;
    const char *cmd = string_member(req, "cmd", &present);
    const char *origin = string_member(req, "origin", &present);
    const char *problem = NULL;
    if (!cmd || !*cmd || strlen(cmd) > NM_CMD_MAX)
        problem = "\"cmd\" must be a non-empty string";
    else if (json_object_object_get_ex(req, "args", &args) &&
             !json_object_is_type(args, json_type_object))
        problem = "\"args\" must be an object";
    else if (present && !origin)
        problem = "\"origin\" must be a string";
    if (problem) {
        *out = gs_reply_error(id, GS_ERR_BAD_REQUEST, problem);
        return NM_REPLY;
    }
    char normalised[300];
    if (nm_origin_validate(origin, normalised, sizeof(normalised), &st) != GS_ERR_OK) {
        *out = gs_reply_error(id, st.code, st.detail);
        return NM_REPLY;
    }
    /* only the documented commands and fields of the protocol table leave for the agent */
    const proto_command *pc = proto_command_find(cmd);
    if (!pc || pc->local_only) /* the agent's local admin commands are not for pages */
        gs_fail(&st, GS_ERR_UNKNOWN_COMMAND, "%.64s", cmd);
    else
        proto_check_fields(json_object_object_get_ex(req, "args", &args) ? args : NULL, pc->fields,
                           "args", true, &st);
    if (pc && st.code == GS_ERR_OK)
        proto_check_host_fields(json_object_object_get_ex(req, "args", &args) ? args : NULL,
                                pc->fields, &st);
    if (st.code != GS_ERR_OK) {
        *out = gs_reply_error(id, st.code, st.detail);
        return NM_REPLY;
    }
    *out = rebuild_request(req, pc, normalised);
    return NM_FORWARD;
}

nm_action nm_check_request(const char *body, size_t len, json_object **out, char *id_text,
                           size_t cap)
{
    json_object *req = NULL;
    gs_status st;
    gs_status_clear(&st);
    *out = NULL;
    if (cap)
        id_text[0] = '\0';
    if (gs_frame_parse(body, len, &req, &st) != GS_ERR_OK) {
        *out = gs_reply_error(NULL, st.code, st.detail[0] ? st.detail : NULL);
        return NM_REPLY;
    }
    nm_action act = check_envelope(req, out, id_text, cap);
    json_object_put(req);
    return act;
}

nm_action nm_from_browser(gs_frame_source *src, json_object **out, char *id_text, size_t cap)
{
    char *body = NULL;
    size_t len = 0;
    gs_status st;
    gs_status_clear(&st);
    *out = NULL;
    if (cap)
        id_text[0] = '\0';
    if (gs_frame_read_raw(src, GS_FRAME_MAX_FROM_BROWSER, &body, &len, &st) != GS_ERR_OK) {
        *out = gs_reply_error(NULL, st.code, st.detail[0] ? st.detail : NULL);
        return NM_REPLY_AND_CLOSE;
    }
    if (!body)
        return NM_CLOSE;
    nm_action act = nm_check_request(body, len, out, id_text, cap);
    free(body);
    return act;
}

bool nm_check_agent_message(const char *body, size_t len, json_object **replacement, bool *is_final,
                            char *id_text, size_t cap)
{
    json_object *msg = NULL, *id = NULL, *v;
    gs_status st;
    gs_status_clear(&st);
    *replacement = NULL;
    *is_final = false;
    if (cap)
        id_text[0] = '\0';
    if (gs_frame_parse(body, len, &msg, &st) != GS_ERR_OK) {
        *replacement = gs_reply_error(NULL, GS_ERR_INTERNAL, "the agent sent an invalid message");
        return false;
    }
    json_object_object_get_ex(msg, "id", &id);
    if (!id_to_text(id, id_text, cap) && cap)
        id_text[0] = '\0';
    *is_final = !json_object_object_get_ex(msg, "event", &v);
    bool fits = len <= GS_FRAME_MAX_TO_BROWSER;
    if (!fits) {
        *replacement = gs_reply_error(id, GS_ERR_FRAME_TOO_LARGE,
                                      "the reply exceeds the browser's 1 MiB message limit; "
                                      "sign a digest or use a detached signature");
        *is_final = true;
    }
    json_object_put(msg);
    return fits;
}
