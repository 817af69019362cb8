/* Agent protocol client: socket connection, on-demand start, request/reply matching. */
#include "agent_client.h"
#include "frame.h"
#include "socket_safety.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AGENT_START_WAIT_MS 5000
#define CLIENT_FRAME_LIMIT  (64u * 1024u * 1024u)

/* The one rule for the socket path, shared by the agent and its clients. */
gs_code agent_socket_path(char *out, size_t cap, gs_status *st)
{
    const char *explicit_path = getenv("GOSTSIGN_AGENT_SOCKET");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    int n;
    if (explicit_path && *explicit_path)
        n = snprintf(out, cap, "%s", explicit_path);
    else if (runtime && *runtime)
        n = snprintf(out, cap, "%s/gostsign/agent.sock", runtime);
    else
        return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE,
                       "XDG_RUNTIME_DIR is not set; cannot place the agent socket");
    if (n <= 0 || (size_t)n >= cap || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "agent socket path is too long");
    return GS_ERR_OK;
}

struct agent_conn {
    int fd;
    long next_id;
    int started_agent; /* this connect started the agent that answers on fd */
    char path[512];
};

/* A plain connect to a Unix socket path; the fd, or -1 with errno. */
static int connect_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return -1;
}

/* Connects only through a directory of ours, and keeps the fd only when we listen on it. */
int agent_socket_connect(const char *path, gs_status *st)
{
    char dir[512];
    if (agent_socket_dir_of(path, dir, sizeof(dir)) != 0) {
        gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "agent socket path is too long");
        errno = ENAMETOOLONG;
        return -1;
    }
    if (agent_socket_dir_check(dir, st) != GS_ERR_OK)
        return -1;
    int fd = connect_unix(path);
    if (fd < 0) {
        int saved = errno;
        gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "%s: %s", path, strerror(saved));
        errno = saved;
        return -1;
    }
    if (agent_socket_peer_check(fd, path, st) != GS_ERR_OK) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

int agent_sibling_program(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    int len = snprintf(out, cap, "%s/%s", self, name);
    return len > 0 && (size_t)len < cap && access(out, X_OK) == 0 ? 0 : -1;
}

int agent_helper_program(const char *name, const char *dir, char *out, size_t cap)
{
    if (agent_sibling_program(name, out, cap) == 0)
        return 0;
    int len = snprintf(out, cap, "%s/%s", dir, name);
    return len > 0 && (size_t)len < cap && access(out, X_OK) == 0 ? 0 : -1;
}

/* gostsign-agent from $GOSTSIGN_AGENT_BIN, else next to this program, else from PATH. */
static void agent_binary(char *out, size_t cap)
{
    const char *env = getenv("GOSTSIGN_AGENT_BIN");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else if (agent_sibling_program("gostsign-agent", out, cap) != 0)
        snprintf(out, cap, "gostsign-agent");
}

/*
 * A private readiness channel for an agent this process starts: a datagram socket in the
 * abstract namespace, named in the agent's NOTIFY_SOCKET. The agent says READY=1 there
 * (sd_notify) right after it reports readiness to its launcher, so the client can connect
 * while the launcher, which holds every library of the agent, is still being torn down.
 */
typedef struct {
    int fd;
    char env[16 + sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "NOTIFY_SOCKET=@..." */
} start_notify;

/* Binds the channel; -1 when it cannot be had (the client then waits for the launcher). */
static int notify_open(start_notify *n)
{
    static unsigned counter;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "gostsign-start-%ld-%ld-%u",
                       (long)getpid(), (long)now.tv_nsec, counter++);
    snprintf(n->env, sizeof(n->env), "NOTIFY_SOCKET=@%s", sa.sun_path + 1);
    int one = 1;
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (n->fd >= 0 && setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0 &&
        bind(n->fd, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len)) == 0)
        return 0;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    return -1;
}

/* Whether env is one of the variables named by the "NAME=" prefixes. */
static bool environ_entry_dropped(const char *env, const char *const dropped[])
{
    for (size_t i = 0; dropped[i]; i++)
        if (strncmp(env, dropped[i], strlen(dropped[i])) == 0)
            return true;
    return false;
}

char **agent_environ_replacing(const char *const dropped[], const char *added)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!environ_entry_dropped(environ[i], dropped))
            env[k++] = environ[i];
    if (added)
        env[k++] = (char *)added;
    env[k] = NULL;
    return env;
}

