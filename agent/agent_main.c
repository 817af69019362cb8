/*
 * gostsign-agent: the per-user signing agent. Started by systemd socket activation
 * (gostsign-agent.socket) or on demand by its clients; see docs/protocol.md.
 */
#include "daemon.h"
#include "agent_client.h"
#include "gost.h"
#include "device_modules.h"
#include "hotplug.h"
#include "idle_shrink.h"
#include "recent_errors.h"
#include "secmem.h"
#include "user_origins.h"
#include "gostsign_version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#define AGENT_USAGE                                                                                \
    "gostsign-agent [--socket PATH] [--system-config FILE] [--user-config FILE] [--daemon] "       \
    "[--detached] [--idle-exit SECONDS] [--idle-shrink SECONDS]"

static agent *the_agent;

/* SIGTERM/SIGINT: ask the accept loop to return (async-signal-safe). */
static void on_stop_signal(int sig)
{
    (void)sig;
    if (the_agent)
        agent_request_stop(the_agent);
}

typedef struct {
    const char *socket;
    const char *system_config;
    const char *user_config;
    int daemon;
    int detached;    /* --detached: a client spawned us in a session of our own; no fork */
    int idle_exit;   /* --idle-exit SECONDS; -1 when not given */
    int idle_shrink; /* --idle-shrink SECONDS; -1 when not given */
    /* Internal, from gostsign-agent-listener (--resumed own|systemd): the socket on fd 3 is the
     * one this agent bound before it shrank, or systemd's; NOT_RESUMED for a first start. */
    enum { NOT_RESUMED, RESUMED_OWN, RESUMED_SYSTEMD } resumed;
    int state_fd; /* --state-fd: the state the shrunk agent handed on; -1 when none */
} agent_options;

/* Reads a whole number of seconds (0 .. one year) for --idle-exit; 0 on success. */
static int parse_seconds(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 86400L * 365)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses the command line; returns 0, or an exit status to stop with. */
static int parse_options(int argc, char **argv, agent_options *o)
{
    static const struct option opts[] = { { "socket", required_argument, NULL, 's' },
                                          { "system-config", required_argument, NULL, 'c' },
                                          { "user-config", required_argument, NULL, 'u' },
                                          { "daemon", no_argument, NULL, 'd' },
                                          { "detached", no_argument, NULL, 'D' },
                                          { "idle-exit", required_argument, NULL, 'i' },
                                          { "idle-shrink", required_argument, NULL, 'k' },
                                          { "resumed", required_argument, NULL, 'r' },
                                          { "state-fd", required_argument, NULL, 'f' },
                                          { "version", no_argument, NULL, 'V' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int c;
    o->idle_exit = -1;
    o->idle_shrink = -1;
    o->state_fd = -1;
    while ((c = getopt_long(argc, argv, "s:c:u:dVh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->socket = optarg;
            break;
        case 'c':
            o->system_config = optarg;
            break;
        case 'u':
            o->user_config = optarg;
            break;
        case 'd':
            o->daemon = 1;
            break;
        case 'D':
            o->detached = 1;
            break;
        case 'i':
        case 'k':
            if (parse_seconds(optarg, c == 'i' ? &o->idle_exit : &o->idle_shrink) != 0) {
                fprintf(stderr,
                        "usage: %s\n--idle-exit, --idle-shrink: whole seconds, 0 for never\n",
                        AGENT_USAGE);
                return GS_ERR_USAGE;
            }
            break;
        case 'r':
            o->resumed = strcmp(optarg, "own") == 0       ? RESUMED_OWN
                         : strcmp(optarg, "systemd") == 0 ? RESUMED_SYSTEMD
                                                          : NOT_RESUMED;
            if (o->resumed == NOT_RESUMED) {
                fprintf(stderr, "--resumed: own or systemd (gostsign-agent-listener's)\n");
                return GS_ERR_USAGE;
            }
            break;
        case 'f':
            if (parse_seconds(optarg, &o->state_fd) != 0 || o->state_fd < 3) {
                fprintf(stderr, "--state-fd: a descriptor from gostsign-agent-listener\n");
                return GS_ERR_USAGE;
            }
            break;
        case 'V':
            printf("gostsign-agent %s\n", GOSTSIGN_VERSION);
            return -1;
        case 'h':
            printf("usage: %s\n", AGENT_USAGE);
            return -1;
        default:
            fprintf(stderr, "usage: %s\n", AGENT_USAGE);
            return GS_ERR_USAGE;
        }
    }
    return 0;
}

/*
 * The on-demand agent must not keep its caller's terminal or pipe as stderr: `gostsign certs |
 * cat` or a subprocess with captured output would wait for it to close (and read "listening
 * on ..."). A log file the caller chose stays; anything else becomes the journal, else /dev/null.
 */
static void detach_stderr(void)
{
    struct stat sb;
    if (fstat(STDERR_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))
        return;
    int fd = sd_journal_stream_fd("gostsign-agent", LOG_INFO, 0);
    if (fd < 0)
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
}

/* Lets go of the caller's terminal or pipes: stdin and stdout /dev/null, stderr detached. */
static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
    detach_stderr();
}

/*
 * Detaches for on-demand starts while the process is still single-threaded (forking after
 * threads exist can leave the child blocked on a lock another thread held). The original
 * process waits on a pipe and exits only when the daemon is listening (status 0) or has failed
 * (its error number), so the client that started it knows the outcome. Returns the pipe's
 * write end in the daemon, or -1 when not daemonizing.
 */
static int daemonize_early(void)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid > 0) {
        close(ready[1]);
        unsigned char status = GS_ERR_AGENT_UNAVAILABLE;
        ssize_t n;
        while ((n = read(ready[0], &status, 1)) < 0 && errno == EINTR)
            ;
        _exit(n == 1 ? status : GS_ERR_AGENT_UNAVAILABLE);
    }
    if (pid < 0)
        return -1;
    close(ready[0]);
    setsid();
    if (fork() > 0)
        _exit(0);
    detach_stdio();
    return ready[1];
}

