/*
 * gostsign-agent internals: the listening socket and connections (server.c), request dispatch
 * and the read-only commands (dispatch.c), and the PIN-gated commands (signing.c).
 */
#ifndef GOSTSIGN_AGENT_AGENT_H
#define GOSTSIGN_AGENT_AGENT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "errors.h"
#include "pin_limiter.h"
#include "token_cache.h"

#define AGENT_PROTOCOL_VERSION 1
/* Frames from clients to the agent: generous, chunks are far smaller. */
#define AGENT_FRAME_LIMIT      (8u * 1024u * 1024u)
/* Attached signatures keep the content in memory; larger data must be detached. */
#define AGENT_ATTACHED_LIMIT   (32u * 1024u * 1024u)

typedef struct agent agent;
typedef struct connection connection;
typedef struct request request;

struct agent {
    agent_config cfg;
    pin_limiter *limiter;
    token_cache *tokens;
    struct hotplug_monitor *hotplug; /* udev events for tokens (NULL without udev) */
    int listen_fd;
    int stop_pipe[2];
    char socket_path[512];
    int owns_socket_file;
    time_t started;
    atomic_int active_requests;
    pthread_mutex_t inflight_lock;
    request *inflight;            /* requests being processed, for cancel */
    struct parked_upload *parked; /* chunked uploads between their frames */
};

struct connection {
    agent *ag;
    int fd;
    pthread_mutex_t write_lock;
    atomic_int refs;
    atomic_int closed;
};

/* Upload state of a chunked `sign`, kept between the frames of one request id. */
typedef struct upload upload;

struct request {
    connection *conn;
    json_object *msg;  /* the parsed frame; owned */
    json_object *id;   /* borrowed from msg */
    char id_text[128]; /* id as text, for cancel and uploads */
    const char *cmd;
    const char *origin;
    json_object *args;
    time_t deadline;
    atomic_int cancelled;
    upload *up;         /* chunked upload in progress, or NULL */
    gs_status envelope; /* result of parsing id/cmd/origin/args on arrival */
    request *next;      /* inflight list */
};

/* Sends one frame to the connection (serialised with other writers); takes msg over. */
gs_code connection_send(connection *c, json_object *msg);
/* Convenience: progress event {"id","event"} for a request. */
void request_event(request *r, const char *event, json_object *data);

/*
 * Parses the envelope and registers the request as in flight, on the reader thread and in
 * arrival order, so a `cancel` sent right after a request always finds it.
 */
void request_accept(request *r);

/* Handles one request on a worker thread and sends its reply. Takes over r. */
void dispatch_request(request *r);

/* PIN-gated commands (signing.c). They return a result object or fail through st. */
gs_code command_sign(request *r, json_object **result, gs_status *st);
gs_code command_authenticate(request *r, json_object **result, gs_status *st);
/* Frees upload state, if any (called when the request ends or the connection closes). */
void upload_free(upload *up);

/* Registry of in-flight requests (dispatch.c). */
void inflight_add(agent *ag, request *r);
void inflight_remove(agent *ag, request *r);
/* Marks the request with this id on this connection cancelled; 0 when found. */
int inflight_cancel(agent *ag, connection *c, const char *id_text);
/* Takes over the upload of an earlier frame of the same id on the same connection, if any. */
upload *inflight_take_upload(agent *ag, connection *c, const char *id_text);
void inflight_park_upload(agent *ag, connection *c, const char *id_text, upload *up);

/* Server lifecycle (server.c). */
gs_code agent_listen(agent *ag, const char *path, gs_status *st);
int agent_serve(agent *ag);
void agent_request_stop(agent *ag);
void agent_shutdown(agent *ag);

#endif
