/*
 * gostsign-nmhost: the process a browser starts for the gostsign extension (native messaging).
 * It reads requests from the browser on stdin, checks each one (nmhost_core.c) and relays it to
 * gostsign-agent over the agent socket, starting the agent when nobody listens; replies and
 * progress events travel back to stdout. The main thread reads the browser; one reader thread
 * per agent connection reads the agent, so replies arrive while a PIN dialog is open and a
 * `cancel` can overtake a pending `sign`. The host never sees a PIN.
 */
#include "agent.h"
#include "gostsign_version.h"
#include "nmhost.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The agent sends at most 8 MiB frames; anything larger means it is out of step. */
#define AGENT_READ_LIMIT (16u * 1024u * 1024u)

/* A request sent to the agent and not answered yet (so a dying agent can fail it). */
typedef struct pending {
    char id_text[NM_ID_TEXT_MAX];
    json_object *id;
    struct pending *next;
} pending;

typedef struct {
    pthread_mutex_t out_lock; /* one writer at a time on stdout */
    pthread_mutex_t lock;     /* agent_fd, agent_dead, reader_started, the pending list */
    int agent_fd;             /* -1: not connected */
    int agent_dead;           /* the reader saw the connection end */
    int reader_started;
    pthread_t reader;
    pending *pending;
} relay;

/* Writes one message to the browser; a browser that went away ends the host. */
static void to_browser(relay *r, json_object *msg)
{
    gs_status st;
    gs_reply_for_page(msg); /* our own errors name no socket or path to the page */
    pthread_mutex_lock(&r->out_lock);
    gs_code rc = gs_frame_write(STDOUT_FILENO, msg, GS_FRAME_MAX_TO_BROWSER, &st);
    pthread_mutex_unlock(&r->out_lock);
    json_object_put(msg);
    if (rc == GS_ERR_IO_ERROR)
        _exit(0); /* stdout closed: the browser is gone */
}

/* Writes an agent body to the browser as is (it was checked already). */
static void raw_to_browser(relay *r, const char *body, size_t len)
{
    gs_status st;
    pthread_mutex_lock(&r->out_lock);
    gs_code rc = gs_frame_write_raw(STDOUT_FILENO, body, len, GS_FRAME_MAX_TO_BROWSER, &st);
    pthread_mutex_unlock(&r->out_lock);
    if (rc == GS_ERR_IO_ERROR)
        _exit(0);
}

/* Remembers a request id until its reply (chunks reuse an id: listed once). Caller locks. */
static void pending_add(relay *r, const char *id_text, json_object *id)
{
    for (pending *p = r->pending; p; p = p->next)
        if (strcmp(p->id_text, id_text) == 0)
            return;
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    snprintf(p->id_text, sizeof(p->id_text), "%s", id_text);
    p->id = json_object_get(id);
    p->next = r->pending;
    r->pending = p;
}

/* Forgets a request once its final reply went out. Caller locks. */
static void pending_remove(relay *r, const char *id_text)
{
    for (pending **pp = &r->pending; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id_text, id_text) == 0) {
            pending *p = *pp;
            *pp = p->next;
            json_object_put(p->id);
            free(p);
            return;
        }
}

/* The agent went away: every unanswered request ends with AGENT_UNAVAILABLE. Caller locks. */
static void pending_fail_all(relay *r)
{
    while (r->pending) {
        pending *p = r->pending;
        r->pending = p->next;
        to_browser(r, gs_reply_error(p->id, GS_ERR_AGENT_UNAVAILABLE,
                                     "the connection to gostsign-agent was lost"));
        json_object_put(p->id);
        free(p);
    }
}

