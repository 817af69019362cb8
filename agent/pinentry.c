/*
 * The PIN dialog over Assuan (libassuan). One session = one pinentry process: connect, set the
 * texts, GETPIN or CONFIRM, release, reap. The Assuan context itself is allocated from secmem, so
 * libassuan's line buffers (which briefly hold the "D <pin>" line) are locked and wiped too.
 * A watchdog thread enforces the timeout by killing the pinentry; the pid is learnt from the
 * child itself right after fork, so even a pinentry that hangs before its greeting is stopped.
 * We reap the child ourselves (ASSUAN_NO_WAITPID) only after the watchdog has stopped, so a kill
 * can never hit a recycled pid, and nothing is left as a zombie.
 */
#include "pinentry.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <assuan.h>
#include <gpg-error.h>

#include "frame.h"

#define LINE_MAX_BYTES        1000 /* Assuan line limit without the line ending */
#define REAP_GRACE_MS         2000 /* how long a pinentry may take to exit after we hang up */
#define WATCHDOG_GRACE_S      1    /* lets the pinentry's own SETTIMEOUT act first (it tidies up) */
#define WATCHDOG_KILL_AFTER_S 1    /* SIGTERM, then SIGKILL this much later */

static struct assuan_malloc_hooks secmem_hooks = { secmem_alloc, secmem_realloc, secmem_free };

/* One pinentry process and the watchdog that guards it. */
typedef struct {
    assuan_context_t ctx;
    int pid_pipe[2]; /* the child writes its pid here right after fork */
    pthread_mutex_t mu;
    pid_t pid;
    bool reaped;
    pthread_t wd_thread;
    bool wd_running, wd_stop, wd_fired;
    pthread_cond_t wd_cv;
    struct timespec deadline; /* CLOCK_MONOTONIC */
    secure_pin *pin;          /* GETPIN target */
    bool pin_overflow;
} session;

extern char **environ;

/* Where spawn_without_fork reports the child's pid: set around assuan_pipe_connect. */
static _Thread_local int spawn_pid_report_fd = -1;
/* The environment the pinentry starts with (NULL: ours): set around assuan_pipe_connect. */
static _Thread_local char **spawn_envp = NULL;

/*
 * libassuan's own spawn forks and then, in the child, allocates (opendir) before exec. In a
 * process with other threads that is unsafe whenever an allocator is not fork-safe (seen with
 * the ASan runtime: the child hung on the allocator lock). posix_spawn allocates nothing in the
 * child. The pinentry gets the pipes as stdin/stdout, keeps stderr when asked, and nothing else.
 */
static int spawn_without_fork(assuan_context_t ctx, pid_t *r_pid, const char *name,
                              const char **argv, assuan_fd_t fd_in, assuan_fd_t fd_out,
                              assuan_fd_t *fd_child_list,
                              void (*atfork)(void *opaque, int reserved), void *atforkvalue,
                              unsigned int flags)
{
    (void)ctx;
    (void)flags;
    (void)atfork; /* nothing runs in the child between spawn and exec */
    (void)atforkvalue;
    int keep_stderr = 0;
    for (assuan_fd_t *fd = fd_child_list; fd && *fd != ASSUAN_INVALID_FD; fd++)
        keep_stderr |= *fd == STDERR_FILENO;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd_in, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fd_out, STDOUT_FILENO);
    if (!keep_stderr)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    int rc =
        posix_spawn(r_pid, name, &fa, NULL, (char *const *)argv, spawn_envp ? spawn_envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    /* The watchdog needs the pid while assuan_pipe_connect still waits for the greeting. */
    if (spawn_pid_report_fd >= 0 &&
        write(spawn_pid_report_fd, r_pid, sizeof(*r_pid)) != (ssize_t)sizeof(*r_pid))
        return 0;
    return 0;
}

/* libassuan's default system calls, except spawn. */
static struct assuan_system_hooks pinentry_system_hooks = {
    ASSUAN_SYSTEM_HOOKS_VERSION,
    __assuan_usleep,
    __assuan_pipe,
    __assuan_close,
    __assuan_read,
    __assuan_write,
    __assuan_recvmsg,
    __assuan_sendmsg,
    spawn_without_fork,
    __assuan_waitpid,
    __assuan_socketpair,
    __assuan_socket,
    __assuan_connect,
};

