/*
 * gostsign-agent internals: the listening socket and connections (server.c), request dispatch
 * and the read-only commands (dispatch.c), and the PIN-gated commands (signing.c).
 */
#ifndef GOSTSIGN_AGENT_DAEMON_H
#define GOSTSIGN_AGENT_DAEMON_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "gost.h"
#include "pin_limiter.h"
#include "request.h"
#include "token_cache.h"

#define AGENT_PROTOCOL_VERSION 2
/* Frames from clients to the agent: generous, chunks are far smaller. */
#define AGENT_FRAME_LIMIT      (8u * 1024u * 1024u)

/* Idle exit when systemd passed the socket and nothing else says: it starts the agent again. */
#define AGENT_IDLE_EXIT_DEFAULT_SECONDS 300

/*
 * Where the agent itself was started: its terminal, locale and display, the PIN dialog's
 * defaults when a request names none (gpg-agent's "startup tty").
 */
typedef struct {
    char ttyname[128];
    char ttytype[64];
    char lc_ctype[64];
    char display[256];
    char wayland_display[256];
} dialog_defaults;

struct agent {
    agent_config cfg;
    dialog_defaults dialog;
    pin_limiter *limiter;
    token_cache *tokens;
    struct hotplug_monitor *hotplug;       /* udev events for tokens (NULL without udev) */
    struct device_modules *device_modules; /* loads a module while its device is present */
    struct user_origins *user_origins;     /* sites the user allowed from the extension */
    int listen_fd;
    int stop_pipe[2];
    char socket_path[512];
    int owns_socket_file;
    int socket_activated;         /* the listening socket came from systemd (sd_listen_fds) */
    atomic_int idle_exit_seconds; /* exit after this long with nothing under way; 0: never */
    time_t started;
    atomic_int active_requests;
    atomic_int connections;
    atomic_int background_ops;     /* hotplug-driven work under way (agent_background_begin) */
    atomic_llong last_activity_ms; /* CLOCK_MONOTONIC, when the last piece of work ended */
    atomic_uint_fast64_t next_serial;
    pthread_mutex_t inflight_lock;
    request *inflight;   /* requests being processed, for cancel (request.c) */
    size_t parked_bytes; /* content held by parked uploads, all connections (request.c) */
};

/*
 * Parses the envelope and registers the request as in flight, on the reader thread and in
 * arrival order, so a `cancel` sent right after a request always finds it.
 */
void request_accept(request *r);

/* Handles one request on a worker thread and sends its reply. Takes over r. */
/* True when the request was `shutdown`: the caller stops the agent. */
bool dispatch_request(request *r);

/* PIN-gated commands (signing.c). They return a result object or fail through st. */
gs_code command_sign(request *r, json_object **result, gs_status *st);
gs_code command_authenticate(request *r, json_object **result, gs_status *st);
gs_code command_sign_raw(request *r, json_object **result, gs_status *st);
/* `change_pin` and `unblock_pin` (pin_care.c): local programs only, the agent's dialogs. */
gs_code command_change_pin(request *r, json_object **result, gs_status *st);
gs_code command_unblock_pin(request *r, json_object **result, gs_status *st);
/* `verify` (verification.c): no PIN, no dialog. */
gs_code command_verify(request *r, json_object **result, gs_status *st);

/* Reads the startup terminal, locale and display from this process (before it detaches). */
void dialog_defaults_capture(dialog_defaults *d);

/* Server lifecycle (server.c). */
gs_code agent_listen(agent *ag, const char *path, gs_status *st);
/* Serves until stopped (returns 0), idle for idle_exit_seconds (AGENT_SERVE_IDLE), or -1. */
#define AGENT_SERVE_IDLE 1
int agent_serve(agent *ag);
void agent_request_stop(agent *ag);
/* Whether a stop came (SIGTERM, `shutdown`) since the accept loop last looked; drains it. */
bool agent_stop_requested(agent *ag);
void agent_shutdown(agent *ag);

/*
 * Idle exit (server.c). Work that no connection or request accounts for (a hotplug-driven
 * cache refresh) is bracketed with begin/end, so the agent never exits in its middle.
 */
void agent_background_begin(agent *ag);
void agent_background_end(agent *ag);
/* CLOCK_MONOTONIC in milliseconds, the clock of last_activity_ms. */
long long agent_now_ms(void);
/*
 * Milliseconds until the agent may exit for idleness at now_ms: 0 when it may exit now, -1
 * when it never will as things stand (idle exit off, or a connection, a request or background
 * work under way: their end wakes the accept loop to ask again).
 */
long long agent_idle_remaining_ms(agent *ag, long long now_ms);

#endif