/* Reader thread: agent -> browser until the connection ends. */
static void *agent_reader(void *arg)
{
    relay *r = arg;
    gs_frame_source src = gs_frame_source_fd(r->agent_fd);
    for (;;) {
        char *body = NULL, id_text[NM_ID_TEXT_MAX];
        size_t len = 0;
        gs_status st;
        if (gs_frame_read_raw(&src, AGENT_READ_LIMIT, &body, &len, &st) != GS_ERR_OK || !body)
            break;
        json_object *replacement = NULL;
        bool final = false;
        if (nm_check_agent_message(body, len, &replacement, &final, id_text, sizeof(id_text)))
            raw_to_browser(r, body, len);
        else
            to_browser(r, replacement);
        free(body);
        if (final && id_text[0]) {
            pthread_mutex_lock(&r->lock);
            pending_remove(r, id_text);
            pthread_mutex_unlock(&r->lock);
        }
    }
    pthread_mutex_lock(&r->lock);
    r->agent_dead = 1;
    pending_fail_all(r);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/*
 * One connection attempt: the socket, or a fresh agent started on demand (agent_connect never
 * starts one beside another user's socket, nor uses it). *fresh tells that this attempt started
 * the agent and holds the connection made right after its readiness.
 */
static int connect_once(bool *fresh, gs_status *st)
{
    *fresh = false;
    agent_conn *c = agent_connect(1, st);
    if (!c)
        return -1;
    *fresh = agent_conn_started_agent(c);
    return agent_conn_release_fd(c);
}

/*
 * Whether the agent on fd answers `hello`. An agent that was just killed can still accept a
 * connection into its backlog while its process is torn down; such a connection dies unanswered,
 * and a page request sent on it would fail although a new agent is a moment away.
 */
static bool connection_answers(int fd)
{
    gs_status st;
    json_object *hello = json_object_new_object(), *reply = NULL;
    json_object_object_add(hello, "id", json_object_new_string("nmhost-probe"));
    json_object_object_add(hello, "cmd", json_object_new_string("hello"));
    struct timeval limit = { 5, 0 }, none = { 0, 0 }; /* a hung agent must not hang the host */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    bool ok = gs_frame_write(fd, hello, 4096, &st) == GS_ERR_OK &&
              gs_frame_read_fd(fd, AGENT_READ_LIMIT, &reply, &st) == GS_ERR_OK && reply;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    json_object_put(hello);
    json_object_put(reply);
    return ok;
}

/*
 * An fd connected to a live agent, starting the agent on demand through the shared client
 * (agent_connect with autostart), which knows how to find and launch gostsign-agent. An agent
 * found running is asked `hello` first (connection_answers); one this host has just started
 * is not: it reported readiness after listening, so the page's own first request goes first.
 */
static int open_agent(gs_status *st)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        bool fresh = false;
        int fd = connect_once(&fresh, st);
        if (fd < 0 || fresh || connection_answers(fd))
            return fd;
        close(fd);
        struct timespec nap = { 0, 100 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "the agent does not answer");
    return -1;
}

/* Drops a connection whose reader has ended. Caller locks. */
static void drop_dead_connection(relay *r)
{
    pthread_t t = r->reader;
    int started = r->reader_started;
    r->reader_started = 0;
    pthread_mutex_unlock(&r->lock);
    if (started)
        pthread_join(t, NULL);
    pthread_mutex_lock(&r->lock);
    if (r->agent_fd >= 0)
        close(r->agent_fd);
    r->agent_fd = -1;
    r->agent_dead = 0;
}

/* Makes sure a live connection and its reader exist. Caller locks. */
static gs_code ensure_agent(relay *r, gs_status *st)
{
    if (r->agent_dead)
        drop_dead_connection(r);
    if (r->agent_fd >= 0)
        return GS_ERR_OK;
    int fd = open_agent(st);
    if (fd < 0)
        return st->code ? st->code : gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "agent socket");
    r->agent_fd = fd;
    if (pthread_create(&r->reader, NULL, agent_reader, r) != 0) {
        close(fd);
        r->agent_fd = -1;
        return gs_fail(st, GS_ERR_INTERNAL, "cannot start the reader thread");
    }
    r->reader_started = 1;
    return GS_ERR_OK;
}

