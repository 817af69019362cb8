/* Reading the agent configuration files with json-c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

/* The Gosuslugi / ESIA family of sites, the product's main use. */
static const char *const default_origins[] = {
    "https://gosuslugi.ru",
    "https://esia.gosuslugi.ru",
    "https://lk.gosuslugi.ru",
    "https://*.gosuslugi.ru",
};

/* Frees every string of a list and empties it. */
static void list_clear(char **items, size_t *count)
{
    for (size_t i = 0; i < *count; i++)
        free(items[i]);
    *count = 0;
}

/* Appends a copy of value; refuses when the list is full. */
static gs_code list_add(char **items, size_t *count, const char *value, gs_status *st)
{
    if (*count >= AGENT_CONFIG_MAX_LIST)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "more than %d entries in a config list",
                       AGENT_CONFIG_MAX_LIST);
    items[*count] = strdup(value);
    if (!items[*count])
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "config");
    (*count)++;
    return GS_ERR_OK;
}

/* Replaces a string field with a copy. */
static gs_code set_string(char **field, const char *value, gs_status *st)
{
    char *copy = strdup(value);
    if (!copy)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "config");
    free(*field);
    *field = copy;
    return GS_ERR_OK;
}

gs_code agent_config_defaults(agent_config *cfg, gs_status *st)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < sizeof(default_origins) / sizeof(default_origins[0]); i++)
        if (list_add(cfg->origins, &cfg->origin_count, default_origins[i], st) != GS_ERR_OK ||
            list_add(cfg->hash_origins, &cfg->hash_origin_count, default_origins[i], st) !=
                GS_ERR_OK)
            return st->code;
    cfg->pin_max_failures = 3;
    cfg->pin_cooldown_seconds = 15 * 60;
    cfg->request_timeout_seconds = 120;
    cfg->revocation_timeout_seconds = AGENT_REVOCATION_TIMEOUT_DEFAULT;
    cfg->module_unload_seconds = 60;
    cfg->idle_exit_seconds = -1;
    cfg->idle_shrink_seconds = -1;
    if (set_string(&cfg->pinentry, "pinentry", st) != GS_ERR_OK ||
        set_string(&cfg->load_registered_modules, "on_device", st) != GS_ERR_OK ||
        set_string(&cfg->log_level, "info", st) != GS_ERR_OK)
        return st->code;
    return GS_ERR_OK;
}

/* Reads an array of strings into a list, replacing or extending it. */
static gs_code read_string_list(json_object *arr, char **items, size_t *count, int replace,
                                const char *path, const char *key, gs_status *st)
{
    if (!json_object_is_type(arr, json_type_array))
        return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"%s\" must be an array of strings", path, key);
    if (replace)
        list_clear(items, count);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string))
            return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"%s\" must hold strings", path, key);
        if (list_add(items, count, json_object_get_string(v), st) != GS_ERR_OK)
            return st->code;
    }
    return GS_ERR_OK;
}

/* Reads a positive integer option if present. */
static gs_code read_positive_int(json_object *root, const char *key, int *out, const char *path,
                                 gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v))
        return GS_ERR_OK;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) <= 0)
        return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"%s\" must be a positive integer", path, key);
    *out = json_object_get_int(v);
    return GS_ERR_OK;
}

/* Reads a non-negative integer option if present (0 turns the feature off). */
static gs_code read_non_negative_int(json_object *root, const char *key, int *out, const char *path,
                                     gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v))
        return GS_ERR_OK;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
        json_object_get_int64(v) > 86400 * 365)
        return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"%s\" must be a whole number of seconds >= 0",
                       path, key);
    *out = json_object_get_int(v);
    return GS_ERR_OK;
}

/* Reads a string option if present. */
static gs_code read_string(json_object *root, const char *key, char **out, const char *path,
                           gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v))
        return GS_ERR_OK;
    if (!json_object_is_type(v, json_type_string))
        return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"%s\" must be a string", path, key);
    return set_string(out, json_object_get_string(v), st);
}

/* When registered modules load: one of three words, anything else is a mistake to report. */
static gs_code read_load_policy(json_object *root, agent_config *cfg, const char *path,
                                gs_status *st)
{
    json_object *v;
    if (!json_object_object_get_ex(root, "load_registered_modules", &v))
        return GS_ERR_OK;
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    if (strcmp(s, "on_device") != 0 && strcmp(s, "always") != 0 && strcmp(s, "never") != 0)
        return gs_fail(st, GS_ERR_BAD_JSON,
                       "%s: \"load_registered_modules\" must be \"on_device\", \"always\" or "
                       "\"never\"",
                       path);
    return set_string(&cfg->load_registered_modules, s, st);
}

