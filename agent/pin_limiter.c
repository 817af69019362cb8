/* The wrong-PIN limiter: a small table of per-token counters behind one mutex. */
#include "pin_limiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LIMITER_MAX_TOKENS 64

typedef struct {
    char key[160]; /* module + serial of the token */
    int failures;
    time_t cooldown_until;
} token_counter;

struct pin_limiter {
    pthread_mutex_t lock;
    int max_failures;
    int cooldown_seconds;
    token_counter tokens[LIMITER_MAX_TOKENS];
    size_t count;
};

pin_limiter *pin_limiter_new(int max_failures, int cooldown_seconds)
{
    pin_limiter *lim = calloc(1, sizeof(*lim));
    if (!lim)
        return NULL;
    pthread_mutex_init(&lim->lock, NULL);
    lim->max_failures = max_failures > 0 ? max_failures : 3;
    lim->cooldown_seconds = cooldown_seconds > 0 ? cooldown_seconds : 900;
    return lim;
}

void pin_limiter_free(pin_limiter *lim)
{
    if (!lim)
        return;
    pthread_mutex_destroy(&lim->lock);
    free(lim);
}

/* Finds (or, when create is set, adds) the counter of a token. Caller holds the lock. */
static token_counter *counter_for(pin_limiter *lim, const char *key, int create)
{
    for (size_t i = 0; i < lim->count; i++)
        if (strcmp(lim->tokens[i].key, key) == 0)
            return &lim->tokens[i];
    if (!create)
        return NULL;
    size_t slot = lim->count < LIMITER_MAX_TOKENS ? lim->count++ : 0; /* full: reuse oldest */
    token_counter *c = &lim->tokens[slot];
    memset(c, 0, sizeof(*c));
    strncpy(c->key, key, sizeof(c->key) - 1);
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

gs_code pin_limiter_check(pin_limiter *lim, const char *token_key, time_t now, gs_status *st)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key, 0);
    gs_code rc = GS_ERR_OK;
    if (c) {
        expire_cooldown(c, now);
        if (c->cooldown_until)
            rc = gs_fail(st, GS_ERR_PIN_LIMITER, "%d wrong PINs; signing resumes in %ld s",
                         c->failures, (long)(c->cooldown_until - now));
    }
    pthread_mutex_unlock(&lim->lock);
    return rc;
}

void pin_limiter_record(pin_limiter *lim, const char *token_key, gs_code login_result, time_t now)
{
    if (login_result != GS_ERR_OK && login_result != GS_ERR_PIN_INCORRECT)
        return;
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key, login_result == GS_ERR_PIN_INCORRECT);
    if (c) {
        expire_cooldown(c, now);
        if (login_result == GS_ERR_OK) {
            c->failures = 0;
        } else if (++c->failures >= lim->max_failures) {
            c->cooldown_until = now + lim->cooldown_seconds;
        }
    }
    pthread_mutex_unlock(&lim->lock);
}

int pin_limiter_remaining(pin_limiter *lim, const char *token_key, time_t now)
{
    pthread_mutex_lock(&lim->lock);
    token_counter *c = counter_for(lim, token_key, 0);
    int left = lim->max_failures;
    if (c) {
        expire_cooldown(c, now);
        left = c->cooldown_until ? 0 : lim->max_failures - c->failures;
    }
    pthread_mutex_unlock(&lim->lock);
    return left;
}