/* Sends a checked request to the agent, or answers it with AGENT_UNAVAILABLE. */
static void forward(relay *r, json_object *req, const char *id_text)
{
    gs_status st;
    gs_status_clear(&st);
    json_object *id = NULL;
    json_object_object_get_ex(req, "id", &id);
    pthread_mutex_lock(&r->lock);
    gs_code rc = ensure_agent(r, &st);
    if (rc == GS_ERR_OK) {
        pending_add(r, id_text, id);
        rc = gs_frame_write(r->agent_fd, req, GS_FRAME_MAX_FROM_BROWSER + 4096, &st);
        if (rc != GS_ERR_OK) {
            pending_remove(r, id_text);
            rc = gs_fail(&st, GS_ERR_AGENT_UNAVAILABLE, "the agent connection failed");
        }
    }
    if (rc != GS_ERR_OK)
        to_browser(r, gs_reply_error(id, rc, st.detail[0] ? st.detail : NULL));
    pthread_mutex_unlock(&r->lock);
}

/* The browser closed stdin: stop the reader and release the connection. */
static void relay_close(relay *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->agent_fd >= 0)
        shutdown(r->agent_fd, SHUT_RDWR);
    int started = r->reader_started;
    pthread_mutex_unlock(&r->lock);
    if (started)
        pthread_join(r->reader, NULL);
    if (r->agent_fd >= 0)
        close(r->agent_fd);
    while (r->pending) {
        pending *p = r->pending;
        r->pending = p->next;
        json_object_put(p->id);
        free(p);
    }
}

/*
 * Serves a caller that is not on the allow-list: every request is answered with the refusal,
 * and the agent is never contacted.
 */
static int serve_refused(relay *r, const gs_status *why)
{
    gs_frame_source src = gs_frame_source_fd(STDIN_FILENO);
    for (;;) {
        json_object *out = NULL, *id = NULL;
        char id_text[NM_ID_TEXT_MAX];
        nm_action act = nm_from_browser(&src, &out, id_text, sizeof(id_text));
        if (act == NM_CLOSE)
            return 0;
        if (act == NM_FORWARD) {
            json_object_object_get_ex(out, "id", &id);
            json_object *refusal = gs_reply_error(id, why->code, why->detail);
            json_object_put(out);
            out = refusal;
        }
        to_browser(r, out);
        if (act == NM_REPLY_AND_CLOSE)
            return 1;
    }
}

/* The relay loop: browser -> agent until the browser closes the pipe or the stream breaks. */
static int serve(relay *r)
{
    gs_frame_source src = gs_frame_source_fd(STDIN_FILENO);
    int status = 0;
    for (;;) {
        json_object *out = NULL;
        char id_text[NM_ID_TEXT_MAX];
        nm_action act = nm_from_browser(&src, &out, id_text, sizeof(id_text));
        if (act == NM_CLOSE)
            break;
        if (act == NM_FORWARD) {
            forward(r, out, id_text);
            json_object_put(out);
            continue;
        }
        to_browser(r, out);
        if (act == NM_REPLY_AND_CLOSE) {
            status = 1;
            break;
        }
    }
    relay_close(r);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("gostsign-nmhost %s (%s)\n", GOSTSIGN_VERSION, NM_HOST_NAME);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    static relay r = { .out_lock = PTHREAD_MUTEX_INITIALIZER,
                       .lock = PTHREAD_MUTEX_INITIALIZER,
                       .agent_fd = -1 };
    gs_status st;
    gs_status_clear(&st);
    nm_caller caller;
    nm_allowlist allow;
    nm_allowlist_defaults(&allow);
    gs_code rc = nm_caller_from_args(argc, argv, &caller, &st);
    if (rc == GS_ERR_OK)
        rc = nm_allowlist_load_all(&allow, &st);
    if (rc == GS_ERR_OK)
        rc = nm_caller_check(&allow, &caller, &st);
    nm_allowlist_free(&allow);
    if (rc != GS_ERR_OK) {
        fprintf(stderr, "gostsign-nmhost: %s: %s\n", gs_error_lookup(rc)->name, st.detail);
        return serve_refused(&r, &st);
    }
    return serve(&r);
}
