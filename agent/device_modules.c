/* Loading PKCS#11 modules while their devices are present, and unloading them after (see .h). */
#include "device_modules.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DM_MAX_CANDIDATES 32
#define DM_MAX_DEVICES    64

/* The software token holds the user's test keys in files: no device, always loaded. */
#define SOFTTOKEN_FILE    "gostsign-softtoken.so"
/* p11-kit's trust module holds CA certificates, never keys: the agent never needs it. */
#define TRUST_MODULE_FILE "p11-kit-trust.so"

/* Registered modules that are software tokens: no device ever needs them (config or "always"). */
static const char *const software_modules[] = { "libsofthsm2.so", "libsofthsm.so" };

typedef enum { LOAD_ON_DEVICE, LOAD_ALWAYS, LOAD_NEVER } load_policy;

typedef struct {
    char file_name[128];
    char path[512];
    int pinned;              /* configured, or the software token: never unloaded here */
    int software;            /* another software token: a device of unknown kind does not load it */
    long place;              /* the token cache's module place, -1 while not loaded */
    uint64_t unwanted_since; /* monotonic ms when its last device left; 0 while wanted */
} candidate;

typedef struct {
    char syspath[256];
    char module[128]; /* the table's module for it, "" for a device of unknown kind */
} present_device;

struct device_modules {
    token_cache *tc;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* on CLOCK_MONOTONIC: a new deadline, or stop */
    candidate cands[DM_MAX_CANDIDATES];
    size_t cand_count;
    present_device devices[DM_MAX_DEVICES];
    size_t device_count;
    load_policy policy;
    uint64_t grace_ms;
    int stop;
    pthread_t reaper;
    int reaper_running;
};

/* Milliseconds on the monotonic clock (never 0 in practice: the machine has been up). */
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

/* The file name part of a module path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The candidate with this module file name, or NULL. */
static candidate *find_candidate(device_modules *dm, const char *file_name)
{
    for (size_t i = 0; i < dm->cand_count; i++)
        if (strcmp(dm->cands[i].file_name, file_name) == 0)
            return &dm->cands[i];
    return NULL;
}

/* Adds a module once per file name (the first place named wins); NULL when not added. */
static candidate *add_candidate(device_modules *dm, const char *path, int pinned)
{
    const char *file = base_name(path);
    if (strcmp(file, TRUST_MODULE_FILE) == 0 || find_candidate(dm, file) ||
        dm->cand_count >= DM_MAX_CANDIDATES)
        return NULL;
    candidate *c = &dm->cands[dm->cand_count++];
    snprintf(c->file_name, sizeof(c->file_name), "%s", file);
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->pinned = pinned || strcmp(file, SOFTTOKEN_FILE) == 0;
    for (size_t i = 0; i < sizeof(software_modules) / sizeof(software_modules[0]); i++)
        c->software |= strcmp(file, software_modules[i]) == 0;
    c->place = -1;
    return c;
}

/* Configured modules (already loaded), then registered ones, then known vendor files on disk. */
static void collect_candidates(device_modules *dm, const agent_config *cfg)
{
    for (size_t i = 0; i < cfg->module_count; i++) {
        candidate *c = add_candidate(dm, cfg->modules[i], 1);
        if (c) /* loaded by the token cache: -1 when it failed, and then not tried again */
            c->place = token_cache_find_module(dm->tc, c->file_name);
    }
    p11_registered_module reg[DM_MAX_CANDIDATES];
    size_t n = p11_registered_modules(reg, DM_MAX_CANDIDATES);
    for (size_t i = 0; i < n; i++)
        add_candidate(dm, reg[i].path, 0);
    size_t known_count = 0;
    const p11_known_module *known = p11_known_modules(&known_count);
    for (size_t i = 0; i < known_count; i++) {
        char path[512];
        if (p11_known_module_locate(&known[i], path, sizeof(path)))
            add_candidate(dm, path, 0);
    }
}

/* Whether a present device needs a module the table does not name or that is not installed. */
static int unserved_device_present(device_modules *dm)
{
    for (size_t i = 0; i < dm->device_count; i++)
        if (!dm->devices[i].module[0] || !find_candidate(dm, dm->devices[i].module))
            return 1;
    return 0;
}

/* Whether the policy and the present devices want a module loaded now. */
static int wanted(device_modules *dm, const candidate *c)
{
    if (c->pinned || dm->policy == LOAD_ALWAYS)
        return 1;
    for (size_t i = 0; i < dm->device_count; i++)
        if (strcmp(dm->devices[i].module, c->file_name) == 0)
            return 1;
    /* a reader or token of unknown kind: any registered module may serve it (OpenSC often) */
    return dm->policy == LOAD_ON_DEVICE && !c->software && unserved_device_present(dm);
}

/* Loads what is wanted and not loaded, marks what is loaded and no longer wanted; locked. */
static void reconcile(device_modules *dm)
{
    uint64_t now = now_ms();
    for (size_t i = 0; i < dm->cand_count; i++) {
        candidate *c = &dm->cands[i];
        if (!wanted(dm, c)) {
            if (c->place >= 0 && !c->unwanted_since) {
                c->unwanted_since = now;
                pthread_cond_signal(&dm->wake);
            }
            continue;
        }
        c->unwanted_since = 0;
        if (c->place < 0) {
            c->place = token_cache_load_module(dm->tc, c->path);
            fprintf(stderr, "gostsign-agent: %s %s\n", c->place >= 0 ? "loaded" : "cannot load",
                    c->path);
        }
    }
}