/* Learns the child's pid from the pipe once it is there; call with mu held. */
static pid_t session_pid_locked(session *s)
{
    if (s->pid == 0 && s->pid_pipe[0] >= 0) {
        pid_t pid = 0;
        if (read(s->pid_pipe[0], &pid, sizeof(pid)) == (ssize_t)sizeof(pid) && pid > 0)
            s->pid = pid;
    }
    return s->pid;
}

/* Signals the pinentry unless it was already reaped (its pid could then belong to another). */
static void session_kill(session *s, int sig)
{
    pthread_mutex_lock(&s->mu);
    pid_t pid = session_pid_locked(s);
    if (pid > 0 && !s->reaped)
        kill(pid, sig);
    pthread_mutex_unlock(&s->mu);
}

/*
 * The watchdog: at the deadline it asks the pinentry to quit (SIGTERM lets pinentry-tty restore
 * the terminal's echo), and a second later kills it outright if it is still there.
 */
static void *watchdog_main(void *arg)
{
    session *s = arg;
    int signals[] = { SIGTERM, SIGKILL };
    size_t phase = 0;
    pthread_mutex_lock(&s->mu);
    while (!s->wd_stop && phase < 2) {
        int rc = pthread_cond_timedwait(&s->wd_cv, &s->mu, &s->deadline);
        if (rc != ETIMEDOUT || s->wd_stop)
            continue;
        s->wd_fired = true;
        pid_t pid = session_pid_locked(s);
        if (pid > 0 && !s->reaped)
            kill(pid, signals[phase]);
        phase++;
        s->deadline.tv_sec += WATCHDOG_KILL_AFTER_S;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Starts the watchdog for a dialog with a time limit. */
static bool watchdog_start(session *s, unsigned seconds)
{
    clock_gettime(CLOCK_MONOTONIC, &s->deadline);
    s->deadline.tv_sec += (time_t)seconds + WATCHDOG_GRACE_S;
    s->wd_running = pthread_create(&s->wd_thread, NULL, watchdog_main, s) == 0;
    return s->wd_running;
}

/* Stops the watchdog and waits for it, so it can no longer send a signal. */
static void watchdog_stop(session *s)
{
    if (!s->wd_running)
        return;
    pthread_mutex_lock(&s->mu);
    s->wd_stop = true;
    pthread_cond_signal(&s->wd_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->wd_thread, NULL);
    s->wd_running = false;
}

/* Sets up locks and the condition variable on the monotonic clock. */
static void session_init(session *s)
{
    memset(s, 0, sizeof(*s));
    s->pid_pipe[0] = s->pid_pipe[1] = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wd_cv, &attr);
    pthread_condattr_destroy(&attr);
}

/*
 * Waits for the pinentry to exit after we hung up; kills it if it lingers. Never leaves a zombie.
 * The naps start short and double up to 10 ms: a pinentry exits within about a millisecond of
 * BYE, and a fixed 10 ms nap added 10 ms to every signature (docs/performance.md, figure 3).
 */
static void reap_child(pid_t pid)
{
    long nap_us = 100;
    for (long waited_us = 0; waited_us < REAP_GRACE_MS * 1000L; waited_us += nap_us) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        struct timespec nap = { 0, nap_us * 1000 };
        nanosleep(&nap, NULL);
        if (nap_us < 10000)
            nap_us *= 2;
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Tears a session down: watchdog, Assuan context, child process, pipes. */
static void session_end(session *s)
{
    watchdog_stop(s);
    if (s->ctx)
        assuan_release(s->ctx);
    s->ctx = NULL;
    pthread_mutex_lock(&s->mu);
    pid_t pid = session_pid_locked(s);
    s->reaped = true;
    pthread_mutex_unlock(&s->mu);
    if (pid > 0)
        reap_child(pid);
    for (int i = 0; i < 2; i++)
        if (s->pid_pipe[i] >= 0)
            close(s->pid_pipe[i]);
    s->pid_pipe[0] = s->pid_pipe[1] = -1;
    pthread_cond_destroy(&s->wd_cv);
    pthread_mutex_destroy(&s->mu);
}

/* Turns a libassuan / pinentry error into our table: cancel, timeout, or a broken pinentry. */
static gs_code map_error(session *s, gpg_error_t err, const char *what, gs_status *st)
{
    pthread_mutex_lock(&s->mu);
    bool fired = s->wd_fired;
    pthread_mutex_unlock(&s->mu);
    if (fired)
        return gs_fail(st, GS_ERR_TIMEOUT, "the PIN dialog got no answer in time");
    switch (gpg_err_code(err)) {
    case GPG_ERR_CANCELED:
    case GPG_ERR_FULLY_CANCELED:
    case GPG_ERR_ASS_CANCELED:
    case GPG_ERR_NOT_CONFIRMED:
        return gs_fail(st, GS_ERR_USER_CANCELLED, "the user cancelled the dialog");
    case GPG_ERR_TIMEOUT:
        return gs_fail(st, GS_ERR_TIMEOUT, "the PIN dialog timed out");
    default:
        if (s->pin_overflow)
            return gs_fail(st, GS_ERR_PINENTRY_FAILED, "pinentry sent an overlong PIN");
        return gs_fail(st, GS_ERR_PINENTRY_FAILED, "pinentry %s: %s", what, gpg_strerror(err));
    }
}

/* Whether a failed optional command just means "this pinentry does not know it". */
static bool is_unsupported(gpg_error_t err)
{
    switch (gpg_err_code(err)) {
    case GPG_ERR_ASS_UNKNOWN_CMD:
    case GPG_ERR_UNKNOWN_COMMAND:
    case GPG_ERR_UNKNOWN_OPTION:
    case GPG_ERR_NOT_IMPLEMENTED:
    case GPG_ERR_ASS_PARAMETER:
        return true;
    default:
        return false;
    }
}

/* Receives the PIN (already unescaped by libassuan) straight into locked memory. */
static gpg_error_t pin_data_cb(void *arg, const void *data, size_t len)
{
    session *s = arg;
    if (!secure_pin_append(s->pin, data, len)) {
        s->pin_overflow = true;
        return gpg_error(GPG_ERR_TOO_LARGE);
    }
    return 0;
}

/* Percent-escapes per Assuan: '%', CR, LF and the other control bytes become %XX. */
long pinentry_escape(const char *text, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool esc = *p == '%' || *p < 0x20 || *p == 0x7f;
        size_t need = esc ? 3 : 1;
        if (n + need >= out_size)
            return -1;
        if (esc) {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 0xF];
        } else {
            out[n++] = (char)*p;
        }
    }
    if (out_size == 0)
        return -1;
    out[n] = '\0';
    return (long)n;
}

