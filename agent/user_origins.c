/* The user's list of extra allowed origins (see user_origins.h). Calls origin.c and gost/. */
#include "user_origins.h"
#include "origin.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_ORIGINS_MAX 64

struct user_origins {
    pthread_mutex_t lock;
    char path[512];
    size_t count;
    char *items[USER_ORIGINS_MAX];
};

int user_origins_default_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/gostsign/origins.json", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.config/gostsign/origins.json", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Reads the file's array into u (caller holds nothing yet: called once at load). */
static gs_code read_list(user_origins *u, gs_status *st)
{
    if (access(u->path, F_OK) != 0)
        return GS_ERR_OK;
    json_object *root = json_object_from_file(u->path), *arr;
    if (!root || !json_object_object_get_ex(root, "allowed_origins", &arr) ||
        !json_object_is_type(arr, json_type_array)) {
        json_object_put(root);
        return gs_fail(st, GS_ERR_BAD_JSON, "%s: needs {\"allowed_origins\": [...]}", u->path);
    }
    for (size_t i = 0; i < json_object_array_length(arr) && u->count < USER_ORIGINS_MAX; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        web_origin o;
        if (json_object_is_type(v, json_type_string) &&
            origin_parse(json_object_get_string(v), &o, NULL) == GS_ERR_OK)
            u->items[u->count++] = strdup(json_object_get_string(v));
    }
    json_object_put(root);
    return GS_ERR_OK;
}

user_origins *user_origins_load(const char *path, gs_status *st)
{
    user_origins *u = calloc(1, sizeof(*u));
    if (!u) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "user origins");
        return NULL;
    }
    pthread_mutex_init(&u->lock, NULL);
    snprintf(u->path, sizeof(u->path), "%s", path ? path : "");
    if (path && read_list(u, st) != GS_ERR_OK) {
        user_origins_free(u);
        return NULL;
    }
    return u;
}

void user_origins_free(user_origins *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->count; i++)
        free(u->items[i]);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

int user_origins_allows(user_origins *u, const char *origin)
{
    if (!u)
        return 0;
    pthread_mutex_lock(&u->lock);
    int yes = origin_in_list(u->items, u->count, origin);
    pthread_mutex_unlock(&u->lock);
    return yes;
}

json_object *user_origins_json(user_origins *u)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&u->lock);
    for (size_t i = 0; i < u->count; i++)
        json_object_array_add(arr, json_object_new_string(u->items[i]));
    pthread_mutex_unlock(&u->lock);
    return arr;
}

/* Writes the list: a temporary file, synced, renamed over the old one. Caller holds the lock. */
static gs_code write_list(user_origins *u, gs_status *st)
{
    char tmp[600], dir[512];
    snprintf(dir, sizeof(dir), "%s", u->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    for (size_t i = 0; i < u->count; i++)
        json_object_array_add(arr, json_object_new_string(u->items[i]));
    json_object_object_add(root, "allowed_origins", arr);
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", u->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t n = strlen(text);
    int ok = fd >= 0 && write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
             fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, u->path) == 0;
    int err = errno;
    json_object_put(root);
    if (!ok) {
        unlink(tmp);
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", u->path, strerror(err));
    }
    return GS_ERR_OK;
}

/* The origin in its normal form ("https://host[:port]"), refusing anything but one https site. */
static gs_code normalise(const char *origin, char *out, size_t cap, gs_status *st)
{
    web_origin o;
    gs_code rc = origin_parse(origin, &o, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (strcmp(o.scheme, "https") != 0 || strchr(o.host, '*'))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "only one https site can be added");
    if (o.port && o.port != 443)
        snprintf(out, cap, "https://%s:%d", o.host, o.port);
    else
        snprintf(out, cap, "https://%s", o.host);
    return GS_ERR_OK;
}

gs_code user_origins_add(user_origins *u, const char *origin, gs_status *st)
{
    char norm[300];
    gs_code rc = normalise(origin, norm, sizeof(norm), st);
    if (rc != GS_ERR_OK)
        return rc;
    pthread_mutex_lock(&u->lock);
    int present = 0;
    for (size_t i = 0; i < u->count; i++)
        present |= strcmp(u->items[i], norm) == 0;
    if (!present && u->count >= USER_ORIGINS_MAX)
        rc = gs_fail(st, GS_ERR_BAD_REQUEST, "the user list holds %d sites", USER_ORIGINS_MAX);
    else if (!present && !(u->items[u->count] = strdup(norm)))
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "origin");
    else if (!present) {
        u->count++;
        rc = write_list(u, st);
    }
    pthread_mutex_unlock(&u->lock);
    return rc;
}

gs_code user_origins_remove(user_origins *u, const char *origin, gs_status *st)
{
    char norm[300];
    gs_code rc = normalise(origin, norm, sizeof(norm), st);
    if (rc != GS_ERR_OK)
        return rc;
    pthread_mutex_lock(&u->lock);
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->items[i], norm) == 0) {
            free(u->items[i]);
            u->items[i] = u->items[--u->count];
            rc = write_list(u, st);
            break;
        }
    pthread_mutex_unlock(&u->lock);
    return rc;
}
