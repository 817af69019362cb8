/*
 * gostsign-agent-listener: what an idle agent becomes. After idle_shrink_seconds with nothing
 * under way, gostsign-agent execs this program in its own process (same pid, same socket): it
 * holds the listening socket and nothing else (libc only: no OpenSSL, p11-kit, systemd, token
 * state), and when a client connects it execs the agent again, handing the socket over as
 * systemd's socket activation does (fd 3, LISTEN_FDS=1, LISTEN_PID). The client's connection
 * waits in the socket's queue meanwhile and is accepted by the agent.
 *
 * Not a program for people: the agent starts it as
 *   gostsign-agent-listener [--socket PATH] [--exit-after SECONDS] -- AGENT ARGS...
 * with the listening socket on fd 3 and the agent's state (its recent errors) on fd 4 when it
 * has some. --socket names the socket file the agent bound itself (removed when this process
 * stops; under systemd the file is systemd's and stays). --exit-after: with nothing connecting
 * for this long, exit (the agent's idle exit, the part of it not yet served); 0 or none: never.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_FD 3 /* SD_LISTEN_FDS_START: where socket activation puts the socket */
#define STATE_FD  4 /* the agent's state handed from one agent to the next */

/* Exit statuses: the agent's own numbers would need gost/; these two are all there is. */
#define LISTENER_EXIT_USAGE 2
#define LISTENER_EXIT_EXEC  3

static volatile sig_atomic_t stop_signal;

typedef struct {
    const char *socket_path; /* our own socket file, or NULL */
    long exit_after;         /* seconds; 0: never */
    char **agent_argv;       /* what to exec when a client comes */
} listener_options;

/* SIGTERM/SIGINT: stop like the agent does (the flag is read after ppoll returns). */
static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* Reads the command line the agent wrote; 0 on success. */
static int parse_listener_options(int argc, char **argv, listener_options *o)
{
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            o->socket_path = argv[++i];
        } else if (strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc) {
            char *end;
            o->exit_after = strtol(argv[++i], &end, 10);
            if (*end != '\0' || o->exit_after < 0)
                return -1;
        } else {
            return -1;
        }
    }
    if (i + 1 >= argc || argv[i + 1][0] != '/')
        return -1;
    o->agent_argv = argv + i + 1;
    return 0;
}

/* True when fd 3 is a listening Unix stream socket, as the agent hands it over. */
static int listen_fd_usable(void)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type);
    if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
        return 0;
    len = sizeof(listening);
    return getsockopt(LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

/*
 * Removes our socket file on the way out, as the agent does on its own socket: the path it
 * was given is ours. Under systemd (no --socket) the file is systemd's and stays.
 */
static void remove_own_socket(const listener_options *o)
{
    struct stat sb;
    if (o->socket_path && lstat(o->socket_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
        unlink(o->socket_path);
}

/*
 * Hands the socket to a new agent process image: LISTEN_FDS/LISTEN_PID as socket activation
 * sets them (execve keeps the pid), no LISTEN_FDNAMES left from an earlier start. Returns only
 * when exec failed.
 */
static void exec_agent(const listener_options *o)
{
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", pid, 1);
    unsetenv("LISTEN_FDNAMES");
    execv(o->agent_argv[0], o->agent_argv);
    fprintf(stderr, "gostsign-agent-listener: cannot start %s again: %s; the socket closes\n",
            o->agent_argv[0], strerror(errno));
}

/* Milliseconds until the exit is due (from the monotonic start), or -1 for never. */
static int poll_timeout(const listener_options *o, const struct timespec *start)
{
    if (o->exit_after <= 0)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long spent =
        (now.tv_sec - start->tv_sec) * 1000LL + (now.tv_nsec - start->tv_nsec) / 1000000;
    long long left = o->exit_after * 1000LL - spent;
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Waits for a client, a stop signal or the exit time. The signals stay blocked but while
 * ppoll waits, so one arriving between two checks is never lost. Returns 1 when a client is
 * there, 0 to stop.
 */
static int wait_for_client(const listener_options *o)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    sigset_t waiting;
    sigemptyset(&waiting);
    struct pollfd pfd = { LISTEN_FD, POLLIN, 0 };
    for (;;) {
        int timeout_ms = poll_timeout(o, &start);
        if (timeout_ms == 0) /* a client that came at the last moment is still served */
            return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) && !stop_signal;
        struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
        int n = ppoll(&pfd, 1, timeout_ms < 0 ? NULL : &ts, &waiting);
        if (stop_signal)
            return 0;
        if (n > 0 && (pfd.revents & POLLIN))
            return 1;
        if (n > 0 || (n < 0 && errno != EINTR))
            return 0; /* the socket failed: nothing to listen on */
    }
}

/* Blocks the stop signals (ppoll opens them) and routes them to the flag. */
static void catch_stop_signals(void)
{
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, NULL);
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int main(int argc, char **argv)
{
    listener_options o = { 0 };
    catch_stop_signals();
    if (parse_listener_options(argc, argv, &o) != 0 || !listen_fd_usable()) {
        fprintf(stderr, "gostsign-agent-listener: started by gostsign-agent only (listening "
                        "socket on fd 3, then -- AGENT ARGS...)\n");
        return LISTENER_EXIT_USAGE;
    }
    close_range(STATE_FD + 1, ~0U, 0); /* nothing else of the old agent lives on */
    if (wait_for_client(&o)) {
        exec_agent(&o);
        remove_own_socket(&o);
        return LISTENER_EXIT_EXEC;
    }
    if (!stop_signal)
        fprintf(stderr,
                "gostsign-agent: idle %ld s more as gostsign-agent-listener, exiting (pid %ld)\n",
                o.exit_after, (long)getpid());
    remove_own_socket(&o);
    return 0;
}
