/*
 * A request and its connection: everything a command needs to answer for itself. The reply,
 * progress events and errors go out through the request (request_reply_*, request_event), so
 * dispatch and signing never reach back into the socket server. The registry of requests in
 * flight (for `cancel`) and of parked chunked uploads lives here too, below all its users.
 */
#ifndef GOSTSIGN_AGENT_REQUEST_H
#define GOSTSIGN_AGENT_REQUEST_H

#include <pthread.h>
#include <stdint.h>
#include <stdatomic.h>
#include <time.h>

#include <json-c/json.h>

#include "gost.h"
#include "protocol.h"
#include "upload.h"

typedef struct agent agent;

/* Bounds that keep a hostile page (or a stuck client) from exhausting the agent. */
#define AGENT_MAX_CONNECTIONS             64
#define AGENT_MAX_REQUESTS                128 /* requests in flight, all connections */
#define AGENT_MAX_REQUESTS_PER_CONNECTION 16
#define AGENT_MAX_PARKED_PER_CONNECTION   4   /* chunked uploads between their frames */
#define AGENT_PARKED_BYTES_LIMIT          (128u * 1024u * 1024u) /* their content, all clients */

typedef struct parked_upload parked_upload;

/*
 * One client connection: its socket, a write lock, references held by its requests, and the
 * chunked uploads parked between their frames. Uploads belong to the connection (never to an
 * address that a later connection might reuse) and are freed when its peer stops sending.
 */
typedef struct connection {
    agent *ag;
    int fd;
    uint64_t serial; /* unique for the agent's lifetime */
    pthread_mutex_t write_lock;
    atomic_int refs;
    atomic_int closed;   /* a write failed: the peer is gone, later replies are dropped */
    atomic_int requests; /* requests of this connection in flight */
    parked_upload *parked; /* under the agent's inflight_lock */
    int parked_count;
} connection;

typedef struct request {
    connection *conn;
    json_object *msg;  /* the parsed frame; owned */
    json_object *id;   /* borrowed from msg */
    char id_text[PROTO_ID_MAX + 1]; /* id as text, for cancel and uploads */
    const struct proto_command *command; /* from the protocol table, once the envelope is good */
    const char *cmd;
    const char *origin;
    json_object *args;
    time_t deadline;
    atomic_int cancelled;
    gs_status envelope; /* result of parsing id/cmd/origin/args on arrival */
    bool stop_after_reply;     /* `shutdown`: the agent stops once the reply went out */
    json_object *error_fields; /* more fields of an error reply (retries_left, resume_at), owned */
    struct request *next; /* inflight list */
} request;

/* A new connection on an accepted socket, with one reference (the reader's). */
connection *connection_new(agent *ag, int fd);
/* Takes one more reference (a request's worker). */
void connection_hold(connection *c);
/* Drops one reference; the last one closes the socket. */
void connection_release(connection *c);
/* Sends one frame to the connection (serialised with other writers); takes msg over. */
gs_code connection_send(connection *c, json_object *msg);

/* The reply to a request: a result (taken over), an error, or a progress event. */
void request_reply_result(request *r, json_object *result);
/* An error reply; it carries r->error_fields too (the command's machine-readable state). */
void request_reply_error(request *r, gs_code code, const char *detail);
/* Sets one more field of the request's error reply (takes value over). */
void request_error_field(request *r, const char *key, json_object *value);
void request_event(request *r, const char *event, json_object *data);

/*
 * Where the request's PIN dialog goes: the terminal, locale and display the request names (a
 * local program's own, or the browser's display set by gostsign-nmhost), else the agent's
 * startup ones. The strings stay owned by the request and the agent.
 */
struct pinentry_request;
void request_dialog_place(const request *r, struct pinentry_request *req);

/* Registry of requests in flight, for cancel. */
void request_register(request *r);
void request_unregister(request *r);
/* Marks the request with this id on this connection cancelled; 0 when found. */
int request_cancel_by_id(connection *c, const char *id_text);

/*
 * Parks the upload of a chunked request until its next frame. AGENT_BUSY when the connection
 * or the agent already holds as many as allowed; the caller keeps (and frees) up then.
 */
gs_code request_park_upload(request *r, upload *up, gs_status *st);
/* Takes over the upload of an earlier frame of the same id on the same connection, if any. */
upload *request_take_upload(request *r);
/* Frees the connection's parked uploads older than max_age seconds (all with max_age < 0). */
void connection_expire_uploads(connection *c, time_t now, long max_age);

#endif
