/*
 * Client side of the agent protocol, for the gostsign command and gostsign-nmhost: connects to
 * the agent socket (starting the agent on demand), sends requests and collects replies.
 */
#ifndef GOSTSIGN_AGENT_CLIENT_H
#define GOSTSIGN_AGENT_CLIENT_H

#include <json-c/json.h>

#include "gost.h"

typedef struct agent_conn agent_conn;

/* $GOSTSIGN_AGENT_SOCKET, else $XDG_RUNTIME_DIR/gostsign/agent.sock. */
gs_code agent_socket_path(char *out, size_t cap, gs_status *st);

/*
 * One connection attempt to the agent socket at path: the socket directory must be safe and the
 * listener must run as this user (socket_safety.h). The fd, or -1 with st set (AGENT_UNAVAILABLE
 * with errno from connect, or AGENT_SOCKET_UNSAFE with errno EPERM).
 */
int agent_socket_connect(const char *path, gs_status *st);

/* Path of program `name` in the directory of the running executable; 0 when it is there. */
int agent_sibling_program(const char *name, char *out, size_t cap);

/*
 * A helper program: next to the running executable first (a build tree), else `dir`/`name`
 * (the installed libexec folder); 0 when it is there and executable.
 */
int agent_helper_program(const char *name, const char *dir, char *out, size_t cap);

/*
 * This process's environment for a program it starts: without the variables whose
 * "NAME=" prefixes are listed in `dropped` (NULL-terminated), with `added` ("NAME=value", may be
 * NULL) at the end. The strings are borrowed; free() the array. NULL when out of memory.
 */
char **agent_environ_replacing(const char *const dropped[], const char *added);

/*
 * Connects; when nobody listens and autostart is set, starts gostsign-agent and retries. An
 * unsafe socket (AGENT_SOCKET_UNSAFE) is never used and never answered by starting an agent.
 */
agent_conn *agent_connect(int autostart, gs_status *st);
void agent_disconnect(agent_conn *c);

/*
 * Whether this connection's agent_connect started the agent: it reported readiness (listening)
 * just before the connect, so it is a fresh process, not one being torn down.
 */
int agent_conn_started_agent(const agent_conn *c);

/* Ends the agent_conn but keeps its socket open: returns the fd, which the caller now owns. */
int agent_conn_release_fd(agent_conn *c);

/* Progress events ({"event": ...}) of a request, as they arrive. */
typedef void (*agent_event_fn)(void *ctx, const char *event, json_object *data);

/*
 * Sends {"id", "cmd", "origin", "args"} (args is taken over, may be NULL) and waits for the
 * reply with the same id. OK gives *result (new reference); an error reply gives its code and
 * detail in st. A closed connection gives AGENT_UNAVAILABLE.
 */
gs_code agent_call(agent_conn *c, const char *cmd, const char *origin, json_object *args,
                   agent_event_fn on_event, void *ctx, json_object **result, gs_status *st);

/* Same, with an explicit request id (chunked uploads reuse one id over several frames). */
gs_code agent_call_id(agent_conn *c, long id, const char *cmd, const char *origin,
                      json_object *args, agent_event_fn on_event, void *ctx, json_object **result,
                      gs_status *st);

/* Waits for the event or reply to an earlier frame sent with agent_send_only. */
gs_code agent_send_only(agent_conn *c, long id, const char *cmd, const char *origin,
                        json_object *args, gs_status *st);

/*
 * Adds where this program runs to the args of a PIN-gated request (docs/protocol.md, "Where the
 * PIN dialog appears"): its terminal (ttyname, ttytype, lc_ctype) and its display, so the agent's
 * pinentry-tty/-curses draws on the user's terminal as gpg-agent's does. Returns args (created
 * when NULL). Local programs only: the agent refuses a terminal from web pages.
 */
json_object *agent_dialog_args(json_object *args);

/* A fresh request id for this connection. */
long agent_next_id(agent_conn *c);

/* The process id of the agent at the other end (SO_PEERCRED), or -1. */
int agent_conn_peer_pid(const agent_conn *c);

/* The socket path the client uses. */
const char *agent_conn_path(const agent_conn *c);

#endif