/*
 * This process's environment for the agent: the caller's own NOTIFY_SOCKET (a service manager
 * waiting for the caller) is left out, ours put in when we have one. NULL when out of memory.
 */
static char **agent_environment(const char *notify_env)
{
    static const char *const dropped[] = { "NOTIFY_SOCKET=", NULL };
    return agent_environ_replacing(dropped, notify_env);
}

/* Whether the next datagram on the channel says READY=1 and comes from this user. */
static bool ready_datagram(int fd)
{
    char buf[512];
    char control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { buf, sizeof(buf) - 1 };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)
    };
    ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (got <= 0)
        return false;
    buf[got] = '\0';
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
        return false;
    struct ucred cred;
    memcpy(&cred, CMSG_DATA(c), sizeof(cred));
    if (cred.uid != geteuid())
        return false;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strcmp(line, "READY=1") == 0)
            return true;
    return false;
}

/* Reaps the launcher once it has gone, without making the client wait for it. */
static void *reap_launcher(void *arg)
{
    waitpid((pid_t)(intptr_t)arg, NULL, 0);
    return NULL;
}

/* Hands the launcher to a detached thread; reaps it here when no thread can be had. */
static void reap_later(pid_t pid)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, reap_launcher, (void *)(intptr_t)pid) != 0)
        waitpid(pid, NULL, 0);
    pthread_attr_destroy(&attr);
}