/* Tells the waiting original process how the start went. */
static void report_ready(int fd, gs_code rc)
{
    if (fd < 0)
        return;
    unsigned char status = (unsigned char)rc;
    if (write(fd, &status, 1) != 1)
        status = 0;
    close(fd);
}

/* Prints a startup failure with its code, in both languages. */
static int startup_failure(const gs_status *st)
{
    const gs_error_info *e = gs_error_lookup(st->code);
    fprintf(stderr, "gostsign-agent: %s: %s / %s: %s\n", e->name, e->message_ru, e->message_en,
            st->detail);
    return (int)st->code;
}

/*
 * A known token or a smart-card device was plugged in or out: its module is loaded (or its
 * unloading scheduled), the lists are stale now, and once more a second later, when pcscd and
 * the module have caught up (still event-driven: nothing runs while idle). Devices present at
 * the start only need their module: nothing is cached yet.
 */
static void on_token_hotplug(void *ctx, const hotplug_event *ev)
{
    agent *ag = ctx;
    agent_background_begin(ag); /* no idle exit in the middle of it */
    device_modules_event(ag->device_modules, ev);
    if (!ev->initial) {
        token_cache_invalidate(ag->tokens);
        sleep(1);
        token_cache_invalidate(ag->tokens);
    }
    agent_background_end(ag);
}

/* The first mlock failure: signing goes on, but the PIN may reach swap; say so once, no secret. */
static void warn_unlocked_memory(int err)
{
    fprintf(stderr,
            "gostsign-agent: warning: MEMORY_NOT_LOCKED: память для PIN-кода не закреплена / "
            "memory for the PIN cannot be locked (mlock: %s); it may be written to swap. Raise the "
            "locked-memory limit (LimitMEMLOCK= in the unit, ulimit -l).\n",
            strerror(err));
}

/* One locked block at start, so the log and `hello` tell the truth before the first PIN. */
static void probe_secure_memory(void)
{
    secmem_on_lock_failure(warn_unlocked_memory);
    secmem_free(secmem_alloc(1));
}

