/*
 * The agent's Unix socket: $XDG_RUNTIME_DIR/gostsign/agent.sock (directory 0700, socket 0600),
 * or the socket systemd passes (socket activation). Only peers with the agent's own uid are
 * served (SO_PEERCRED). One thread per connection reads frames; each request runs on its own
 * worker thread so a slow PIN dialog never blocks another client or a `cancel`.
 * With idle exit on, the accept loop returns once no connection, request or background work has
 * been under way for idle_exit_seconds; under socket activation systemd keeps the socket and
 * starts the agent again for the next client.
 */
#include "daemon.h"
#include "frame.h"
#include "recent_errors.h"
#include "request.h"
#include "socket_safety.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

/*
 * Creates the socket's directory 0700, or accepts an existing one only when it is a real
 * directory of ours that nobody else may enter (lstat: a symlink is never followed); it never
 * chmods a directory it did not create: AGENT_SOCKET_UNSAFE instead.
 */
static gs_code prepare_socket_dir(const char *path, gs_status *st)
{
    char dir[512];
    if (agent_socket_dir_of(path, dir, sizeof(dir)) != 0)
        return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "agent socket path is too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "mkdir %s: %s", dir, strerror(errno));
    return agent_socket_dir_check(dir, st);
}

/* True when a live agent already answers on path. */
static int socket_is_live(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    return live;
}

/* Creates, binds and listens on our own socket file. */
static gs_code bind_socket(agent *ag, const char *path, gs_status *st)
{
    if (socket_is_live(path))
        return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "another agent already listens on %s", path);
    unlink(path); /* a stale socket left by a killed agent */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    mode_t old = umask(0177);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    umask(old);
    if (!ok || chmod(path, 0600) != 0 || listen(fd, 64) != 0) {
        gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return st->code;
    }
    ag->listen_fd = fd;
    ag->owns_socket_file = 1;
    return GS_ERR_OK;
}

