/*
 * `gostsign doctor --report FILE`: one JSON support bundle (schema 1) with versions, the agent
 * configuration files, the doctor's own JSON and recent agent journal lines. It never holds a PIN
 * or key material: the agent does not log them and nothing else here reads tokens' secrets.
 */
#include "agent.h"
#include "doctor.h"
#include "gostsign_version.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define LOG_LINES "200"

extern char **environ;

/* Versions of what the doctor ran with. */
static json_object *versions(void)
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
    json_object *os = NULL;
    FILE *f = fopen("/etc/os-release", "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        if (!os && strncmp(line, "PRETTY_NAME=", 12) == 0) {
            line[strcspn(line, "\n")] = '\0';
            os = json_object_new_string(line + 12);
        }
    if (f)
        fclose(f);
    json_object_object_add(v, "os", os);
    return v;
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
    json_object_object_add(b, "versions", versions());
    json_object_object_add(cfg, "system", config_file(AGENT_CONFIG_SYSTEM_PATH));
    json_object_object_add(
        cfg, "user", agent_config_user_path(user, sizeof(user)) == 0 ? config_file(user) : NULL);
    json_object_object_add(b, "config", cfg);
    json_object_object_add(b, "doctor", doctor_to_json(ctx));
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