/* Loads the configuration, the limiter and the token layer. */
static gs_code agent_init(agent *ag, const agent_options *o, gs_status *st)
{
    char user_path[512];
    const char *user = o->user_config;
    if (!user && agent_config_user_path(user_path, sizeof(user_path)) == 0)
        user = user_path;
    probe_secure_memory();
    /* No gost_init() here: the first request sets the GOST engine up (dispatch.c), so an
     * idle agent keeps the engine and its libcrypto tables out of memory. */
    gs_code rc = agent_config_load(
        &ag->cfg, o->system_config ? o->system_config : AGENT_CONFIG_SYSTEM_PATH, user, st);
    if (rc != GS_ERR_OK)
        return rc;
    char state_dir[512];
    if (pin_limiter_default_dir(state_dir, sizeof(state_dir)) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "no state directory: set HOME or XDG_STATE_HOME");
    ag->limiter =
        pin_limiter_new(state_dir, ag->cfg.pin_max_failures, ag->cfg.pin_cooldown_seconds);
    if (!ag->limiter)
        return gs_fail(st, GS_ERR_IO_ERROR, "cannot use %s for the PIN limiter (owner-only)",
                       state_dir);
    char origins_path[512];
    ag->user_origins = user_origins_load(
        user_origins_default_path(origins_path, sizeof(origins_path)) == 0 ? origins_path : NULL,
        st);
    if (!ag->user_origins)
        return st->code;
    ag->tokens = token_cache_new(&ag->cfg, st);
    if (!ag->tokens)
        return st->code != GS_ERR_OK ? st->code : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "agent");
    token_cache_start_monitor(ag->tokens);
    ag->device_modules = device_modules_new(ag->tokens, &ag->cfg);
    ag->hotplug = hotplug_start(on_token_hotplug, ag);
    if (!ag->hotplug)
        device_modules_without_hotplug(ag->device_modules);
    return GS_ERR_OK;
}

/*
 * How long the agent stays with nothing to do: --idle-exit, else the configuration's
 * idle_exit_seconds, else AGENT_IDLE_EXIT_DEFAULT_SECONDS when systemd passed the socket (it
 * keeps listening and starts the agent again) and never when the agent bound its own.
 */
static int idle_exit_seconds(const agent_options *o, const agent *ag)
{
    if (o->idle_exit >= 0)
        return o->idle_exit;
    if (ag->cfg.idle_exit_seconds >= 0)
        return ag->cfg.idle_exit_seconds;
    return ag->socket_activated ? AGENT_IDLE_EXIT_DEFAULT_SECONDS : 0;
}

/*
 * When idle, the agent exits (systemd keeps the socket, or --idle-exit on its own socket), or
 * first shrinks into gostsign-agent-listener (idle_shrink.h), which then waits out the rest of
 * the exit time itself.
 */
typedef struct {
    int shrink_seconds; /* the shrink is due after this long idle; 0: no shrink */
    int exit_seconds;   /* the exit after this long idle; 0: never */
} idle_plan;

/* --idle-shrink, else idle_shrink_seconds, else AGENT_IDLE_SHRINK_DEFAULT_SECONDS. */
static int idle_shrink_seconds(const agent_options *o, const agent *ag)
{
    if (o->idle_shrink >= 0)
        return o->idle_shrink;
    if (ag->cfg.idle_shrink_seconds >= 0)
        return ag->cfg.idle_shrink_seconds;
    return AGENT_IDLE_SHRINK_DEFAULT_SECONDS;
}

/*
 * Sets the accept loop's idle deadline: the shrink's when it comes before the exit (or no exit
 * comes) and the listener is installed, else the exit's.
 */
static void plan_idle(agent *ag, const agent_options *o, idle_shrink_paths *paths, idle_plan *plan)
{
    int exit_s = idle_exit_seconds(o, ag), shrink_s = idle_shrink_seconds(o, ag);
    int shrink = shrink_s > 0 && (exit_s == 0 || shrink_s < exit_s) && idle_shrink_find(paths) == 0;
    plan->shrink_seconds = shrink ? shrink_s : 0;
    plan->exit_seconds = exit_s;
    ag->idle_exit_seconds = shrink ? shrink_s : exit_s;
}