/* The launcher of --daemon exits once the daemon listens (0) or failed (its error number). */
static int wait_for_launcher(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * Starts the agent the old way, for when no readiness channel can be had: it daemonizes
 * itself (--daemon) and its launcher's exit says how the start went.
 */
static int start_agent_daemonized(const char *bin, char **env)
{
    char *const argv[] = { (char *)bin, "--daemon", NULL };
    pid_t pid = fork();
    if (pid == 0) {
        execvpe(bin, argv, env);
        _exit(127);
    }
    return pid > 0 ? wait_for_launcher(pid) : -1;
}

/*
 * Spawns the agent in a session of its own (POSIX_SPAWN_SETSID: no fork of this process and
 * none in the agent, which --detached tells to stay where it is), with the stop signals and
 * SIGPIPE at their defaults and none blocked, whatever this process does with them.
 */
static pid_t spawn_detached(const char *bin, char **env)
{
    char *const argv[] = { (char *)bin, "--detached", NULL };
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    const int reset[] = { SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD };
    for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
        sigaddset(&defaults, reset[i]);
    pid_t pid = -1;
    if (posix_spawnattr_init(&attr) != 0)
        return -1;
    if (posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setsigmask(&attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&attr, &defaults) != 0 ||
        posix_spawnp(&pid, bin, NULL, &attr, argv, env) != 0)
        pid = -1;
    posix_spawnattr_destroy(&attr);
    return pid;
}

/* Whether something accepts on path now (an agent that never says READY=1). */
static bool socket_accepts(const char *path)
{
    int fd = connect_unix(path);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/*
 * Waits for a spawned agent's READY=1 on the channel, or its death. Every AGENT_START_WAIT_MS
 * of silence it looks whether the socket accepts (an agent that does not notify); an agent that
 * is alive but slow (a module that takes long to initialize) is waited for, as the launcher of
 * --daemon was, so no second agent is started beside it. The agent is our child: a thread
 * waits for its end, whenever that is.
 */
static int wait_for_spawned(pid_t pid, int notify_fd, const char *path)
{
    int pidfd = pidfd_open(pid, 0), rc = -1;
    struct pollfd fds[2] = { { .fd = notify_fd, .events = POLLIN },
                             { .fd = pidfd, .events = POLLIN } };
    for (;;) {
        int n = poll(fds, 2, AGENT_START_WAIT_MS); /* a -1 fd (no pidfd) is left out by poll */
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && (fds[0].revents & POLLIN) && ready_datagram(notify_fd)) {
            rc = 0;
            break;
        }
        if (n > 0 && (fds[1].revents & POLLIN))
            break; /* it died before it was ready */
        if (n == 0 && socket_accepts(path)) {
            rc = 0;
            break;
        }
        if (n == 0 && pidfd < 0)
            break; /* silent and not accepting, and no pidfd to see it die: no endless wait */
        if (n < 0)
            break;
    }
    if (pidfd >= 0)
        close(pidfd);
    reap_later(pid);
    return rc;
}

/*
 * Starts the agent and waits until it is ready: spawned straight into a session of its own
 * and heard on a private channel (READY=1), or, without a channel, daemonized as before.
 */
static int start_agent(const char *path)
{
    char bin[PATH_MAX];
    agent_binary(bin, sizeof(bin));
    start_notify notify;
    int have_notify = notify_open(&notify) == 0;
    char **env = agent_environment(have_notify ? notify.env : NULL);
    int rc = -1;
    if (env && have_notify) {
        pid_t pid = spawn_detached(bin, env);
        rc = pid > 0 ? wait_for_spawned(pid, notify.fd, path) : -1;
    } else if (env) {
        rc = start_agent_daemonized(bin, env);
    }
    free(env);
    if (have_notify)
        close(notify.fd);
    return rc;
}

/* Nobody listens yet (no directory, no socket, a stale socket): worth starting the agent. */
static int nobody_listens(const gs_status *st, int err)
{
    return st->code == GS_ERR_AGENT_UNAVAILABLE && (err == ENOENT || err == ECONNREFUSED);
}

/*
 * The agent we started reported readiness (it listens before its parent exits), so the first
 * connect normally succeeds at once; under systemd or a slow disk we retry with naps from 1 ms,
 * doubling up to 50 ms, never a fixed sleep before the first try.
 */
static int connect_after_start(const char *path, gs_status *st)
{
    long nap_us = 1000, waited_us = 0;
    int fd = agent_socket_connect(path, st);
    while (fd < 0 && st->code != GS_ERR_AGENT_SOCKET_UNSAFE &&
           waited_us < AGENT_START_WAIT_MS * 1000L) {
        struct timespec ts = { 0, nap_us * 1000 };
        nanosleep(&ts, NULL);
        waited_us += nap_us;
        nap_us = nap_us * 2 > 50000 ? 50000 : nap_us * 2;
        fd = agent_socket_connect(path, st);
    }
    return fd;
}

agent_conn *agent_connect(int autostart, gs_status *st)
{
    char path[512];
    if (agent_socket_path(path, sizeof(path), st) != GS_ERR_OK)
        return NULL;
    int fd = agent_socket_connect(path, st);
    int started = 0;
    if (fd < 0 && autostart && nobody_listens(st, errno)) {
        if (start_agent(path) == 0) {
            started = 1;
            fd = connect_after_start(path, st);
        } else {
            fd = agent_socket_connect(path, st); /* another client's agent may have won */
        }
    }
    if (fd < 0)
        return NULL;
    gs_status_clear(st);
    agent_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "agent connection");
        return NULL;
    }
    c->fd = fd;
    c->next_id = 1;
    c->started_agent = started;
    snprintf(c->path, sizeof(c->path), "%s", path);
    return c;
}

void agent_disconnect(agent_conn *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c);
}

int agent_conn_started_agent(const agent_conn *c)
{
    return c->started_agent;
}

int agent_conn_release_fd(agent_conn *c)
{
    int fd = c->fd;
    free(c);
    return fd;
}

long agent_next_id(agent_conn *c)
{
    return c->next_id++;
}

int agent_conn_peer_pid(const agent_conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return -1;
    return (int)cred.pid;
}

const char *agent_conn_path(const agent_conn *c)
{
    return c->path;
}

gs_code agent_send_only(agent_conn *c, long id, const char *cmd, const char *origin,
                        json_object *args, gs_status *st)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "id", json_object_new_int64(id));
    json_object_object_add(req, "cmd", json_object_new_string(cmd));
    if (origin)
        json_object_object_add(req, "origin", json_object_new_string(origin));
    if (args)
        json_object_object_add(req, "args", args);
    gs_code rc = gs_frame_write(c->fd, req, CLIENT_FRAME_LIMIT, st);
    json_object_put(req);
    return rc;
}

