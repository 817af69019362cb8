/* The agent's idle shrink into gostsign-agent-listener (see idle_shrink.h). */
#include "idle_shrink.h"
#include "agent_client.h"
#include "gostsign_version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LISTENER_NAME "gostsign-agent-listener"
#define LISTEN_FD     3 /* where socket activation, and so the listener, keeps the socket */
#define STATE_FD      4
#define STATE_MAX     (256 * 1024) /* far more than 50 recent errors take */
#define ARGV_MAX      40

/* This program's path; an upgraded binary's "(deleted)" mark dropped: the new one comes back. */
static int own_path(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    const char *mark = " (deleted)";
    size_t len = (size_t)n, mlen = strlen(mark);
    if (len > mlen && strcmp(out + len - mlen, mark) == 0)
        out[len - mlen] = '\0';
    return 0;
}

int idle_shrink_find(idle_shrink_paths *paths)
{
    paths->listener_path[0] = '\0';
    if (own_path(paths->agent_path, sizeof(paths->agent_path)) != 0 ||
        agent_helper_program(LISTENER_NAME, GOSTSIGN_LIBEXECDIR, paths->listener_path,
                             sizeof(paths->listener_path)) != 0) {
        paths->listener_path[0] = '\0';
        return -1;
    }
    return 0;
}

/* The state as a memory file (no disk, gone with the process), or -1. */
static int state_memory_file(json_object *state)
{
    const char *text = state ? json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN) : NULL;
    if (!text)
        return -1;
    int fd = memfd_create("gostsign-agent-state", MFD_CLOEXEC);
    size_t len = strlen(text);
    if (fd >= 0 && (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Puts fd on target without CLOEXEC, through a copy far above: target may be fd itself or
 * another descriptor we still need.
 */
static int place_fd(int fd, int target)
{
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 64);
    if (high < 0)
        return -1;
    int rc = dup2(high, target) == target ? 0 : -1; /* dup2's copy has no CLOEXEC */
    close(high);
    return rc;
}

void idle_shrink_exec(const idle_shrink_paths *paths, int listen_fd, const char *own_socket,
                      int exit_after, json_object *state, char *const agent_args[])
{
    char *argv[ARGV_MAX];
    char exit_text[16];
    int n = 0, state_fd = state_memory_file(state),
        listen_high = fcntl(listen_fd, F_DUPFD_CLOEXEC, 64);
    snprintf(exit_text, sizeof(exit_text), "%d", exit_after);
    argv[n++] = (char *)paths->listener_path;
    if (own_socket) {
        argv[n++] = "--socket";
        argv[n++] = (char *)own_socket;
    }
    argv[n++] = "--exit-after";
    argv[n++] = exit_text;
    argv[n++] = "--";
    argv[n++] = (char *)paths->agent_path;
    for (int i = 0; agent_args[i] && n < ARGV_MAX - 3; i++)
        argv[n++] = agent_args[i];
    if (state_fd >= 0 && place_fd(state_fd, STATE_FD) == 0) {
        argv[n++] = "--state-fd";
        argv[n++] = "4";
    }
    argv[n] = NULL;
    if (listen_high < 0 || place_fd(listen_high, LISTEN_FD) != 0) {
        errno = EBADF;
        return;
    }
    execv(paths->listener_path, argv);
}

json_object *idle_shrink_take_state(int fd)
{
    char *buf = malloc(STATE_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (buf && len < STATE_MAX && (n = read(fd, buf + len, STATE_MAX - len)) > 0)
        len += (size_t)n;
    close(fd);
    json_object *state = NULL;
    if (buf) {
        buf[len] = '\0';
        state = json_tokener_parse(buf);
        free(buf);
    }
    return json_object_is_type(state, json_type_object) ? state : (json_object_put(state), NULL);
}