/* The startup line (the journal's, under systemd): where, which process, and when it goes. */
static void say_listening(const agent *ag, const idle_plan *plan, const char *path)
{
    char idle[96] = "no idle exit";
    if (plan->exit_seconds > 0)
        snprintf(idle, sizeof(idle), "idle exit after %d s", plan->exit_seconds);
    if (plan->shrink_seconds > 0)
        snprintf(idle + strlen(idle), sizeof(idle) - strlen(idle), ", idle shrink after %d s",
                 plan->shrink_seconds);
    fprintf(stderr, "gostsign-agent %s listening on %s (pid %ld, %s, %s)\n", GOSTSIGN_VERSION, path,
            (long)getpid(), ag->socket_activated ? "socket from systemd" : "own socket", idle);
}

/*
 * The command line the listener starts this agent again with: the same files and times, the
 * socket it hands over, and never --daemon (the process stays where it is).
 */
static void resume_arguments(const agent_options *o, const agent *ag, char *args[16],
                             char numbers[2][16])
{
    int n = 0;
    args[n++] = "--resumed";
    args[n++] = ag->socket_activated ? "systemd" : "own";
    args[n++] = "--socket";
    args[n++] = (char *)ag->socket_path;
    if (o->system_config) {
        args[n++] = "--system-config";
        args[n++] = (char *)o->system_config;
    }
    if (o->user_config) {
        args[n++] = "--user-config";
        args[n++] = (char *)o->user_config;
    }
    if (o->idle_exit >= 0) {
        snprintf(numbers[0], 16, "%d", o->idle_exit);
        args[n++] = "--idle-exit";
        args[n++] = numbers[0];
    }
    if (o->idle_shrink >= 0) {
        snprintf(numbers[1], 16, "%d", o->idle_shrink);
        args[n++] = "--idle-shrink";
        args[n++] = numbers[1];
    }
    args[n] = NULL;
}

/* Lets go of the tokens and modules, as on exit: the process image is about to be replaced. */
static void release_tokens(agent *ag)
{
    hotplug_stop(ag->hotplug);
    device_modules_free(ag->device_modules);
    token_cache_free(ag->tokens);
    pin_limiter_free(ag->limiter);
    user_origins_free(ag->user_origins);
    ag->hotplug = NULL;
    ag->device_modules = NULL;
    ag->tokens = NULL;
    ag->limiter = NULL;
    ag->user_origins = NULL;
}

/* The signals that stop the agent (on_stop_signal), as one set to block or open. */
static sigset_t stop_signals(void)
{
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    return stops;
}

/*
 * Idle long enough: becomes gostsign-agent-listener in this process, handing on the socket,
 * the rest of the exit time and the recent errors (the support bundle's). Returns only when
 * exec failed; the agent then exits as on an idle exit.
 */
static void shrink_into_listener(agent *ag, const agent_options *o, const idle_shrink_paths *paths,
                                 const idle_plan *plan)
{
    char *args[16], numbers[2][16];
    sigset_t stops = stop_signals();
    /* From here a stop signal stays pending (and is the listener's to act on after exec), or
     * was taken by a thread still running: the control pipe tells, checked after the threads
     * have gone, and the agent then exits instead of shrinking. */
    pthread_sigmask(SIG_BLOCK, &stops, NULL);
    resume_arguments(o, ag, args, numbers);
    release_tokens(ag);
    if (agent_stop_requested(ag))
        return;
    json_object *state = json_object_new_object();
    json_object_object_add(state, "recent_errors", recent_errors_json());
    fprintf(stderr, "gostsign-agent: idle for %d s, waiting for the next client as %s (pid %ld)\n",
            plan->shrink_seconds, paths->listener_path, (long)getpid());
    int exit_after = plan->exit_seconds > 0 ? plan->exit_seconds - plan->shrink_seconds : 0;
    idle_shrink_exec(paths, ag->listen_fd, ag->owns_socket_file ? ag->socket_path : NULL,
                     exit_after, state, args);
    fprintf(stderr, "gostsign-agent: cannot run %s: %s; exiting instead\n", paths->listener_path,
            strerror(errno));
    json_object_put(state);
    pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
}

