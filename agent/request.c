/*
 * Requests and their connections (see request.h): replies and events, connection references,
 * the registry of requests in flight and the parked chunked uploads. Below server.c, dispatch.c
 * and signing.c; it calls only frame.c and upload.c.
 */
#include "daemon.h"
#include "frame.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct parked_upload {
    connection *conn;
    char id_text[PROTO_ID_MAX + 1];
    upload *up;
    struct parked_upload *next;
};

connection *connection_new(agent *ag, int fd)
{
    connection *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ag = ag;
    c->fd = fd;
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
    connection_send(r->conn, gs_reply_error(r->id, code, detail));
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
    for (parked_upload **p = &ag->parked; *p;) {
        parked_upload *pu = *p;
        if (pu->conn == c && strcmp(pu->id_text, id_text) == 0) {
            *p = pu->next;
            upload_free(pu->up);
            free(pu);
            found = 0;
        } else {
            p = &pu->next;
        }
    }
    pthread_mutex_unlock(&ag->inflight_lock);
    return found;
}

upload *request_take_upload(request *r)
{
    agent *ag = r->conn->ag;
    upload *up = NULL;
    pthread_mutex_lock(&ag->inflight_lock);
    for (parked_upload **p = &ag->parked; *p; p = &(*p)->next) {
        parked_upload *pu = *p;
        if (pu->conn == r->conn && strcmp(pu->id_text, r->id_text) == 0) {
            *p = pu->next;
            up = pu->up;
            free(pu);
            break;
        }
    }
    pthread_mutex_unlock(&ag->inflight_lock);
    return up;
}

void request_park_upload(request *r, upload *up)
{
    parked_upload *pu = calloc(1, sizeof(*pu));
    if (!pu) {
        upload_free(up);
        return;
    }
    pu->conn = r->conn;
    pu->up = up;
    snprintf(pu->id_text, sizeof(pu->id_text), "%s", r->id_text);
    agent *ag = r->conn->ag;
    pthread_mutex_lock(&ag->inflight_lock);
    pu->next = ag->parked;
    ag->parked = pu;
    pthread_mutex_unlock(&ag->inflight_lock);
}
