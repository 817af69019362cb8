/*
 * The wrong-PIN limiter (see pin_limiter.h): per-token counters kept in owner-only files, and a
 * per-token gate so that PIN dialogs of one token never overlap. Calls only gost/.
 */
#include "pin_limiter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIMITER_MAX_TOKENS 64
#define LIMITER_MAGIC      "gostsign-pin-limiter-v1"

typedef struct {
    char key[160]; /* module + serial of the token */
    int failures;
    time_t cooldown_until;
    int gate_busy; /* a request is between its dialog and the login's verdict */
} token_counter;

struct pin_limiter {
    pthread_mutex_t lock;
    pthread_cond_t gate_changed;
    int max_failures;
    int cooldown_seconds;
    char dir[512]; /* "" when the counters live only in memory */
    token_counter tokens[LIMITER_MAX_TOKENS];
    size_t count;
};

/* mkdir -p with owner-only new directories; an existing one must be ours and not a symlink. */
static int make_private_dir(const char *path)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s", path);
    if (n <= 0 || (size_t)n >= sizeof(buf))
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat sb;
    return lstat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
                   (sb.st_mode & 0022) == 0
               ? 0
               : -1;
}

pin_limiter *pin_limiter_new(const char *state_dir, int max_failures, int cooldown_seconds)
{
    pin_limiter *lim = calloc(1, sizeof(*lim));
    if (!lim)
        return NULL;
    pthread_mutex_init(&lim->lock, NULL);
    pthread_cond_init(&lim->gate_changed, NULL);
    lim->max_failures = max_failures > 0 ? max_failures : 3;
    lim->cooldown_seconds = cooldown_seconds > 0 ? cooldown_seconds : 900;
    if (state_dir && make_private_dir(state_dir) == 0)
        snprintf(lim->dir, sizeof(lim->dir), "%s", state_dir);
    else if (state_dir) {
        pin_limiter_free(lim);
        return NULL;
    }
    return lim;
}

void pin_limiter_free(pin_limiter *lim)
{
    if (!lim)
        return;
    pthread_cond_destroy(&lim->gate_changed);
    pthread_mutex_destroy(&lim->lock);
    free(lim);
}

int pin_limiter_default_dir(char *out, size_t cap)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (state && state[0] == '/')
        n = snprintf(out, cap, "%s/gostsign/pin-limiter", state);
    else if (home && home[0] == '/')
        n = snprintf(out, cap, "%s/.local/state/gostsign/pin-limiter", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The file of a token: its key hashed, so no key text ever becomes a path. */
static int counter_path(const pin_limiter *lim, const char *key, char *out, size_t cap)
{
    uint8_t h[32];
    char hex[65];
    gs_status st;
    if (gost_digest_buffer(256, key, strlen(key), h, &st) != GS_ERR_OK)
        return -1;
    for (size_t i = 0; i < sizeof(h); i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    int n = snprintf(out, cap, "%s/%s", lim->dir, hex);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Reads a token's counter from disk; a damaged file counts as a pause from its last change. */
static void load_counter(pin_limiter *lim, token_counter *c)
{
    char path[640], buf[512];
    if (!lim->dir[0] || counter_path(lim, c->key, path, sizeof(path)) != 0)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    c->failures = 0;
    c->cooldown_until = 0;
    if (fd < 0)
        return; /* no file: no failures */
    struct stat sb;
    ssize_t n = fstat(fd, &sb) == 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    long failures = -1;
    long long until = -1;
    char key[160];
    if (sscanf(buf, LIMITER_MAGIC "\nkey=%159[^\n]\nfailures=%ld\nuntil=%lld\n", key, &failures,
               &until) != 3 ||
        strcmp(key, c->key) != 0 || failures < 0 || until < 0) {
        c->failures = lim->max_failures;
        c->cooldown_until = sb.st_mtime + lim->cooldown_seconds;
        return;
    }
    c->failures = (int)failures;
    c->cooldown_until = (time_t)until;
}

/* Writes a token's counter crash-safely: a synced temporary file renamed over the old one. */
static gs_code store_counter(pin_limiter *lim, const token_counter *c, gs_status *st)
{
    char path[640], tmp[700], text[320];
    if (!lim->dir[0])
        return GS_ERR_OK;
    if (counter_path(lim, c->key, path, sizeof(path)) != 0)
        return gs_fail(st, GS_ERR_INTERNAL, "limiter state path");
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    int len = snprintf(text, sizeof(text), LIMITER_MAGIC "\nkey=%s\nfailures=%d\nuntil=%lld\n",
                       c->key, c->failures, (long long)c->cooldown_until);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int ok = fd >= 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        int err = errno;
        unlink(tmp);
        return gs_fail(st, GS_ERR_IO_ERROR, "PIN limiter state in %s: %s", lim->dir,
                       strerror(err));
    }
    int dfd = open(lim->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return GS_ERR_OK;
}

/* Finds or adds a token's counter, fresh from disk. Caller holds the lock. */
static token_counter *counter_for(pin_limiter *lim, const char *key)
{
    token_counter *c = NULL;
    for (size_t i = 0; i < lim->count && !c; i++)
        if (strcmp(lim->tokens[i].key, key) == 0)
            c = &lim->tokens[i];
    if (!c) {
        for (size_t i = 0; i < lim->count && !c; i++) /* reuse an idle slot of a memory-less one */
            if (lim->count == LIMITER_MAX_TOKENS && !lim->tokens[i].gate_busy && lim->dir[0])
                c = &lim->tokens[i];
        if (!c && lim->count == LIMITER_MAX_TOKENS)
            return NULL;
        if (!c)
            c = &lim->tokens[lim->count++];
        memset(c, 0, sizeof(*c));
        snprintf(c->key, sizeof(c->key), "%s", key);
    }
    load_counter(lim, c);
    return c;
}

/* A finished cooldown gives the token a fresh set of attempts. */
static void expire_cooldown(token_counter *c, time_t now)
{
    if (c->cooldown_until && now >= c->cooldown_until) {
        c->cooldown_until = 0;
        c->failures = 0;
    }
}

/* The refusal while paused, with the wait in the detail. */
static gs_code paused_failure(const token_counter *c, time_t now, gs_status *st)
{
    return gs_fail(st, GS_ERR_PIN_LIMITER, "%d wrong PINs; signing resumes in %ld s", c->failures,
                   (long)(c->cooldown_until - now));
}

gs_code pin_limiter_check(pin_limiter *lim, const char *token_key, time_t now, gs_status *st)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    gs_code rc = c ? GS_ERR_OK : gs_fail(st, GS_ERR_AGENT_BUSY, "too many tokens in the limiter");
    if (c) {
        expire_cooldown(c, now);
        if (c->cooldown_until)
            rc = paused_failure(c, now, st);
    }
    pthread_mutex_unlock(&lim->lock);
    return rc;
}

int pin_limiter_remaining(pin_limiter *lim, const char *token_key, time_t now)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    int left = 0;
    if (c) {
        expire_cooldown(c, now);
        left = c->cooldown_until ? 0 : lim->max_failures - c->failures;
    }
    pthread_mutex_unlock(&lim->lock);
    return left < 0 ? 0 : left;
}

time_t pin_limiter_paused_until(pin_limiter *lim, const char *token_key, time_t now)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    time_t until = 0;
    if (c) {
        expire_cooldown(c, now);
        until = c->cooldown_until;
    }
    pthread_mutex_unlock(&lim->lock);
    return until;
}