/* A resumed agent: the socket on fd 3 is its own file again, and it takes the errors back. */
static void take_over_from_listener(agent *ag, const agent_options *o)
{
    if (o->resumed == RESUMED_OWN && ag->socket_activated) {
        ag->socket_activated = 0;
        ag->owns_socket_file = 1;
    }
    if (o->state_fd < 0)
        return;
    json_object *state = idle_shrink_take_state(o->state_fd), *errors;
    if (state && json_object_object_get_ex(state, "recent_errors", &errors))
        recent_errors_restore(errors);
    json_object_put(state);
}

/* The stop signals' handler, and the signals open (the listener hands them over blocked). */
static void catch_stop_signals(agent *ag)
{
    the_agent = ag;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t stops = stop_signals();
    pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
}

/* A parent that closed stdin/stdout/stderr must not make a socket land on fd 0-2. */
static void ensure_standard_fds(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            _exit(GS_ERR_INTERNAL);
}

int main(int argc, char **argv)
{
    ensure_standard_fds();
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    agent_options o = { 0 };
    int prc = parse_options(argc, argv, &o);
    if (prc != 0)
        return prc < 0 ? 0 : prc;
    signal(SIGPIPE, SIG_IGN);
    static agent ag = { .listen_fd = -1 };
    pthread_mutex_init(&ag.inflight_lock, NULL);
    ag.started = time(NULL);
    gs_status st;
    gs_status_clear(&st);
    char path[512];
    gs_code rc = o.socket ? (snprintf(path, sizeof(path), "%s", o.socket), GS_ERR_OK)
                          : agent_socket_path(path, sizeof(path), &st);
    dialog_defaults_capture(&ag.dialog);
    int ready_fd = o.daemon ? daemonize_early() : -1;
    if (o.detached) /* already in a session of its own: only the caller's stdio goes */
        detach_stdio();
    if (rc == GS_ERR_OK)
        rc = agent_init(&ag, &o, &st);
    if (rc == GS_ERR_OK)
        rc = agent_listen(&ag, path, &st);
    if (rc != GS_ERR_OK) {
        report_ready(ready_fd, rc);
        if (o.resumed == RESUMED_OWN)
            unlink(path); /* no agent will answer on it: clients start a new one */
        return startup_failure(&st);
    }
    take_over_from_listener(&ag, &o);
    idle_shrink_paths paths;
    idle_plan plan;
    plan_idle(&ag, &o, &paths, &plan);
    catch_stop_signals(&ag);
    /* READY=1 before the launcher hears: a client that started us on demand connects while
     * the launcher, woken first otherwise, is still exiting (agent_client.c). An agent back
     * from its listener said it at its first start. */
    if (!o.resumed) /* a client's private channel serves only this: gone after it */
        sd_notify(o.detached, "READY=1");
    report_ready(ready_fd, GS_ERR_OK);
    if (o.resumed)
        fprintf(stderr, "gostsign-agent: back for a client (pid %ld)\n", (long)getpid());
    else if (!o.daemon && !o.detached) /* started on demand: nothing into its caller's output */
        say_listening(&ag, &plan, path);
    int served = agent_serve(&ag);
    if (served == AGENT_SERVE_IDLE && plan.shrink_seconds > 0)
        shrink_into_listener(&ag, &o, &paths, &plan);
    else if (served == AGENT_SERVE_IDLE)
        fprintf(stderr, "gostsign-agent: idle for %d s, exiting (pid %ld)%s\n",
                ag.idle_exit_seconds, (long)getpid(),
                ag.socket_activated ? "; systemd starts it again for the next client" : "");
    sd_notify(0, "STOPPING=1");
    agent_shutdown(&ag);
    release_tokens(&ag);
    agent_config_free(&ag.cfg);
    return 0;
}
