/*
 * Requests and their connections (see request.h): replies and events, connection references,
 * the registry of requests in flight and the parked chunked uploads. Below server.c, dispatch.c
 * and signing.c; it calls only frame.c and upload.c.
 */
#include "daemon.h"
#include "frame.h"
#include "pinentry.h"
#include "recent_errors.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct parked_upload {
    char id_text[PROTO_ID_MAX + 1];
    upload *up;
    time_t parked_at;
    struct parked_upload *next;
};

connection *connection_new(agent *ag, int fd)
{
    connection *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ag = ag;
    c->fd = fd;
    c->serial = atomic_fetch_add(&ag->next_serial, 1) + 1;
    atomic_store(&c->refs, 1);
    pthread_mutex_init(&c->write_lock, NULL);
    return c;
}

void connection_hold(connection *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void connection_release(connection *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    connection_expire_uploads(c, 0, -1);
    close(c->fd);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

gs_code connection_send(connection *c, json_object *msg)
{
    gs_status st;
    pthread_mutex_lock(&c->write_lock);
    gs_code rc = atomic_load(&c->closed) ? GS_ERR_CANCELLED
                                         : gs_frame_write(c->fd, msg, AGENT_FRAME_LIMIT, &st);
    if (rc != GS_ERR_OK)
        atomic_store(&c->closed, 1); /* the peer is gone; a half-closed one still reads */
    pthread_mutex_unlock(&c->write_lock);
    json_object_put(msg);
    return rc;
}

void request_reply_result(request *r, json_object *result)
{
    connection_send(r->conn, gs_reply_result(r->id, result));
}

void request_reply_error(request *r, gs_code code, const char *detail)
{
    json_object *reply = gs_reply_error(r->id, code, detail), *err;
    recent_errors_add(code, r->cmd, r->origin, time(NULL)); /* for the support bundle */
    if (reply && r->error_fields && json_object_object_get_ex(reply, "error", &err)) {
        json_object_object_foreach(r->error_fields, key, value)
            json_object_object_add(err, key, json_object_get(value));
    }
    if (!r->origin || strncmp(r->origin, "local:", 6) != 0)
        gs_reply_for_page(reply); /* a web page learns no local paths or commands */
    connection_send(r->conn, reply);
}

void request_error_field(request *r, const char *key, json_object *value)
{
    if (!r->error_fields)
        r->error_fields = json_object_new_object();
    json_object_object_add(r->error_fields, key, value);
}

void request_event(request *r, const char *event, json_object *data)
{
    connection_send(r->conn, gs_reply_event(r->id, event, data));
}

void request_register(request *r)
{
    agent *ag = r->conn->ag;
    pthread_mutex_lock(&ag->inflight_lock);
    r->next = ag->inflight;
    ag->inflight = r;
    pthread_mutex_unlock(&ag->inflight_lock);
}

void request_unregister(request *r)
{
    agent *ag = r->conn->ag;
    pthread_mutex_lock(&ag->inflight_lock);
    for (request **p = &ag->inflight; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    pthread_mutex_unlock(&ag->inflight_lock);
}

/* Unlinks and frees one parked upload. Caller holds the inflight lock. */
static void drop_parked(connection *c, parked_upload **link)
{
    parked_upload *pu = *link;
    *link = pu->next;
    c->ag->parked_bytes -= pu->up->cap;
    c->parked_count--;
    upload_free(pu->up);
    free(pu);
}

int request_cancel_by_id(connection *c, const char *id_text)
{
    agent *ag = c->ag;
    int found = -1;
    pthread_mutex_lock(&ag->inflight_lock);
    for (request *r = ag->inflight; r; r = r->next)
        if (r->conn == c && strcmp(r->id_text, id_text) == 0 && strcmp(r->cmd, "cancel") != 0) {
            atomic_store(&r->cancelled, 1);
            found = 0;
        }
    for (parked_upload **p = &c->parked; *p;) {
        if (strcmp((*p)->id_text, id_text) == 0) {
            drop_parked(c, p);
            found = 0;
        } else {
            p = &(*p)->next;
        }
    }
    pthread_mutex_unlock(&ag->inflight_lock);
    return found;
}

upload *request_take_upload(request *r)
{
    connection *c = r->conn;
    upload *up = NULL;
    pthread_mutex_lock(&c->ag->inflight_lock);
    for (parked_upload **p = &c->parked; *p; p = &(*p)->next) {
        parked_upload *pu = *p;
        if (strcmp(pu->id_text, r->id_text) == 0) {
            *p = pu->next;
            up = pu->up;
            c->ag->parked_bytes -= up->cap;
            c->parked_count--;
            free(pu);
            break;
        }
    }
    pthread_mutex_unlock(&c->ag->inflight_lock);
    return up;
}

gs_code request_park_upload(request *r, upload *up, gs_status *st)
{
    connection *c = r->conn;
    agent *ag = c->ag;
    parked_upload *pu = calloc(1, sizeof(*pu));
    if (!pu)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "upload");
    pu->up = up;
    pu->parked_at = time(NULL);
    snprintf(pu->id_text, sizeof(pu->id_text), "%s", r->id_text);
    gs_code rc = GS_ERR_OK;
    pthread_mutex_lock(&ag->inflight_lock);
    if (c->parked_count >= AGENT_MAX_PARKED_PER_CONNECTION)
        rc = gs_fail(st, GS_ERR_AGENT_BUSY, "%d chunked uploads are open on this connection",
                     c->parked_count);
    else if (ag->parked_bytes + up->cap > AGENT_PARKED_BYTES_LIMIT)
        rc = gs_fail(st, GS_ERR_AGENT_BUSY, "chunked uploads hold %zu bytes", ag->parked_bytes);
    if (rc == GS_ERR_OK) {
        pu->next = c->parked;
        c->parked = pu;
        c->parked_count++;
        ag->parked_bytes += up->cap;
    }
    pthread_mutex_unlock(&ag->inflight_lock);
    if (rc != GS_ERR_OK)
        free(pu);
    return rc;
}

void connection_expire_uploads(connection *c, time_t now, long max_age)
{
    pthread_mutex_lock(&c->ag->inflight_lock);
    for (parked_upload **p = &c->parked; *p;) {
        if (max_age < 0 || now - (*p)->parked_at > max_age)
            drop_parked(c, p);
        else
            p = &(*p)->next;
    }
    pthread_mutex_unlock(&c->ag->inflight_lock);
}

/* A string argument of the request, or NULL when absent or empty. */
static const char *dialog_arg(const request *r, const char *key)
{
    json_object *v;
    if (!r->args || !json_object_object_get_ex(r->args, key, &v) ||
        !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
        return NULL;
    return json_object_get_string(v);
}

/* The request's value, else the agent's startup one, else NULL. */
static const char *dialog_value(const request *r, const char *key, const char *dflt)
{
    const char *v = dialog_arg(r, key);
    return v ? v : (*dflt ? dflt : NULL);
}

void request_dialog_place(const request *r, pinentry_request *req)
{
    const dialog_defaults *d = &r->conn->ag->dialog;
    req->ttyname = dialog_value(r, "ttyname", d->ttyname);
    /* a terminal type or locale belongs to the terminal it came with */
    bool own_tty = dialog_arg(r, "ttyname") != NULL;
    req->ttytype = own_tty ? dialog_arg(r, "ttytype") : dialog_value(r, "ttytype", d->ttytype);
    req->lc_ctype = dialog_value(r, "lc_ctype", d->lc_ctype);
    req->display = dialog_value(r, "display", d->display);
    req->wayland_display = dialog_value(r, "wayland_display", d->wayland_display);
}

/* Copies an environment variable (empty when unset or too long for the field). */
static void copy_env(char *out, size_t cap, const char *name)
{
    const char *v = getenv(name);
    out[0] = '\0';
    if (v && strlen(v) < cap)
        memcpy(out, v, strlen(v) + 1);
}

void dialog_defaults_capture(dialog_defaults *d)
{
    memset(d, 0, sizeof(*d));
    for (int fd = 0; fd < 3 && !d->ttyname[0]; fd++) {
        const char *name = isatty(fd) ? ttyname(fd) : NULL;
        if (name && strlen(name) < sizeof(d->ttyname))
            memcpy(d->ttyname, name, strlen(name) + 1);
    }
    copy_env(d->ttytype, sizeof(d->ttytype), "TERM");
    const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    for (size_t i = 0; i < 3 && !d->lc_ctype[0]; i++)
        copy_env(d->lc_ctype, sizeof(d->lc_ctype), vars[i]);
    copy_env(d->display, sizeof(d->display), "DISPLAY");
    copy_env(d->wayland_display, sizeof(d->wayland_display), "WAYLAND_DISPLAY");
}