gs_code agent_listen(agent *ag, const char *path, gs_status *st)
{
    snprintf(ag->socket_path, sizeof(ag->socket_path), "%s", path);
    /* non-blocking both ways: a wake-up never blocks a worker, the loop drains what is there */
    if (pipe2(ag->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return gs_fail(st, GS_ERR_INTERNAL, "pipe: %s", strerror(errno));
    atomic_store(&ag->last_activity_ms, agent_now_ms());
    if (sd_listen_fds(1) == 1) { /* socket activation: systemd already bound it */
        if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
            return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE,
                           "the socket systemd passed is not a listening Unix stream socket");
        ag->listen_fd = SD_LISTEN_FDS_START;
        ag->socket_activated = 1;
        return GS_ERR_OK;
    }
    gs_code rc = prepare_socket_dir(path, st);
    return rc == GS_ERR_OK ? bind_socket(ag, path, st) : rc;
}

long long agent_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wakes the accept loop so it asks again whether the agent is idle (async-signal-safe). */
static void wake_accept_loop(agent *ag)
{
    ssize_t n = write(ag->stop_pipe[1], "w", 1);
    (void)n; /* a full pipe already holds a wake-up */
}

/*
 * A piece of work is ending: the idle clock starts again from now. Stamped before the work's
 * counter drops, so the accept loop never sees the work gone with the old time.
 */
static void stamp_activity(agent *ag)
{
    atomic_store(&ag->last_activity_ms, agent_now_ms());
}

/* After the counter dropped: the accept loop, blocked while work was under way, asks again. */
static void wake_if_idle_exit(agent *ag)
{
    if (ag->idle_exit_seconds > 0)
        wake_accept_loop(ag);
}

void agent_background_begin(agent *ag)
{
    atomic_fetch_add(&ag->background_ops, 1);
}

void agent_background_end(agent *ag)
{
    stamp_activity(ag);
    atomic_fetch_sub(&ag->background_ops, 1);
    wake_if_idle_exit(ag);
}

long long agent_idle_remaining_ms(agent *ag, long long now_ms)
{
    if (ag->idle_exit_seconds <= 0 || atomic_load(&ag->connections) > 0 ||
        atomic_load(&ag->active_requests) > 0 || atomic_load(&ag->background_ops) > 0)
        return -1;
    long long left = atomic_load(&ag->last_activity_ms) + ag->idle_exit_seconds * 1000LL - now_ms;
    return left > 0 ? left : 0;
}

/* Worker thread: one request from start to reply. */
static void *request_worker(void *p)
{
    request *r = p;
    connection *c = r->conn;
    agent *ag = c->ag;
    bool stop = dispatch_request(r);
    stamp_activity(ag);
    atomic_fetch_sub(&c->requests, 1);
    atomic_fetch_sub(&ag->active_requests, 1);
    connection_release(c);
    wake_if_idle_exit(ag);
    if (stop) /* `shutdown`: its reply went out */
        agent_request_stop(ag);
    return NULL;
}

/* Refuses a request over the agent's or the connection's bound, with its own id. */
static int refuse_when_busy(connection *c, request *r)
{
    int per_conn = atomic_load(&c->requests), total = atomic_load(&c->ag->active_requests);
    if (per_conn < AGENT_MAX_REQUESTS_PER_CONNECTION && total < AGENT_MAX_REQUESTS)
        return 0;
    if (r->envelope.code == GS_ERR_OK)
        request_unregister(r);
    connection_send(c, gs_reply_error(r->id, GS_ERR_AGENT_BUSY,
                                      per_conn >= AGENT_MAX_REQUESTS_PER_CONNECTION
                                          ? "too many requests in flight on this connection"
                                          : "too many requests in flight"));
    return 1;
}

/*
 * An intermediate frame of a chunked `sign` (args.chunk with more: true). It is handled on the
 * reader thread, in arrival order, so the next frame of the same upload always finds it parked:
 * on a worker of its own it could lose the race against its successor. Such a frame needs no
 * PIN and no dialog (the signature waits for the last frame), only decoding and hashing.
 */
static int intermediate_chunk(const request *r)
{
    json_object *chunk, *more;
    return r->envelope.code == GS_ERR_OK && strcmp(r->cmd, "sign") == 0 && r->args &&
           json_object_object_get_ex(r->args, "chunk", &chunk) &&
           json_object_object_get_ex(r->args, "more", &more) &&
           json_object_is_type(more, json_type_boolean) && json_object_get_boolean(more);
}

/* Wraps a parsed frame into a request and hands it to a detached worker. */
static void start_request(connection *c, json_object *msg)
{
    request *r = calloc(1, sizeof(*r));
    pthread_t t;
    pthread_attr_t attr;
    if (!r) {
        json_object_put(msg);
        return;
    }
    r->conn = c;
    r->msg = msg;
    request_accept(r);
    if (refuse_when_busy(c, r)) {
        json_object_put(msg);
        free(r);
        return;
    }
    connection_hold(c);
    atomic_fetch_add(&c->requests, 1);
    atomic_fetch_add(&c->ag->active_requests, 1);
    if (intermediate_chunk(r)) {
        request_worker(r);
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, request_worker, r) != 0) {
        if (r->envelope.code == GS_ERR_OK)
            request_unregister(r);
        connection_send(c, gs_reply_error(r->id, GS_ERR_AGENT_BUSY, "cannot start a worker"));
        atomic_fetch_sub(&c->requests, 1);
        atomic_fetch_sub(&c->ag->active_requests, 1);
        connection_release(c);
        json_object_put(msg);
        free(r);
    }
    pthread_attr_destroy(&attr);
}

/* Refuses peers of another uid: the agent holds one user's tokens and PIN dialogs. */
static int peer_allowed(connection *c)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == geteuid())
        return 1;
    connection_send(c, gs_reply_error(NULL, GS_ERR_PEER_REFUSED, NULL));
    recent_errors_add(GS_ERR_PEER_REFUSED, NULL, NULL, time(NULL));
    return 0;
}

/*
 * Waits for the next frame, expiring parked uploads while the peer is quiet: 1 when data (or
 * the end of the stream) is there, 0 on a poll failure.
 */
static int wait_for_frame(connection *c)
{
    struct pollfd pfd = { c->fd, POLLIN, 0 };
    for (;;) {
        int n = poll(&pfd, 1, 1000);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return 0;
        connection_expire_uploads(c, time(NULL), c->ag->cfg.request_timeout_seconds);
    }
}

