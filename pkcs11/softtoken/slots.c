/*
 * Slots: one per token file in the token directory, plus one spare slot whose C_InitToken
 * creates a new file. Files appearing and disappearing are token insertion and removal;
 * C_WaitForSlotEvent sleeps on inotify for them. Also the module's start and end (C_Initialize
 * and C_Finalize open and close the directory) and the read-modify-write bracket every change
 * of a token file goes through.
 */
#include "softtoken.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gost.h"

/* Reads `directory = PATH` from $XDG_CONFIG_HOME/gostsign/softtoken.conf, if present. */
static char *dir_from_config(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char path[4096], line[4096];
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/gostsign/softtoken.conf", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.config/gostsign/softtoken.conf", home);
    else
        return NULL;
    FILE *f = fopen(path, "re");
    char *dir = NULL;
    while (f && !dir && fgets(line, sizeof line, f)) {
        char *v = line + strspn(line, " \t");
        if (strncmp(v, "directory", 9) != 0)
            continue;
        v += 9 + strspn(v + 9, " \t");
        if (*v++ != '=')
            continue;
        v += strspn(v, " \t");
        v[strcspn(v, "\r\n")] = 0;
        if (*v)
            dir = strdup(v);
    }
    if (f)
        fclose(f);
    return dir;
}

/* The token directory: $GOSTSIGN_SOFTTOKEN_DIR, else the config file, else XDG data home. */
static char *default_dir(void)
{
    const char *env = getenv("GOSTSIGN_SOFTTOKEN_DIR");
    if (env && *env)
        return strdup(env);
    char *cfg = dir_from_config();
    if (cfg)
        return cfg;
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char path[4096];
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/gostsign/tokens", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.local/share/gostsign/tokens", home);
    else
        return NULL;
    return strdup(path);
}

/* mkdir -p with mode 0700 for the parts we create. */
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* True for names of token files (hidden temp files and lock files are ignored). */
static int is_token_name(const char *n)
{
    size_t len = strlen(n), sl = strlen(ST_TOKEN_SUFFIX);
    return n[0] != '.' && len > sl && strcmp(n + len - sl, ST_TOKEN_SUFFIX) == 0;
}

/* Appends a new slot; the caller fills it in. */
static st_slot *slot_new(st_slot_kind kind)
{
    st_slot **np = realloc(g_st.slots, (g_st.nslots + 1) * sizeof *np);
    if (!np)
        return NULL;
    g_st.slots = np;
    st_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = g_st.next_slot_id++;
    s->kind = kind;
    s->login = (CK_USER_TYPE)-1;
    s->next_session_obj = 1;
    g_st.slots[g_st.nslots++] = s;
    return s;
}

/* Adds a slot for a token file found in (or created in) the directory. */
static st_slot *slot_add_file(const char *name)
{
    st_slot *s = slot_new(SLOT_FILE);
    if (!s)
        return NULL;
    s->name = strdup(name);
    s->present = s->reported_present = 1;
    return s;
}

/* Keeps exactly one spare (uninitialised) slot available for C_InitToken. */
static void ensure_spare(void)
{
    for (size_t i = 0; i < g_st.nslots; i++)
        if (g_st.slots[i]->kind == SLOT_EMPTY_SPARE)
            return;
    st_slot *s = slot_new(SLOT_EMPTY_SPARE);
    if (s)
        s->present = s->reported_present = 1;
}

/* Finds the slot bound to a file name. */
static st_slot *slot_by_name(const char *name)
{
    for (size_t i = 0; i < g_st.nslots; i++)
        if (g_st.slots[i]->name && strcmp(g_st.slots[i]->name, name) == 0)
            return g_st.slots[i];
    return NULL;
}

/* Orders file names so that slot numbering is the same in every process. */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Adds slots for token files not seen before (sorted, so numbering is stable). Files found after
 * the first scan are insertions: `as_events` leaves them unreported so C_WaitForSlotEvent
 * announces them (otherwise a brand-new token never reaches a waiting application).
 */