/* Turns an error reply into a status: the code by name, plus the agent's detail. */
static gs_code error_from_reply(json_object *reply, gs_status *st)
{
    json_object *err, *code, *detail;
    const gs_error_info *info = NULL;
    if (json_object_object_get_ex(reply, "error", &err) &&
        json_object_object_get_ex(err, "code", &code))
        info = gs_error_by_name(json_object_get_string(code));
    const char *d =
        json_object_object_get_ex(err, "detail", &detail) ? json_object_get_string(detail) : NULL;
    return gs_fail(st, info ? info->code : GS_ERR_INTERNAL, "%s", d ? d : "");
}

/* Reads frames until the reply to id; events go to on_event. */
static gs_code wait_reply(agent_conn *c, long id, agent_event_fn on_event, void *ctx,
                          json_object **result, gs_status *st)
{
    for (;;) {
        json_object *msg = NULL, *v;
        gs_code rc = gs_frame_read_fd(c->fd, CLIENT_FRAME_LIMIT, &msg, st);
        if (rc != GS_ERR_OK)
            return rc;
        if (!msg)
            return gs_fail(st, GS_ERR_AGENT_UNAVAILABLE, "the agent closed the connection");
        int ours = json_object_object_get_ex(msg, "id", &v) && json_object_get_int64(v) == id;
        if (!ours && json_object_object_get_ex(msg, "error", &v) && json_object_get_type(v)) {
            /* an error without our id ends the conversation (e.g. PEER_REFUSED) */
            rc = error_from_reply(msg, st);
            json_object_put(msg);
            return rc;
        }
        if (ours && json_object_object_get_ex(msg, "event", &v)) {
            json_object *data = NULL;
            json_object_object_get_ex(msg, "data", &data);
            if (on_event)
                on_event(ctx, json_object_get_string(v), data);
            int next_chunk = strcmp(json_object_get_string(v), "chunk-accepted") == 0;
            json_object_put(msg);
            if (next_chunk)
                return GS_ERR_OK; /* the caller sends the next chunk */
            continue;
        }
        if (!ours) {
            json_object_put(msg);
            continue;
        }
        json_object_object_get_ex(msg, "ok", &v);
        rc = json_object_get_boolean(v) ? GS_ERR_OK : error_from_reply(msg, st);
        if (rc == GS_ERR_OK && result && json_object_object_get_ex(msg, "result", &v))
            *result = json_object_get(v);
        json_object_put(msg);
        return rc;
    }
}

gs_code agent_call_id(agent_conn *c, long id, const char *cmd, const char *origin,
                      json_object *args, agent_event_fn on_event, void *ctx, json_object **result,
                      gs_status *st)
{
    if (result)
        *result = NULL;
    gs_code rc = agent_send_only(c, id, cmd, origin, args, st);
    return rc == GS_ERR_OK ? wait_reply(c, id, on_event, ctx, result, st) : rc;
}

gs_code agent_call(agent_conn *c, const char *cmd, const char *origin, json_object *args,
                   agent_event_fn on_event, void *ctx, json_object **result, gs_status *st)
{
    return agent_call_id(c, agent_next_id(c), cmd, origin, args, on_event, ctx, result, st);
}

/* Adds one string field when the value is set and short enough for the protocol. */
static void add_place(json_object *args, const char *key, const char *value)
{
    if (value && *value && strlen(value) < 256)
        json_object_object_add(args, key, json_object_new_string(value));
}

/* The terminal of this process: $GPG_TTY as gpg does, else the first of stdin/stderr/stdout. */
static const char *own_terminal(void)
{
    const char *env = getenv("GPG_TTY");
    if (env && *env && strncmp(env, "/dev/", 5) == 0)
        return env;
    static const int fds[] = { STDIN_FILENO, STDERR_FILENO, STDOUT_FILENO };
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (isatty(fds[i]))
            return ttyname(fds[i]);
    return NULL;
}

/* The first locale variable that is set, as setlocale would pick LC_CTYPE. */
static const char *own_ctype(void)
{
    const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return v;
    }
    return NULL;
}

json_object *agent_dialog_args(json_object *args)
{
    if (!args)
        args = json_object_new_object();
    const char *tty = own_terminal();
    if (tty) {
        add_place(args, "ttyname", tty);
        add_place(args, "ttytype", getenv("TERM"));
    }
    add_place(args, "lc_ctype", own_ctype());
    add_place(args, "display", getenv("DISPLAY"));
    add_place(args, "wayland_display", getenv("WAYLAND_DISPLAY"));
    return args;
}