/*
 * Connection thread: reads frames until the peer stops sending or sends garbage. The end of
 * its stream is not the end of the connection: a client that half-closed still reads the
 * replies of its requests in flight. Its parked uploads can never be continued, so they go.
 */
static void *connection_reader(void *p)
{
    connection *c = p;
    if (peer_allowed(c)) {
        while (wait_for_frame(c)) {
            json_object *msg = NULL;
            gs_status st;
            gs_code rc = gs_frame_read_fd(c->fd, AGENT_FRAME_LIMIT, &msg, &st);
            if (rc == GS_ERR_OK && !msg)
                break; /* the peer stopped sending */
            if (rc == GS_ERR_OK) {
                start_request(c, msg);
                continue;
            }
            connection_send(c, gs_reply_error(NULL, rc, st.detail));
            recent_errors_add(rc, NULL, NULL, time(NULL)); /* a frame no request came of */
            if (rc != GS_ERR_BAD_JSON)
                break; /* the stream is out of step */
        }
    }
    connection_expire_uploads(c, 0, -1);
    agent *ag = c->ag;
    stamp_activity(ag);
    atomic_fetch_sub(&ag->connections, 1);
    connection_release(c);
    wake_if_idle_exit(ag);
    return NULL;
}

/* Accepts one client and starts its reader thread; returns accept's errno, or 0. */
static int accept_client(agent *ag)
{
    int fd = accept4(ag->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return errno;
    if (atomic_load(&ag->connections) >= AGENT_MAX_CONNECTIONS) {
        gs_status st;
        json_object *busy = gs_reply_error(NULL, GS_ERR_AGENT_BUSY, "too many connections");
        gs_frame_write(fd, busy, AGENT_FRAME_LIMIT, &st);
        json_object_put(busy);
        close(fd);
        return 0;
    }
    connection *c = connection_new(ag, fd);
    if (!c) {
        close(fd);
        return ENOMEM;
    }
    atomic_fetch_add(&ag->connections, 1);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, connection_reader, c) != 0) {
        atomic_fetch_sub(&ag->connections, 1);
        connection_release(c);
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* Reads every control byte there is: 1 when one of them asks the loop to stop. */
static int drain_control_pipe(agent *ag)
{
    char buf[64];
    ssize_t n;
    int stop = 0;
    while ((n = read(ag->stop_pipe[0], buf, sizeof(buf))) > 0)
        stop |= memchr(buf, 'x', (size_t)n) != NULL;
    return stop;
}

/* The accept loop's poll timeout: until the idle exit is due, or forever (-1). */
static int idle_poll_timeout(agent *ag)
{
    long long left = agent_idle_remaining_ms(ag, agent_now_ms());
    if (left < 0)
        return -1;
    return left > 1000000 ? 1000000 : (int)left;
}

int agent_serve(agent *ag)
{
    struct pollfd fds[2] = { { ag->listen_fd, POLLIN, 0 }, { ag->stop_pipe[0], POLLIN, 0 } };
    for (;;) {
        int n = poll(fds, 2, idle_poll_timeout(ag));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (fds[1].revents && drain_control_pipe(ag))
            return 0;
        if (!(fds[0].revents & POLLIN)) {
            /* no client waits in the queue: exit if idle long enough (a client arriving from
             * now on waits on systemd's socket for the next agent) */
            if (agent_idle_remaining_ms(ag, agent_now_ms()) == 0)
                return AGENT_SERVE_IDLE;
            continue;
        }
        int err = accept_client(ag);
        if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS)
            poll(NULL, 0, 100); /* out of descriptors: back off instead of spinning */
    }
}

bool agent_stop_requested(agent *ag)
{
    return drain_control_pipe(ag) != 0;
}

void agent_request_stop(agent *ag)
{
    /* async-signal-safe: called from the SIGTERM handler */
    ssize_t n = write(ag->stop_pipe[1], "x", 1);
    (void)n;
}

void agent_shutdown(agent *ag)
{
    if (ag->owns_socket_file)
        unlink(ag->socket_path);
    if (ag->listen_fd >= 0)
        close(ag->listen_fd);
    close(ag->stop_pipe[0]);
    close(ag->stop_pipe[1]);
}