gs_code pin_limiter_gate_enter(pin_limiter *lim, const char *token_key, const atomic_int *cancelled,
                               time_t deadline, int *waited, gs_status *st)
{
    gs_code rc = GS_ERR_OK;
    *waited = 0;
    pthread_mutex_lock(&lim->lock);
    for (;;) {
        token_counter *c = counter_for(lim, token_key);
        if (!c) {
            rc = gs_fail(st, GS_ERR_AGENT_BUSY, "too many tokens in the limiter");
            break;
        }
        if (!c->gate_busy) {
            c->gate_busy = 1;
            break;
        }
        *waited = 1;
        if (cancelled && atomic_load(cancelled)) {
            rc = gs_fail(st, GS_ERR_CANCELLED, "cancelled while another PIN dialog was open");
            break;
        }
        if (time(NULL) >= deadline) {
            rc = gs_fail(st, GS_ERR_TIMEOUT, "another PIN dialog for this token stayed open");
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000 * 1000; /* wake to notice a cancel */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&lim->gate_changed, &lim->lock, &ts);
    }
    pthread_mutex_unlock(&lim->lock);
    return rc;
}

void pin_limiter_gate_leave(pin_limiter *lim, const char *token_key)
{
    pthread_mutex_lock(&lim->lock);
    for (size_t i = 0; i < lim->count; i++)
        if (strcmp(lim->tokens[i].key, token_key) == 0)
            lim->tokens[i].gate_busy = 0;
    pthread_cond_broadcast(&lim->gate_changed);
    pthread_mutex_unlock(&lim->lock);
}

gs_code pin_limiter_begin_attempt(pin_limiter *lim, const char *token_key, time_t now,
                                  gs_status *st)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    gs_code rc = c ? GS_ERR_OK : gs_fail(st, GS_ERR_AGENT_BUSY, "too many tokens in the limiter");
    if (c) {
        expire_cooldown(c, now);
        if (c->cooldown_until) {
            rc = paused_failure(c, now, st);
        } else {
            c->failures++;
            if (c->failures >= lim->max_failures)
                c->cooldown_until = now + lim->cooldown_seconds;
            rc = store_counter(lim, c, st);
        }
    }
    pthread_mutex_unlock(&lim->lock);
    return rc;
}

void pin_limiter_finish_attempt(pin_limiter *lim, const char *token_key, gs_code login_result,
                                time_t now)
{
    if (login_result == GS_ERR_PIN_INCORRECT)
        return; /* the failure was written down before the login */
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    if (c) {
        if (login_result == GS_ERR_OK) {
            c->failures = 0;
            c->cooldown_until = 0;
        } else if (c->failures > 0) { /* no verdict on the PIN: the attempt is given back */
            c->failures--;
            if (c->failures < lim->max_failures && c->cooldown_until > now)
                c->cooldown_until = 0;
        }
        gs_status ignored;
        store_counter(lim, c, &ignored);
    }
    pthread_mutex_unlock(&lim->lock);
}

gs_code pin_limiter_clear(pin_limiter *lim, const char *token_key, gs_status *st)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key);
    gs_code rc = GS_ERR_OK;
    if (c) {
        c->failures = 0;
        c->cooldown_until = 0;
        rc = store_counter(lim, c, st);
    }
    pthread_mutex_unlock(&lim->lock);
    return rc;
}