/* Unloads the modules whose grace period ended; returns the next deadline (0: none). */
static uint64_t sweep(device_modules *dm, uint64_t now)
{
    uint64_t next = 0;
    for (size_t i = 0; i < dm->cand_count; i++) {
        candidate *c = &dm->cands[i];
        if (c->place < 0 || !c->unwanted_since)
            continue;
        if (now >= c->unwanted_since + dm->grace_ms) {
            /* a token still shown (a card in a reader the table does not know), or a call
             * under way: it stays, and is looked at again one grace period later */
            if (token_cache_module_tokens(dm->tc, (size_t)c->place) == 0 &&
                token_cache_unload_module(dm->tc, (size_t)c->place) == 0) {
                fprintf(stderr, "gostsign-agent: unloaded %s\n", c->path);
                c->place = -1;
                c->unwanted_since = 0;
                continue;
            }
            c->unwanted_since = now;
        }
        uint64_t due = c->unwanted_since + dm->grace_ms;
        if (!next || due < next)
            next = due;
    }
    return next;
}

/* The unload thread: sleeps without a timeout unless a module waits for its grace to end. */
static void *reaper_thread(void *p)
{
    device_modules *dm = p;
    pthread_mutex_lock(&dm->lock);
    while (!dm->stop) {
        uint64_t next = sweep(dm, now_ms());
        if (!next) {
            pthread_cond_wait(&dm->wake, &dm->lock);
            continue;
        }
        struct timespec until = { .tv_sec = (time_t)(next / 1000),
                                  .tv_nsec = (long)(next % 1000) * 1000000 };
        pthread_cond_timedwait(&dm->wake, &dm->lock, &until);
    }
    pthread_mutex_unlock(&dm->lock);
    return NULL;
}

/* The configured policy word as its enum value. */
static load_policy policy_of(const char *word)
{
    if (word && strcmp(word, "always") == 0)
        return LOAD_ALWAYS;
    if (word && strcmp(word, "never") == 0)
        return LOAD_NEVER;
    return LOAD_ON_DEVICE;
}

device_modules *device_modules_new(token_cache *tc, const agent_config *cfg)
{
    device_modules *dm = calloc(1, sizeof(*dm));
    if (!dm)
        return NULL;
    dm->tc = tc;
    dm->policy = policy_of(cfg->load_registered_modules);
    dm->grace_ms =
        (uint64_t)(cfg->module_unload_seconds > 0 ? cfg->module_unload_seconds : 60) * 1000;
    pthread_mutex_init(&dm->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dm->wake, &attr);
    pthread_condattr_destroy(&attr);
    collect_candidates(dm, cfg);
    pthread_mutex_lock(&dm->lock);
    reconcile(dm);
    pthread_mutex_unlock(&dm->lock);
    dm->reaper_running = pthread_create(&dm->reaper, NULL, reaper_thread, dm) == 0;
    return dm;
}

/* The index of a present device by its syspath, or -1. */
static long find_device(device_modules *dm, const char *syspath)
{
    for (size_t i = 0; i < dm->device_count; i++)
        if (strcmp(dm->devices[i].syspath, syspath) == 0)
            return (long)i;
    return -1;
}

void device_modules_event(device_modules *dm, const hotplug_event *ev)
{
    if (!dm || !ev->syspath)
        return;
    pthread_mutex_lock(&dm->lock);
    long at = find_device(dm, ev->syspath);
    if (strcmp(ev->action, "add") == 0) {
        if (at < 0 && dm->device_count < DM_MAX_DEVICES)
            at = (long)dm->device_count++;
        if (at >= 0) {
            present_device *d = &dm->devices[at];
            snprintf(d->syspath, sizeof(d->syspath), "%s", ev->syspath);
            snprintf(d->module, sizeof(d->module), "%s", ev->module ? ev->module : "");
        }
    } else if (at >= 0) {
        dm->devices[at] = dm->devices[--dm->device_count];
    }
    reconcile(dm);
    pthread_mutex_unlock(&dm->lock);
}

void device_modules_without_hotplug(device_modules *dm)
{
    if (!dm)
        return;
    pthread_mutex_lock(&dm->lock);
    if (dm->policy == LOAD_ON_DEVICE)
        dm->policy = LOAD_ALWAYS;
    reconcile(dm);
    pthread_mutex_unlock(&dm->lock);
}

void device_modules_free(device_modules *dm)
{
    if (!dm)
        return;
    pthread_mutex_lock(&dm->lock);
    dm->stop = 1;
    pthread_cond_signal(&dm->wake);
    pthread_mutex_unlock(&dm->lock);
    if (dm->reaper_running)
        pthread_join(dm->reaper, NULL);
    pthread_cond_destroy(&dm->wake);
    pthread_mutex_destroy(&dm->lock);
    free(dm);
}
