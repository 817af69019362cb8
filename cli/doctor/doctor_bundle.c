/*
 * `gostsign doctor --report FILE`: one JSON support bundle (schema 1) with versions (gostsign,
 * OpenSSL, the GOST engine, pcsc-lite, libccid, each PKCS#11 module, the browsers, the OS), the
 * agent configuration files, the doctor's own JSON, the running agent's recent errors and PIN
 * pauses (its `status`), and recent agent journal lines. It never holds a PIN or key material:
 * the agent neither logs nor keeps them, and nothing else here reads tokens' secrets.
 */
#include "agent.h"
#include "doctor.h"
#include "gostsign_version.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define LOG_LINES             "200"
/* A version probe that does not answer within this many seconds is given up. */
#define PROBE_TIMEOUT_SECONDS 5

extern char **environ;

/* Reads a child's output until it ends or the deadline passes; returns the bytes read. */
static size_t read_until(int fd, char *out, size_t cap, time_t deadline)
{
    size_t n = 0;
    while (n + 1 < cap && time(NULL) < deadline) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t got = read(fd, out + n, cap - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    out[n] = '\0';
    return n;
}

/* Waits for a probe until the deadline, then kills it (a browser waiting for a display). */
static int reap(pid_t pid, time_t deadline)
{
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (time(NULL) >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec nap = { 0, 20 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Runs a program from PATH with no input; its stdout into out. 0 when it exited with 0. */
static int run_capture(char *const argv[], char *out, size_t cap)
{
    int fds[2];
    out[0] = '\0';
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    time_t deadline = time(NULL) + PROBE_TIMEOUT_SECONDS;
    if (rc == 0)
        read_until(fds[0], out, cap, deadline);
    close(fds[0]);
    return rc == 0 ? reap(pid, deadline) : -1;
}

/* The first line of a text, in place. */
static char *first_line(char *text)
{
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* The version of an installed Debian package, or NULL. */
static json_object *package_version(const char *package)
{
    char out[256];
    char *argv[] = { "dpkg-query",    "-W", "-f", "${db:Status-Status} ${Version}\n",
                     (char *)package, NULL };
    if (run_capture(argv, out, sizeof(out)) != 0 || strncmp(out, "installed ", 10) != 0)
        return NULL;
    return json_object_new_string(first_line(out + 10));
}

/* The Debian package that holds a file (dpkg -S; the real path too, for merged /usr), or NULL. */
static json_object *package_of(const char *path)
{
    char out[1024], real[PATH_MAX];
    const char *tries[2] = { path, realpath(path, real) ? real : NULL };
    for (size_t i = 0; i < 2 && tries[i]; i++) {
        char *argv[] = { "dpkg", "-S", (char *)tries[i], NULL };
        if (run_capture(argv, out, sizeof(out)) == 0 && strstr(out, ": ")) {
            *strstr(out, ": ") = '\0';
            return json_object_new_string(first_line(out));
        }
    }
    return NULL;
}

/* The GOST engine the doctor loaded: id and name, file, and its package with the version. */
static json_object *engine_version(void)
{
    json_object *o = json_object_new_object();
    const char *path = gost_backend_path();
    json_object_object_add(
        o, "engine", gost_backend_name()[0] ? json_object_new_string(gost_backend_name()) : NULL);
    json_object_object_add(o, "path", path[0] ? json_object_new_string(path) : NULL);
    json_object_object_add(o, "package", path[0] ? package_of(path) : NULL);
    json_object_object_add(o, "libengine-gost-openssl", package_version("libengine-gost-openssl"));
    return o;
}

/* pcsc-lite: what `pcscd --version` says, and the packages of the daemon and the library. */
static json_object *pcsc_version(void)
{
    json_object *o = json_object_new_object();
    static const char *const programs[] = { "pcscd", "/usr/sbin/pcscd" };
    char out[1024];
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = { (char *)programs[i], "--version", NULL };
        if (run_capture(argv, out, sizeof(out)) == 0) {
            json_object_object_add(o, "pcscd_version", json_object_new_string(first_line(out)));
            break;
        }
    }
    json_object_object_add(o, "pcscd", package_version("pcscd"));
    json_object_object_add(o, "libpcsclite1", package_version("libpcsclite1"));
    return o;
}

/* One evidence string of a check, or NULL. */
static json_object *evidence(const doctor_check *c, const char *key)
{
    json_object *v;
    return c->evidence && json_object_object_get_ex(c->evidence, key, &v) ? json_object_get(v)
                                                                          : NULL;
}

/* Every PKCS#11 module the doctor loaded: C_GetInfo's version and maker, and its package. */
static json_object *module_versions(const doctor_ctx *ctx)
{
    static const char *const keys[] = { "path", "library_version", "manufacturer", "description" };
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ctx->count; i++) {
        const doctor_check *c = &ctx->checks[i];
        if (strcmp(c->id, "modules.load") != 0)
            continue;
        json_object *m = json_object_new_object(), *path = evidence(c, "path");
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            json_object_object_add(m, keys[k], evidence(c, keys[k]));
        json_object_object_add(m, "loads", json_object_new_boolean(c->status == DOCTOR_OK));
        json_object_object_add(m, "package",
                               path ? package_of(json_object_get_string(path)) : NULL);
        json_object_put(path);
        json_object_array_add(arr, m);
    }
    return arr;
}

/* The browsers gostsign serves: the Debian package's version, else the program's --version. */
static json_object *browser_versions(void)
{
    static const struct {
        const char *name, *package, *program;
    } browsers[] = {
        { "chromium", "chromium", "chromium" },
        { "google-chrome", "google-chrome-stable", "google-chrome" },
        { "firefox-esr", "firefox-esr", "firefox-esr" },
        { "firefox", "firefox", "firefox" },
        { "yandex-browser", "yandex-browser-stable", "yandex-browser" },
        { "microsoft-edge", "microsoft-edge-stable", "microsoft-edge" },
        { "chromium-gost", "chromium-gost-stable", "chromium-gost" },
    };
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]); i++) {
        json_object *v = package_version(browsers[i].package);
        char out[512];
        char *argv[] = { (char *)browsers[i].program, "--version", NULL };
        if (!v && run_capture(argv, out, sizeof(out)) == 0 && out[0])
            v = json_object_new_string(first_line(out));
        json_object_object_add(o, browsers[i].name, v);
    }
    return o;
}