/* Sends "CMD escaped-text". Optional commands a pinentry does not know are ignored. */
static gs_code send_text(session *s, const char *cmd, const char *text, bool optional,
                         gs_status *st)
{
    char line[LINE_MAX_BYTES + 1];
    int head = snprintf(line, sizeof(line), "%s ", cmd);
    if (pinentry_escape(text, line + head, sizeof(line) - (size_t)head) < 0)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "text for %s is too long for the PIN dialog", cmd);
    gpg_error_t err = assuan_transact(s->ctx, line, NULL, NULL, NULL, NULL, NULL, NULL);
    if (err && !(optional && is_unsupported(err)))
        return map_error(s, err, cmd, st);
    return GS_ERR_OK;
}

/* Sends "OPTION name=value" (values are paths and locale names, never free text). */
static gs_code send_option(session *s, const char *name, const char *value, gs_status *st)
{
    char line[LINE_MAX_BYTES + 1];
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '%')
            return gs_fail(st, GS_ERR_BAD_REQUEST, "invalid value for pinentry option %s", name);
    if (snprintf(line, sizeof(line), "OPTION %s=%s", name, value) >= (int)sizeof(line))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "pinentry option %s is too long", name);
    gpg_error_t err = assuan_transact(s->ctx, line, NULL, NULL, NULL, NULL, NULL, NULL);
    if (err && !is_unsupported(err))
        return map_error(s, err, "OPTION", st);
    return GS_ERR_OK;
}

/* Finds a bare program name in PATH (the agent's, or the usual one when it has none). */
static int find_in_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        int n = snprintf(out, cap, "%.*s/%s", (int)len, len ? p : ".", name);
        if (n > 0 && (size_t)n < cap && access(out, X_OK) == 0)
            return 0;
        p += len + (p[len] == ':');
    }
    return -1;
}

