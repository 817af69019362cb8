/*
 * The agent's idle shrink: after idle_shrink_seconds with nothing under way the agent execs
 * gostsign-agent-listener in its own process (same pid, same listening socket), which holds
 * the socket with libc alone and execs the agent again for the next client (listener_main.c).
 * An idle agent thus costs about what a sleeping process costs, without giving up its socket.
 */
#ifndef GOSTSIGN_AGENT_IDLE_SHRINK_H
#define GOSTSIGN_AGENT_IDLE_SHRINK_H

#include <limits.h>

#include <json-c/json.h>

/* The default of idle_shrink_seconds: long enough for a sign-in's several requests. */
#define AGENT_IDLE_SHRINK_DEFAULT_SECONDS 10

typedef struct {
    char agent_path[PATH_MAX];    /* this program, to come back as */
    char listener_path[PATH_MAX]; /* gostsign-agent-listener; "" when it is not installed */
} idle_shrink_paths;

/*
 * Finds this program and the listener: next to this program first (a build tree), then the
 * installed GOSTSIGN_LIBEXECDIR. 0 when both are there, -1 (listener_path "") otherwise.
 */
int idle_shrink_find(idle_shrink_paths *paths);

/*
 * Becomes the listener: listen_fd goes to fd 3, the state (may be NULL) to a memory file on
 * fd 4, and the listener gets own_socket (NULL under systemd), exit_after seconds (0: never)
 * and the agent's command line to come back with (agent_args, NULL-terminated, without the
 * program). The caller blocks the stop signals first: they stay blocked across exec, and the
 * listener opens them while it waits. Returns only when exec failed, with errno set.
 */
void idle_shrink_exec(const idle_shrink_paths *paths, int listen_fd, const char *own_socket,
                      int exit_after, json_object *state, char *const agent_args[]);

/* The state an agent handed on (fd 4 of a resumed agent): parsed, or NULL. Closes the fd. */
json_object *idle_shrink_take_state(int fd);

#endif