/* PRETTY_NAME of /etc/os-release, without the quotes (and backslash escapes) of its syntax. */
static json_object *os_name(void)
{
    json_object *os = NULL;
    FILE *f = fopen("/etc/os-release", "r");
    char line[256], name[256];
    while (f && !os && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        size_t n = 0;
        for (const char *p = line + 12; *p && *p != '\n' && n + 1 < sizeof(name); p++) {
            if (*p == '"' || *p == '\'')
                continue;
            if (*p == '\\' && p[1] && p[1] != '\n')
                p++;
            name[n++] = *p;
        }
        name[n] = '\0';
        os = json_object_new_string(name);
    }
    if (f)
        fclose(f);
    return os;
}

/* Versions of what the doctor ran with and of the pieces around it. */
static json_object *versions(const doctor_ctx *ctx)
{
    json_object *v = json_object_new_object();
    struct utsname u;
    json_object_object_add(v, "gostsign", json_object_new_string(GOSTSIGN_VERSION));
    json_object_object_add(v, "openssl", json_object_new_string(OpenSSL_version(OPENSSL_VERSION)));
    if (uname(&u) == 0) {
        char k[512];
        snprintf(k, sizeof(k), "%s %s %s", u.sysname, u.release, u.machine);
        json_object_object_add(v, "kernel", json_object_new_string(k));
    }
    json_object_object_add(v, "os", os_name());
    json_object_object_add(v, "gost_engine", engine_version());
    json_object_object_add(v, "pcsc_lite", pcsc_version());
    json_object_object_add(v, "libccid", package_version("libccid"));
    json_object_object_add(v, "pkcs11_modules", module_versions(ctx));
    json_object_object_add(v, "browsers", browser_versions());
    return v;
}

/*
 * The running agent's `status` (its last errors with codes and times, and the PIN pauses), kept
 * in its memory: the bundle has them also where there is no journal. Null when no agent runs.
 */
static json_object *agent_status(void)
{
    gs_status st;
    gs_status_clear(&st);
    agent_conn *conn = agent_connect(0, &st);
    json_object *r = NULL;
    if (!conn || agent_call(conn, "status", "local:gostsign-doctor", NULL, NULL, NULL, &r, &st) !=
                     GS_ERR_OK) {
        json_object_put(r);
        r = json_object_new_object();
        json_object_object_add(r, "unavailable",
                               json_object_new_string(gs_error_lookup(st.code)->name));
    }
    agent_disconnect(conn);
    return r;
}

/* A configuration file as parsed JSON; its text when it does not parse; null when absent. */
static json_object *config_file(const char *path)
{
    if (access(path, R_OK) != 0)
        return NULL;
    json_object *j = json_object_from_file(path);
    return j ? j : json_object_new_string("(not valid JSON)");
}

/* Runs journalctl for the agent's recent lines; an array, or null when unavailable. */
static json_object *agent_log(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = { "journalctl", "--user",     "-t", "gostsign-agent", "-n",
                     LOG_LINES,    "--no-pager", "-o", "short-iso",      NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "journalctl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return NULL;
    }
    json_object *lines = json_object_new_array();
    FILE *f = fdopen(fds[0], "r");
    char line[2048];
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        json_object_array_add(lines, json_object_new_string(line));
    }
    if (f)
        fclose(f);
    int status;
    waitpid(pid, &status, 0);
    return lines;
}

int doctor_write_bundle(const doctor_ctx *ctx, const char *path, gs_status *st)
{
    json_object *b = json_object_new_object(), *cfg = json_object_new_object();
    char user[1024];
    json_object_object_add(b, "schema", json_object_new_int(DOCTOR_SCHEMA));
    json_object_object_add(b, "kind", json_object_new_string("gostsign-support-bundle"));
    json_object_object_add(b, "versions", versions(ctx));
    json_object_object_add(cfg, "system", config_file(AGENT_CONFIG_SYSTEM_PATH));
    json_object_object_add(
        cfg, "user", agent_config_user_path(user, sizeof(user)) == 0 ? config_file(user) : NULL);
    json_object_object_add(b, "config", cfg);
    json_object_object_add(b, "doctor", doctor_to_json(ctx));
    json_object_object_add(b, "agent", agent_status());
    json_object_object_add(b, "agent_log", agent_log());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *text = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PRETTY);
    size_t len = strlen(text);
    int ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    json_object_put(b);
    if (!ok) {
        gs_fail(st, GS_ERR_IO_ERROR, "cannot write the report %s", path);
        return -1;
    }
    return 0;
}