int pinentry_resolve(const char *configured, bool graphical, char *out, size_t cap)
{
    static const char *const desktop[] = { "pinentry-gnome3", "pinentry-qt", "pinentry-gtk2",
                                           NULL };
    static const char *const terminal[] = { "pinentry-curses", "pinentry-tty", "pinentry", NULL };
    if (configured && strchr(configured, '/')) {
        int n = snprintf(out, cap, "%s", configured);
        return n > 0 && (size_t)n < cap ? 0 : -1;
    }
    bool automatic = !configured || !*configured || strcmp(configured, "pinentry") == 0 ||
                     strcmp(configured, "auto") == 0;
    if (!automatic)
        return find_in_path(configured, out, cap);
    for (const char *const *c = desktop; graphical && *c; c++)
        if (find_in_path(*c, out, cap) == 0)
            return 0;
    for (const char *const *c = terminal; *c; c++)
        if (find_in_path(*c, out, cap) == 0)
            return 0;
    return -1;
}

/* Checks the program before forking, so "not installed" gets a clear message. */
static gs_code check_program(const char *program, bool graphical, char *path, size_t cap,
                             gs_status *st)
{
    if (pinentry_resolve(program, graphical, path, cap) != 0)
        return gs_fail(st, GS_ERR_PINENTRY_FAILED, "pinentry program %s: not found in PATH",
                       program && *program ? program : "pinentry");
    if (access(path, X_OK) != 0)
        return gs_fail(st, GS_ERR_PINENTRY_FAILED, "pinentry program %s: %s", path,
                       strerror(errno));
    return GS_ERR_OK;
}

/* Room for the pinentry's environment: ours plus two display variables and the end. */
typedef struct {
    char **envp;
    char *display, *wayland;
} child_env;

/* Whether an environment entry is one of the display variables we set ourselves. */
static bool is_display_var(const char *entry)
{
    return strncmp(entry, "DISPLAY=", 8) == 0 || strncmp(entry, "WAYLAND_DISPLAY=", 16) == 0;
}

/*
 * The pinentry's environment: ours, with DISPLAY / WAYLAND_DISPLAY of the request (as gpg-agent
 * passes the client's), so a dialog for a browser opens on that browser's desktop.
 */
static bool child_env_build(child_env *ce, const pinentry_request *req)
{
    memset(ce, 0, sizeof(*ce));
    if (!req->display && !req->wayland_display)
        return true;
    size_t n = 0;
    while (environ[n])
        n++;
    ce->envp = calloc(n + 3, sizeof(char *));
    if (!ce->envp)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!(is_display_var(environ[i]) && ((req->display && environ[i][0] == 'D') ||
                                             (req->wayland_display && environ[i][0] == 'W'))))
            ce->envp[k++] = environ[i];
    if (req->display && asprintf(&ce->display, "DISPLAY=%s", req->display) > 0)
        ce->envp[k++] = ce->display;
    if (req->wayland_display &&
        asprintf(&ce->wayland, "WAYLAND_DISPLAY=%s", req->wayland_display) > 0)
        ce->envp[k++] = ce->wayland;
    return true;
}

/* Frees what child_env_build made (the entries of our own environment stay). */
static void child_env_free(child_env *ce)
{
    free(ce->envp);
    free(ce->display);
    free(ce->wayland);
}

/* Spawns the pinentry and reads its greeting, under the watchdog when a timeout is set. */
static gs_code session_start(session *s, const pinentry_request *req, gs_status *st)
{
    char program[1024];
    bool graphical =
        (req->display && *req->display) || (req->wayland_display && *req->wayland_display);
    gs_code rc = check_program(req->program, graphical, program, sizeof(program), st);
    if (rc != GS_ERR_OK)
        return rc;
    if (pipe2(s->pid_pipe, O_CLOEXEC) != 0 || fcntl(s->pid_pipe[0], F_SETFL, O_NONBLOCK) != 0)
        return gs_fail(st, GS_ERR_PINENTRY_FAILED, "pipe: %s", strerror(errno));
    gpg_error_t err = assuan_new_ext(&s->ctx, GPG_ERR_SOURCE_DEFAULT, &secmem_hooks, NULL, NULL);
    if (err)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "assuan context: %s", gpg_strerror(err));
    assuan_ctx_set_system_hooks(s->ctx, &pinentry_system_hooks);
    assuan_set_flag(s->ctx, ASSUAN_NO_WAITPID, 1);
    assuan_set_flag(s->ctx, ASSUAN_NO_LOGGING, 1);
    if (req->timeout_seconds && !watchdog_start(s, req->timeout_seconds))
        return gs_fail(st, GS_ERR_INTERNAL, "could not start the PIN dialog watchdog");
    const char *base = strrchr(program, '/');
    const char *argv[] = { base ? base + 1 : program, NULL };
    assuan_fd_t keep[3];
    int n = 0;
    if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
        keep[n++] = STDERR_FILENO;
    keep[n++] = s->pid_pipe[1];
    keep[n] = ASSUAN_INVALID_FD;
    child_env ce;
    if (!child_env_build(&ce, req))
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pinentry environment");
    spawn_pid_report_fd = s->pid_pipe[1];
    spawn_envp = ce.envp;
    err = assuan_pipe_connect(s->ctx, program, argv, keep, NULL, NULL, 0);
    spawn_pid_report_fd = -1;
    spawn_envp = NULL;
    child_env_free(&ce);
    if (err)
        return map_error(s, err, "start", st);
    return GS_ERR_OK;
}