static void add_new_files(int as_events)
{
    int fd = openat(g_st.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_token_name(e->d_name) || slot_by_name(e->d_name))
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn)
            break;
        names = nn;
        if ((names[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        st_slot *s = slot_add_file(names[i]);
        if (s && as_events)
            s->reported_present = 0;
        free(names[i]);
    }
    free(names);
}

/* Marks a slot's token as removed: sessions close, login and cached objects are dropped. */
static void slot_removed(st_slot *s)
{
    st_session_close_all(s->id);
    st_logout_slot(s);
    if (s->loaded)
        st_token_free(&s->tok);
    s->loaded = 0;
    s->corrupt = 0;
    s->present = 0;
}

/* Brings presence of every slot up to date with the directory. */
void st_slots_rescan(void)
{
    for (size_t i = 0; i < g_st.nslots; i++) {
        st_slot *s = g_st.slots[i];
        if (s->kind != SLOT_FILE)
            continue;
        st_file_id fid;
        int exists = st_file_stat(s->name, &fid) == 0;
        if (s->present && !exists)
            slot_removed(s);
        else if (!s->present && exists)
            s->present = 1;
    }
    add_new_files(1);
    ensure_spare();
}

/* Opens the token directory and inotify watch, and makes the first scan. */
static CK_RV slots_open(void)
{
    g_st.dir = default_dir();
    if (!g_st.dir || make_dirs(g_st.dir) != 0) {
        st_log("cannot create the token directory %s", g_st.dir ? g_st.dir : "(no HOME)");
        return CKR_GENERAL_ERROR;
    }
    g_st.dirfd = open(g_st.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g_st.dirfd < 0)
        return CKR_GENERAL_ERROR;
    g_st.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (g_st.inotify_fd < 0 ||
        inotify_add_watch(g_st.inotify_fd, g_st.dir,
                          IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE |
                              IN_DELETE_SELF | IN_MOVE_SELF) < 0)
        return CKR_GENERAL_ERROR;
    if (pipe2(g_st.wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return CKR_GENERAL_ERROR;
    st_clean_stale_temps();
    add_new_files(0);
    ensure_spare();
    return CKR_OK;
}

/* Frees every slot and closes descriptors (C_Finalize). */
static void slots_close(void)
{
    for (size_t i = 0; i < g_st.nslots; i++) {
        st_slot *s = g_st.slots[i];
        st_logout_slot(s);
        if (s->loaded)
            st_token_free(&s->tok);
        for (size_t j = 0; j < s->nsobj; j++)
            st_obj_free(&s->sobjs[j]);
        free(s->sobjs);
        free(s->name);
        OPENSSL_cleanse(s, sizeof *s);
        free(s);
    }
    free(g_st.slots);
    g_st.slots = NULL;
    g_st.nslots = 0;
    g_st.next_slot_id = 0;
    int *fds[] = { &g_st.dirfd, &g_st.inotify_fd, &g_st.wake_pipe[0], &g_st.wake_pipe[1] };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1; /* a failed C_Initialize closes again */
        }
    free(g_st.dir);
    g_st.dir = NULL;
}

/*
 * Makes the in-memory token match its file: reloads when another process rewrote it, reports
 * removal (CKR_TOKEN_NOT_PRESENT) and damage (CKR_TOKEN_NOT_RECOGNIZED). A new epoch (the token
 * was re-initialised elsewhere) ends this process's login.
 */
CK_RV st_slot_sync(st_slot *s)
{
    if (s->kind != SLOT_FILE)
        return CKR_OK;
    st_file_id fid;
    if (st_file_stat(s->name, &fid) != 0) {
        if (s->present)
            slot_removed(s);
        return CKR_TOKEN_NOT_PRESENT;
    }
    s->present = 1;
    if (s->loaded && !s->corrupt && memcmp(&fid, &s->fid, sizeof fid) == 0)
        return CKR_OK;
    CK_RV rv = st_token_load(s);
    if (rv == CKR_OK && s->login != (CK_USER_TYPE)-1 &&
        memcmp(s->login_epoch, s->tok.epoch, ST_EPOCH_LEN) != 0)
        st_logout_slot(s);
    return rv;
}

/* Starts a read-modify-write: takes the directory lock and reloads the newest file. */
CK_RV st_slot_begin_write(st_slot *s)
{
    if (st_dir_lock(1) != 0)
        return CKR_DEVICE_ERROR;
    CK_RV rv = st_slot_sync(s);
    if (rv != CKR_OK)
        st_dir_unlock();
    return rv;
}

/* Ends a read-modify-write: saves (keeping the previous copy) or not, releases the lock. */
static CK_RV end_write(st_slot *s, CK_RV rv, st_previous keep)
{
    if (rv == CKR_OK)
        rv = st_token_save(s, keep);
    if (rv != CKR_OK) /* memory may hold unsaved changes: reload from the file next time */
        s->fid.size = -1;
    st_dir_unlock();
    return rv;
}

/* Ends a read-modify-write: saves when rv is CKR_OK, releases the lock. */
CK_RV st_slot_end_write(st_slot *s, CK_RV rv)
{
    return end_write(s, rv, ST_KEEP_PREVIOUS);
}

/* Ends a write that changed PIN wraps: no previous copy survives that the old PIN opens. */
CK_RV st_slot_end_pin_write(st_slot *s, CK_RV rv)
{
    return end_write(s, rv, ST_FORGET_PREVIOUS);
}

/* Restores a damaged token file from its previous good copy (the vendor repair call). */
CK_RV st_slot_repair(CK_SLOT_ID id)
{
    st_slots_rescan();
    st_slot *s = st_slot_get(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (s->kind != SLOT_FILE || !s->present)
        return CKR_TOKEN_NOT_PRESENT;
    if (st_dir_lock(1) != 0)
        return CKR_DEVICE_ERROR;
    CK_RV rv = st_token_repair(s->name);
    st_dir_unlock();
    return rv == CKR_OK ? st_slot_sync(s) : rv;
}

/*
 * A fork child's first C_Initialize: forgets the parent's sessions, logins and descriptors
 * (memory only; the files and the parent's wake-up pipe are left alone).
 */
static void drop_inherited_state(void)
{
    for (size_t i = 0; i < g_st.nslots; i++)
        st_session_close_all(g_st.slots[i]->id);
    slots_close();
    g_st.waiters = 0;
    g_st.initialized = 0;
    g_st.inherited = 0;
}

/* C_Initialize: loads the GOST engine and opens the token directory. */
CK_RV st_initialize(void)
{
    st_watch_forks();
    if (g_st.inherited)
        drop_inherited_state();
    if (g_st.initialized)
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    gs_status gst;
    if (gost_init(&gst) != GS_ERR_OK)
        return st_rv_from(&gst, "C_Initialize");
    g_st.next_session = 1;
    CK_RV rv = slots_open();
    if (rv == CKR_OK)
        g_st.initialized = 1;
    else
        slots_close();
    return rv;
}

/* C_Finalize: closes every session, wakes C_WaitForSlotEvent callers and frees all state. */
void st_finalize(void)
{
    for (size_t i = 0; i < g_st.nslots; i++)
        st_session_close_all(g_st.slots[i]->id);
    g_st.initialized = 0;
    if (write(g_st.wake_pipe[1], "x", 1) < 0) {
        /* the pipe is non-blocking; a full pipe already wakes the waiters */
    }
    st_wait_for_sleepers();
    slots_close();
    st_crypto_release();
}

/* Empties the inotify queue without blocking; events only tell us to rescan. */
static void drain_inotify(void)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(g_st.inotify_fd, buf, sizeof buf) > 0)
        ;
}

/* Returns (and acknowledges) one slot whose presence changed since it was last reported. */
static st_slot *changed_slot(void)
{
    for (size_t i = 0; i < g_st.nslots; i++) {
        st_slot *s = g_st.slots[i];
        if (s->present != s->reported_present) {
            s->reported_present = s->present;
            return s;
        }
    }
    return NULL;
}

/*
 * C_WaitForSlotEvent: token insertion/removal events, from inotify; CKF_DONT_BLOCK returns
 * CKR_NO_EVENT at once. Sleeps with the lock released until the directory changes or
 * C_Finalize wakes it (then CKR_CRYPTOKI_NOT_INITIALIZED).
 */
CK_RV st_slot_wait_event(CK_FLAGS flags, CK_SLOT_ID *slot)
{
    for (;;) {
        drain_inotify();
        st_slots_rescan();
        st_slot *s = changed_slot();
        if (s) {
            *slot = s->id;
            return CKR_OK;
        }
        if (flags & CKF_DONT_BLOCK)
            return CKR_NO_EVENT;
        struct pollfd p[2] = { { g_st.inotify_fd, POLLIN, 0 }, { g_st.wake_pipe[0], POLLIN, 0 } };
        st_poll_unlocked(p, 2);
        if (!g_st.initialized)
            return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
}