/* The origin keys: the system file replaces the list, the user file may only add to it. */
static gs_code apply_origins(agent_config *cfg, json_object *root, int is_system, const char *path,
                             gs_status *st)
{
    json_object *v;
    if (json_object_object_get_ex(root, "allowed_origins", &v)) {
        if (!is_system && cfg->origins_locked)
            return GS_ERR_OK; /* the administrator locked the list; user additions are ignored */
        gs_code rc = read_string_list(v, cfg->origins, &cfg->origin_count, is_system, path,
                                      "allowed_origins", st);
        if (rc != GS_ERR_OK)
            return rc;
    }
    if (json_object_object_get_ex(root, "allow_localhost", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return gs_fail(st, GS_ERR_BAD_JSON, "%s: \"allow_localhost\" must be true or false",
                           path);
        if (is_system || !cfg->origins_locked)
            cfg->allow_localhost = json_object_get_boolean(v);
    }
    if (is_system && json_object_object_get_ex(root, "lock_origins", &v))
        cfg->origins_locked = json_object_get_boolean(v);
    /* hash signing is the administrator's decision: only the system file sets its list */
    if (is_system && json_object_object_get_ex(root, "hash_sign_origins", &v))
        return read_string_list(v, cfg->hash_origins, &cfg->hash_origin_count, 1, path,
                                "hash_sign_origins", st);
    return GS_ERR_OK;
}

/*
 * check_revocation_before_sign: "off", "warn" or "require". A user file may make the system's
 * policy stricter, never weaker: the administrator's "require" stays.
 */
static gs_code read_revocation_policy(agent_config *cfg, json_object *root, int is_system,
                                      const char *path, gs_status *st)
{
    static const char *const words[] = { "off", "warn", "require" };
    json_object *v;
    if (!json_object_object_get_ex(root, "check_revocation_before_sign", &v))
        return GS_ERR_OK;
    const char *word = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    for (int i = 0; i < 3; i++)
        if (strcmp(word, words[i]) == 0) {
            if (is_system || (agent_revocation_policy)i > cfg->revocation_policy)
                cfg->revocation_policy = (agent_revocation_policy)i;
            return GS_ERR_OK;
        }
    return gs_fail(st, GS_ERR_BAD_JSON,
                   "%s: \"check_revocation_before_sign\" must be \"off\", \"warn\" or \"require\"",
                   path);
}

/* Applies every known key of one parsed file. */
static gs_code apply_json(agent_config *cfg, json_object *root, int is_system, const char *path,
                          gs_status *st)
{
    json_object *v;
    gs_code rc = apply_origins(cfg, root, is_system, path, st);
    if (rc == GS_ERR_OK && json_object_object_get_ex(root, "modules", &v))
        rc = read_string_list(v, cfg->modules, &cfg->module_count, 0, path, "modules", st);
    if (rc == GS_ERR_OK)
        rc = read_load_policy(root, cfg, path, st);
    if (rc == GS_ERR_OK)
        rc =
            read_positive_int(root, "module_unload_seconds", &cfg->module_unload_seconds, path, st);
    if (rc == GS_ERR_OK)
        rc = read_string(root, "pinentry", &cfg->pinentry, path, st);
    if (rc == GS_ERR_OK)
        rc = read_string(root, "log_level", &cfg->log_level, path, st);
    if (rc == GS_ERR_OK)
        rc = read_positive_int(root, "pin_max_failures", &cfg->pin_max_failures, path, st);
    if (rc == GS_ERR_OK)
        rc = read_positive_int(root, "pin_cooldown_seconds", &cfg->pin_cooldown_seconds, path, st);
    if (rc == GS_ERR_OK)
        rc = read_positive_int(root, "request_timeout_seconds", &cfg->request_timeout_seconds, path,
                               st);
    if (rc == GS_ERR_OK)
        rc = read_revocation_policy(cfg, root, is_system, path, st);
    if (rc == GS_ERR_OK)
        rc = read_positive_int(root, "revocation_timeout_seconds", &cfg->revocation_timeout_seconds,
                               path, st);
    if (rc == GS_ERR_OK)
        rc = read_non_negative_int(root, "idle_exit_seconds", &cfg->idle_exit_seconds, path, st);
    if (rc == GS_ERR_OK)
        rc =
            read_non_negative_int(root, "idle_shrink_seconds", &cfg->idle_shrink_seconds, path, st);
    return rc;
}

/* Owners whose files may steer the agent: this user, and root (who could do so anyway). */
static int trusted_owner(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}

/* What makes a config file (or its directory) a way for others to run code as us, or NULL. */
static const char *unsafe_reason(const struct stat *sb, int is_dir)
{
    if (!is_dir && !S_ISREG(sb->st_mode))
        return "is not a regular file";
    if (!trusted_owner(sb->st_uid))
        return "belongs to another user";
    if (is_dir && (sb->st_mode & S_ISVTX))
        return NULL; /* sticky: others may not replace or rename a file of ours in it */
    if (sb->st_mode & (S_IWGRP | S_IWOTH))
        return "is writable by group or others";
    return NULL;
}

/* The directory part of a path: others who may write there could swap the file. */
static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* Refuses a file that someone other than us or root owns or may write, or that sits in such a
 * directory. */
static gs_code check_config_safe(int fd, const char *path, gs_status *st)
{
    struct stat sb;
    char dir[512];
    if (fstat(fd, &sb) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    const char *why = unsafe_reason(&sb, 0);
    if (why)
        return gs_fail(st, GS_ERR_CONFIG_UNSAFE, "%s %s (owner uid %u, mode %04o)", path, why,
                       (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
    dir_of(path, dir, sizeof(dir));
    if (stat(dir, &sb) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", dir, strerror(errno));
    why = unsafe_reason(&sb, 1);
    if (why)
        return gs_fail(st, GS_ERR_CONFIG_UNSAFE,
                       "the directory %s of %s %s (owner uid %u, mode %04o)", dir, path, why,
                       (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
    return GS_ERR_OK;
}

/* Largest configuration file read: far more than any real one. */
#define CONFIG_MAX_BYTES (256 * 1024)

/*
 * Strict JSON (RFC 8259): a trailing comma, a truncated file or text after the object is a
 * BAD_JSON that names the file and the position, never a silently half-read configuration.
 */
static gs_code parse_strict(int fd, const char *path, json_object **out, gs_status *st)
{
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    size_t len = 0;
    ssize_t n = 1;
    while (buf && len < CONFIG_MAX_BYTES &&
           ((n = read(fd, buf + len, CONFIG_MAX_BYTES - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    if (!buf || n < 0) {
        free(buf);
        return gs_fail(st, buf ? GS_ERR_IO_ERROR : GS_ERR_OUT_OF_MEMORY, "%s", path);
    }
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    *out = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
    enum json_tokener_error jerr = tok ? json_tokener_get_error(tok) : json_tokener_error_depth;
    size_t used = tok ? json_tokener_get_parse_end(tok) : 0;
    while (used < len && strchr(" \t\r\n", buf[used]))
        used++;
    json_tokener_free(tok);
    free(buf);
    if (*out && jerr == json_tokener_success && used == len)
        return GS_ERR_OK;
    json_object_put(*out);
    *out = NULL;
    return gs_fail(st, GS_ERR_BAD_JSON, "%s: %s at byte %zu", path,
                   jerr == json_tokener_continue  ? "the file ends inside the JSON (truncated?)"
                   : jerr != json_tokener_success ? json_tokener_error_desc(jerr)
                                                  : "text after the JSON object",
                   used);
}

/* Parses an opened, checked file; the fd (not the path again) so the checked file is the one read.
 */
static gs_code apply_fd(agent_config *cfg, int fd, int is_system, const char *path, gs_status *st)
{
    json_object *root = NULL;
    gs_code rc = parse_strict(fd, path, &root, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (!json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return gs_fail(st, GS_ERR_BAD_JSON, "%s is not a JSON object", path);
    }
    rc = apply_json(cfg, root, is_system, path, st);
    json_object_put(root);
    return rc;
}

gs_code agent_config_load_file(agent_config *cfg, const char *path, int is_system, gs_status *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? GS_ERR_OK
                               : gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    gs_code rc = check_config_safe(fd, path, st);
    if (rc == GS_ERR_OK)
        rc = apply_fd(cfg, fd, is_system, path, st);
    close(fd);
    return rc;
}

gs_code agent_config_load(agent_config *cfg, const char *system_path, const char *user_path,
                          gs_status *st)
{
    gs_code rc = agent_config_defaults(cfg, st);
    if (rc == GS_ERR_OK && system_path)
        rc = agent_config_load_file(cfg, system_path, 1, st);
    if (rc == GS_ERR_OK && user_path)
        rc = agent_config_load_file(cfg, user_path, 0, st);
    return rc;
}

void agent_config_free(agent_config *cfg)
{
    list_clear(cfg->origins, &cfg->origin_count);
    list_clear(cfg->hash_origins, &cfg->hash_origin_count);
    list_clear(cfg->modules, &cfg->module_count);
    free(cfg->pinentry);
    free(cfg->log_level);
    free(cfg->load_registered_modules);
    memset(cfg, 0, sizeof(*cfg));
}

int agent_config_user_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/gostsign/agent.json", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.config/gostsign/agent.json", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}