/* Tells a terminal pinentry where and how to draw. */
static gs_code send_tty_options(session *s, const pinentry_request *req, gs_status *st)
{
    gs_code rc = GS_ERR_OK;
    if (req->ttyname) {
        const char *term = req->ttytype ? req->ttytype : getenv("TERM");
        rc = send_option(s, "ttyname", req->ttyname, st);
        if (rc == GS_ERR_OK)
            rc = send_option(s, "ttytype", term && *term ? term : "xterm", st);
        if (rc == GS_ERR_OK)
            rc = send_option(s, "lc-ctype", req->lc_ctype ? req->lc_ctype : "C.UTF-8", st);
    } else if (req->lc_ctype) {
        rc = send_option(s, "lc-ctype", req->lc_ctype, st);
    }
    if (rc == GS_ERR_OK && req->display)
        rc = send_option(s, "display", req->display, st);
    return rc;
}

/* Sends every text of the dialog; the ordering mirrors what the user reads. */
static gs_code send_texts(session *s, const pinentry_request *req, bool with_prompt, gs_status *st)
{
    gs_code rc = send_tty_options(s, req, st);
    if (rc == GS_ERR_OK)
        rc = send_text(s, "SETTITLE", req->title ? req->title : "gostsign — электронная подпись",
                       true, st);
    if (rc == GS_ERR_OK && req->description)
        rc = send_text(s, "SETDESC", req->description, false, st);
    if (rc == GS_ERR_OK && with_prompt)
        rc = send_text(s, "SETPROMPT", req->prompt ? req->prompt : "PIN-код:", false, st);
    if (rc == GS_ERR_OK && req->error_text)
        rc = send_text(s, "SETERROR", req->error_text, false, st);
    if (rc == GS_ERR_OK)
        rc = send_text(s, "SETOK", req->ok_label ? req->ok_label : "Подписать", true, st);
    if (rc == GS_ERR_OK)
        rc = send_text(s, "SETCANCEL", req->cancel_label ? req->cancel_label : "Отмена", true, st);
    if (rc == GS_ERR_OK && req->timeout_seconds) {
        char secs[16];
        snprintf(secs, sizeof(secs), "%u", req->timeout_seconds);
        rc = send_text(s, "SETTIMEOUT", secs, true, st);
    }
    return rc;
}

/* GETPIN with the data lines going straight into a secure_pin. */
static gs_code get_pin(session *s, secure_pin **out, gs_status *st)
{
    s->pin = secure_pin_new(PINENTRY_MAX_PIN);
    if (!s->pin)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "locked memory for the PIN");
    assuan_begin_confidential(s->ctx);
    gpg_error_t err = assuan_transact(s->ctx, "GETPIN", pin_data_cb, s, NULL, NULL, NULL, NULL);
    assuan_end_confidential(s->ctx);
    if (err) {
        secure_pin_free(s->pin);
        s->pin = NULL;
        return map_error(s, err, "GETPIN", st);
    }
    *out = s->pin;
    s->pin = NULL;
    return GS_ERR_OK;
}

/* The whole PIN dialog: start, texts, GETPIN, teardown. */
gs_code pinentry_ask(const pinentry_request *req, secure_pin **out, gs_status *st)
{
    *out = NULL;
    session s;
    session_init(&s);
    gs_code rc = session_start(&s, req, st);
    if (rc == GS_ERR_OK)
        rc = send_texts(&s, req, true, st);
    if (rc == GS_ERR_OK)
        rc = get_pin(&s, out, st);
    session_end(&s);
    if (rc == GS_ERR_OK && st)
        gs_status_clear(st);
    return rc;
}

/* CONFIRM (two buttons) or CONFIRM --one-button (a message) on an open session. */
static gs_code run_confirm(session *s, const pinentry_request *req, bool one_button, gs_status *st)
{
    gs_code rc = send_texts(s, req, false, st);
    if (rc != GS_ERR_OK)
        return rc;
    gpg_error_t err = assuan_transact(s->ctx, one_button ? "CONFIRM --one-button" : "CONFIRM", NULL,
                                      NULL, NULL, NULL, NULL, NULL);
    return err ? map_error(s, err, "CONFIRM", st) : GS_ERR_OK;
}

/* A yes/no or message dialog without a PIN. */
gs_code pinentry_confirm(const pinentry_request *req, bool one_button, gs_status *st)
{
    session s;
    session_init(&s);
    gs_code rc = session_start(&s, req, st);
    if (rc == GS_ERR_OK)
        rc = run_confirm(&s, req, one_button, st);
    session_end(&s);
    if (rc == GS_ERR_OK && st)
        gs_status_clear(st);
    return rc;
}

/* The background "enter the PIN on the device" dialog. */
struct pinentry_pinpad {
    session s;
    pinentry_request req;
    pthread_t thread;
    pthread_mutex_t mu;
    bool finished, closing;
    gs_code result;
    gs_status status;
};

/* Thread body: shows the dialog until the user answers or the agent closes it. */
static void *pinpad_main(void *arg)
{
    pinentry_pinpad *pad = arg;
    gs_status st;
    gs_status_clear(&st);
    gs_code rc = run_confirm(&pad->s, &pad->req, false, &st);
    pthread_mutex_lock(&pad->mu);
    pad->result = rc;
    pad->status = st;
    pad->finished = true;
    pthread_mutex_unlock(&pad->mu);
    return NULL;
}

/* Starts the pinentry synchronously (so start errors are reported), then CONFIRM in a thread. */
gs_code pinentry_pinpad_open(const pinentry_request *req, pinentry_pinpad **out, gs_status *st)
{
    *out = NULL;
    pinentry_pinpad *pad = calloc(1, sizeof(*pad));
    if (!pad)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "PIN pad dialog");
    pad->req = *req;
    pad->req.ok_label = req->ok_label ? req->ok_label : "Скрыть";
    pthread_mutex_init(&pad->mu, NULL);
    session_init(&pad->s);
    gs_code rc = session_start(&pad->s, &pad->req, st);
    if (rc == GS_ERR_OK && pthread_create(&pad->thread, NULL, pinpad_main, pad) != 0)
        rc = gs_fail(st, GS_ERR_INTERNAL, "could not start the PIN pad dialog thread");
    if (rc != GS_ERR_OK) {
        session_end(&pad->s);
        pthread_mutex_destroy(&pad->mu);
        free(pad);
        return rc;
    }
    *out = pad;
    return GS_ERR_OK;
}

/* Lets the caller poll whether the user already dismissed the dialog. */
bool pinentry_pinpad_active(pinentry_pinpad *pad)
{
    pthread_mutex_lock(&pad->mu);
    bool active = !pad->finished;
    pthread_mutex_unlock(&pad->mu);
    return active;
}

/* Hangs up on the pinentry (SIGTERM lets a GUI pinentry tidy up), joins, reports a cancel. */
gs_code pinentry_pinpad_close(pinentry_pinpad *pad, gs_status *st)
{
    if (!pad)
        return GS_ERR_OK;
    pthread_mutex_lock(&pad->mu);
    pad->closing = true;
    bool finished = pad->finished;
    pthread_mutex_unlock(&pad->mu);
    if (!finished)
        session_kill(&pad->s, SIGTERM);
    pthread_join(pad->thread, NULL);
    session_end(&pad->s);
    gs_code rc = GS_ERR_OK;
    if (pad->result == GS_ERR_USER_CANCELLED) /* our own hang-up ends as PINENTRY_FAILED */
        rc = gs_fail(st, GS_ERR_USER_CANCELLED, "%s", pad->status.detail);
    pthread_mutex_destroy(&pad->mu);
    free(pad);
    return rc;
}

/* A bounded string builder for the description. */
typedef struct {
    char *buf;
    size_t size, len;
    bool overflow;
} text_buf;

/* Appends raw bytes (our own fixed texts). */
static void tb_put(text_buf *tb, const char *s, size_t n)
{
    if (tb->overflow || n >= tb->size - tb->len) {
        tb->overflow = true;
        return;
    }
    memcpy(tb->buf + tb->len, s, n);
    tb->len += n;
    tb->buf[tb->len] = '\0';
}

/* Appends a fixed NUL-terminated text. */
static void tb_str(text_buf *tb, const char *s)
{
    tb_put(tb, s, strlen(s));
}

/* Characters that could forge lines or reorder text on screen: controls and bidi overrides. */
static bool is_spoofing_char(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Appends untrusted text (site, file name, certificate fields): controls and bidi overrides become
 * spaces, malformed UTF-8 becomes '?', and text over max_bytes is cut at a character with "…".
 */
static void tb_field(text_buf *tb, const char *text, size_t max_bytes)
{
    const uint8_t *p = (const uint8_t *)text;
    size_t n = strlen(text), used = 0;
    while (n > 0) {
        uint32_t cp = 0;
        size_t step = gs_utf8_next(p, n, &cp);
        const char *out = (const char *)p;
        size_t out_len = step;
        if (step == 0) {
            out = "?", out_len = 1, step = 1;
        } else if (is_spoofing_char(cp)) {
            out = " ", out_len = 1;
        }
        if (used + out_len > max_bytes) {
            tb_str(tb, "…");
            return;
        }
        tb_put(tb, out, out_len);
        used += out_len;
        p += step;
        n -= step;
    }
}

/* Appends "label value\n" when the value is present. */
static void tb_line(text_buf *tb, const char *label, const char *value, size_t max_bytes)
{
    if (!value || !*value)
        return;
    tb_str(tb, label);
    tb_field(tb, value, max_bytes);
    tb_str(tb, "\n");
}

/* Shows a digest as its first and last 16 hex digits: enough to compare, short enough to read. */
static void tb_digest(text_buf *tb, const char *hex)
{
    if (!hex || !*hex || hex[strspn(hex, "0123456789abcdefABCDEF")] != '\0')
        return; /* only a hex digest is shown; anything else is not a digest */
    tb_str(tb, "Хэш (ГОСТ Р 34.11-2012): ");
    size_t n = strlen(hex);
    if (n <= 40) {
        tb_field(tb, hex, 40);
    } else {
        char head[17], tail[17];
        memcpy(head, hex, 16);
        memcpy(tail, hex + n - 16, 16);
        head[16] = tail[16] = '\0';
        tb_field(tb, head, 16);
        tb_str(tb, "…");
        tb_field(tb, tail, 16);
    }
    tb_str(tb, "\n");
}

/* Appends ", " between the identifiers of the organisation line. */
static void tb_id(text_buf *tb, bool *first, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    if (!*first)
        tb_str(tb, ", ");
    *first = false;
    tb_str(tb, label);
    tb_field(tb, value, 15); /* OGRNIP, the longest, has 15 digits */
}

/* The organisation's registration numbers on one line. */
static void tb_ids(text_buf *tb, const pinentry_signing_info *info)
{
    bool first = true;
    tb_id(tb, &first, "ИНН ЮЛ ", info->innle);
    tb_id(tb, &first, "ИНН ", info->inn);
    tb_id(tb, &first, "ОГРН ", info->ogrn);
    tb_id(tb, &first, "ОГРНИП ", info->ogrnip);
    if (!first)
        tb_str(tb, "\n");
}

/* The token line: label and serial number. */
static void tb_token(text_buf *tb, const pinentry_signing_info *info)
{
    if (!info->token_label && !info->token_serial)
        return;
    tb_str(tb, "Токен: ");
    if (info->token_label)
        tb_field(tb, info->token_label, 32); /* CK_TOKEN_INFO label size */
    if (info->token_serial) {
        tb_str(tb, info->token_label ? ", серийный номер " : "серийный номер ");
        tb_field(tb, info->token_serial, 16); /* CK_TOKEN_INFO serial size */
    }
    tb_str(tb, "\n");
}

/* Retries left, the final-try warning, and the PIN-pad instruction. */
static void tb_retries(text_buf *tb, const pinentry_signing_info *info)
{
    if (info->retries_left > 0) {
        char line[96];
        snprintf(line, sizeof(line), "Осталось попыток ввода PIN-кода: %d\n", info->retries_left);
        tb_str(tb, line);
    } else if (info->count_low && !info->final_try) {
        tb_str(tb, "Осталось мало попыток ввода PIN-кода.\n");
    }
    if (info->final_try || info->retries_left == 1)
        tb_str(tb, "Последняя попытка! Неверный PIN-код заблокирует токен.\n");
    else if (info->agent_attempts_left == 1) {
        char line[200];
        snprintf(line, sizeof(line),
                 "После ещё одного неверного PIN-кода gostsign приостановит подпись на %d мин "
                 "(токен при этом не блокируется).\n",
                 info->agent_pause_minutes > 0 ? info->agent_pause_minutes : 1);
        tb_str(tb, line);
    }
    if (info->pinpad)
        tb_str(tb, "Введите PIN-код на устройстве.\n");
}

/*
 * One attempt at the dialog text with the free-text fields cut to their budget shifted right by
 * `shrink` (a page controls most of them, so their worst case must never exceed the Assuan line).
 */
static bool describe_signing_within(const pinentry_signing_info *info, unsigned shrink, char *out,
                                    size_t out_size)
{
    text_buf tb = { out, out_size, 0, out_size == 0 };
    if (out_size)
        out[0] = '\0';
    tb_str(&tb, "Сайт ");
    tb_field(&tb, info->origin, 80);
    tb_str(&tb, " запрашивает электронную подпись");
    if (info->api && *info->api) {
        tb_str(&tb, " ");
        tb_field(&tb, info->api, 96 >> shrink);
    }
    tb_str(&tb, ".\n");
    tb_line(&tb, "Действие: ", info->action, 48 >> shrink);
    tb_line(&tb, "Документ: ", info->document, 64 >> shrink);
    if (info->content_hidden)
        tb_str(&tb, "Содержимое подписываемых данных не может быть показано: сайт передал только "
                    "хэш.\n");
    tb_digest(&tb, info->digest_hex);
    tb_line(&tb, "Владелец: ", info->owner, 80 >> shrink);
    tb_line(&tb, "Организация: ", info->organisation, 100 >> shrink);
    tb_ids(&tb, info);
    tb_token(&tb, info);
    tb_retries(&tb, info);
    if (tb.len > 0 && out[tb.len - 1] == '\n')
        out[--tb.len] = '\0';
    char escaped[PINENTRY_ARG_MAX + 1];
    return !tb.overflow && pinentry_escape(out, escaped, sizeof(escaped)) >= 0;
}

/* Builds the dialog text; see pinentry.h for the shape and the guarantees. */
gs_code pinentry_describe_signing(const pinentry_signing_info *info, char *out, size_t out_size,
                                  gs_status *st)
{
    if (!info || !info->origin || !*info->origin)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "the requesting site is not known");
    if (info->retries_left == 0)
        return gs_fail(st, GS_ERR_PIN_LOCKED, "no PIN attempts left on the token");
    /* Long fields are cut harder until the whole text fits: the user still sees every line. */
    for (unsigned shrink = 0; shrink <= 3; shrink++)
        if (describe_signing_within(info, shrink, out, out_size))
            return GS_ERR_OK;
    return gs_fail(st, GS_ERR_INTERNAL, "the PIN dialog text does not fit");
}

/* The certificate's warnings, in Russian and English; see pinentry.h. */
size_t pinentry_describe_warnings(const pinentry_signing_info *info, char *out, size_t out_size)
{
    text_buf tb = { out, out_size, 0, out_size == 0 };
    if (out_size)
        out[0] = '\0';
    if (info->expires_soon) {
        char line[200];
        snprintf(line, sizeof(line),
                 "Внимание: срок действия сертификата истекает через %ld дн. / The certificate "
                 "expires in %ld day(s).\n",
                 info->days_left, info->days_left);
        tb_str(&tb, line);
    }
    if (info->revocation_unknown)
        tb_str(&tb, "Внимание: не удалось проверить, не отозван ли сертификат. / The certificate's "
                    "revocation status is unknown.\n");
    if (tb.len > 0 && out[tb.len - 1] == '\n')
        out[--tb.len] = '\0';
    return tb.overflow ? 0 : tb.len;
}
