/*
 * Token files on disk: atomic writes, loading, the directory lock, and recovery: the previous
 * good copy kept beside each file (".NAME.prev"), restoring it over a damaged file, and
 * removing the temporary files of writers that died. The format itself is format.c's.
 * A damaged file is never rewritten by the module on its own: only st_token_repair does.
 * Beside each token file, ".NAME.attempts" journals the PIN attempts begun and not yet ended by
 * a success (the attempt journal, below), so a login need not rewrite the token file.
 */
#include "softtoken.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define ST_MAX_FILE (64u << 20)

/* Writes all of buf to fd, retrying short writes. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Atomically replaces dir/name: temp file (0600), fsync, rename, fsync of the directory. */
static CK_RV atomic_write(const char *name, const uint8_t *p, size_t n)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
    int fd = openat(g_st.dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return CKR_DEVICE_ERROR;
    int bad = fchmod(fd, 0600) != 0 || write_all(fd, p, n) != 0 || fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad || renameat(g_st.dirfd, tmp, g_st.dirfd, name) != 0) {
        unlinkat(g_st.dirfd, tmp, 0);
        return CKR_DEVICE_ERROR;
    }
    fsync(g_st.dirfd);
    return CKR_OK;
}

/* The hidden name beside a token file: ".NAME.what". */
static void side_name(const char *name, const char *what, char *out, size_t cap)
{
    snprintf(out, cap, ".%s.%s", name, what);
}

/*
 * Keeps the file about to be replaced as ".NAME.prev" (a hard link: no moment without NAME).
 * It was parsed good when the write began (st_slot_begin_write reloads, and refuses damaged
 * files). Without a link (a file system that has none) there is simply no previous copy.
 */
static void keep_previous(const char *name)
{
    char prev[512];
    side_name(name, "prev", prev, sizeof prev);
    unlinkat(g_st.dirfd, prev, 0);
    if (linkat(g_st.dirfd, name, g_st.dirfd, prev, 0) != 0 && errno != ENOENT)
        st_log("no previous copy of %s kept: %s", name, strerror(errno));
}

/* Deletes ".NAME.prev": after a PIN change it would still open with the old PIN. */
static void forget_previous(const char *name)
{
    char prev[512];
    side_name(name, "prev", prev, sizeof prev);
    unlinkat(g_st.dirfd, prev, 0);
}

/* Writes the slot's token to its file and records the new file identity. The file it replaces
 * becomes the previous copy, unless keep is ST_FORGET_PREVIOUS (PIN wraps changed). */
CK_RV st_token_save(st_slot *s, st_previous keep)
{
    uint8_t *p = NULL;
    size_t n = 0;
    CK_RV rv = st_token_serialise(&s->tok, &p, &n);
    if (rv == CKR_OK && keep == ST_KEEP_PREVIOUS)
        keep_previous(s->name);
    else if (rv == CKR_OK)
        forget_previous(s->name);
    if (rv == CKR_OK)
        rv = atomic_write(s->name, p, n);
    OPENSSL_clear_free(p, n);
    if (rv == CKR_OK && st_file_stat(s->name, &s->fid) != 0)
        rv = CKR_DEVICE_ERROR;
    return rv;
}

/* Reads the whole file into memory (bounded size). */
static CK_RV read_file(const char *name, uint8_t **out, size_t *len)
{
    int fd = openat(g_st.dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_ERROR;
    struct stat sb;
    uint8_t *p = NULL;
    CK_RV rv = CKR_DEVICE_ERROR;
    if (fstat(fd, &sb) == 0 && sb.st_size >= 0 && (size_t)sb.st_size <= ST_MAX_FILE &&
        (p = malloc((size_t)sb.st_size + 1)) != NULL) {
        size_t got = 0;
        ssize_t r = 1;
        while (got < (size_t)sb.st_size && (r = read(fd, p + got, (size_t)sb.st_size - got)) > 0)
            got += (size_t)r;
        if (got == (size_t)sb.st_size) {
            *out = p;
            *len = got;
            p = NULL;
            rv = CKR_OK;
        }
    }
    free(p);
    close(fd);
    return rv;
}

/* True when dir/name holds a token file that parses (the token itself is not kept). */
static int parses(const char *name)
{
    uint8_t *data = NULL;
    size_t len = 0;
    st_token tok;
    if (read_file(name, &data, &len) != CKR_OK)
        return 0;
    CK_RV rv = st_token_parse(data, len, &tok);
    OPENSSL_clear_free(data, len);
    if (rv == CKR_OK)
        st_token_free(&tok);
    return rv == CKR_OK;
}

/* Says loudly that a token file is damaged, and whether its previous copy can restore it. */
static void report_damage(const char *name)
{
    char prev[512];
    side_name(name, "prev", prev, sizeof prev);
    st_log("token file %s/%s is damaged (bad header, length or checksum); it is left untouched",
           g_st.dir, name);
    if (parses(prev))
        st_log("the previous good copy %s/%s can restore it (without the last change, and with "
               "the PIN retry counters as they were then): gostsign-softtoken-setup --repair",
               g_st.dir, prev);
    else
        st_log("there is no usable previous copy of %s", name);
}

/* (Re)loads the slot's token from disk. Corruption is logged and reported, never repaired. */
CK_RV st_token_load(st_slot *s)
{
    st_file_id fid;
    if (st_file_stat(s->name, &fid) != 0)
        return CKR_TOKEN_NOT_PRESENT;
    uint8_t *data = NULL;
    size_t len = 0;
    CK_RV rv = read_file(s->name, &data, &len);
    if (rv != CKR_OK)
        return rv;
    st_token tok;
    rv = st_token_parse(data, len, &tok);
    OPENSSL_clear_free(data, len);
    if (rv != CKR_OK) {
        if (!s->corrupt)
            report_damage(s->name);
        s->corrupt = 1;
        return rv;
    }
    if (s->loaded)
        st_token_free(&s->tok);
    s->tok = tok;
    s->loaded = 1;
    s->corrupt = 0;
    s->fid = fid;
    return CKR_OK;
}

/* Identity of a file in the token directory; -1 when it does not exist. */
int st_file_stat(const char *name, st_file_id *fid)
{
    struct stat sb;
    if (fstatat(g_st.dirfd, name, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
        return -1;
    fid->dev = sb.st_dev;
    fid->ino = sb.st_ino;
    fid->size = sb.st_size;
    fid->mtime_sec = (long)sb.st_mtim.tv_sec;
    fid->mtime_nsec = sb.st_mtim.tv_nsec;
    return 0;
}

/* Serialises writers across processes: flock on the token directory itself. */
int st_dir_lock(int exclusive)
{
    while (flock(g_st.dirfd, exclusive ? LOCK_EX : LOCK_SH) != 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* Releases the directory lock. */
void st_dir_unlock(void)
{
    flock(g_st.dirfd, LOCK_UN);
}

/*
 * Restores a damaged token file from its previous good copy, on request only (never on the
 * module's own): the damaged file is kept as ".NAME.damaged" for inspection. CKR_OK without
 * change when the file is not damaged; CKR_TOKEN_NOT_RECOGNIZED when no good copy exists.
 */
CK_RV st_token_repair(const char *name)
{
    char prev[512], damaged[512];
    side_name(name, "prev", prev, sizeof prev);
    side_name(name, "damaged", damaged, sizeof damaged);
    if (parses(name))
        return CKR_OK;
    uint8_t *data = NULL;
    size_t len = 0;
    if (!parses(prev) || read_file(prev, &data, &len) != CKR_OK)
        return CKR_TOKEN_NOT_RECOGNIZED;
    unlinkat(g_st.dirfd, damaged, 0);
    if (linkat(g_st.dirfd, name, g_st.dirfd, damaged, 0) != 0)
        st_log("the damaged %s could not be kept aside: %s", name, strerror(errno));
    CK_RV rv = atomic_write(name, data, len);
    OPENSSL_clear_free(data, len);
    if (rv == CKR_OK)
        st_log("token file %s/%s restored from %s; the damaged file is kept as %s", g_st.dir, name,
               prev, damaged);
    return rv;
}

/* The writer's process ID in a temporary file name ".NAME.PID.tmp", or 0. */
static pid_t temp_file_pid(const char *n)
{
    size_t len = strlen(n), sl = strlen(".tmp");
    if (n[0] != '.' || len <= sl || strcmp(n + len - sl, ".tmp") != 0)
        return 0;
    const char *end = n + len - sl, *p = end;
    while (p > n && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || p == n || p[-1] != '.')
        return 0;
    long pid = strtol(p, NULL, 10);
    return pid > 0 && pid < (long)(~0u >> 1) ? (pid_t)pid : 0;
}

/* True when no process has that ID (EPERM: it exists, another user's). */
static int process_is_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/*
 * Deletes the temporary files of writers killed mid-write (".NAME.PID.tmp" of a dead PID).
 * Runs under the exclusive directory lock, which every writer holds while its file exists.
 */
void st_clean_stale_temps(void)
{
    int fd = openat(g_st.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st_dir_lock(1) == 0) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            pid_t pid = temp_file_pid(e->d_name);
            if (pid && process_is_gone(pid) && unlinkat(g_st.dirfd, e->d_name, 0) == 0)
                st_log("removed %s/%s, left by a writer that died", g_st.dir, e->d_name);
        }
        st_dir_unlock();
    }
    closedir(d);
}

/*
 * The attempt journal ".NAME.attempts": one 40-byte record, rewritten in place, holding the PIN
 * attempts (user, SO) begun since the last success of that role: magic, the token's epoch,
 * both counts and their complements. A login adds its attempt here with one fdatasync BEFORE
 * the PIN is checked, so kill -9 after that point never refunds it, and the token file is left
 * alone: a failed attempt stays counted in the journal; a success clears its role. A record of
 * another epoch (the token was re-initialised) counts nothing; a record that does not check
 * counts one attempt of each role (never a refund).
 */
#define JOURNAL_MAGIC "GSPINJ01"
#define JOURNAL_LEN   (8 + ST_EPOCH_LEN + 4 * 4)

/* Little-endian u32 at p. */
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Reads a little-endian u32. */
static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Decodes a journal record into pending[2] (user, SO) for the token of epoch. */
static void journal_decode(const uint8_t *r, size_t n, const uint8_t *epoch, uint32_t pending[2])
{
    pending[0] = pending[1] = 0;
    if (n == 0)
        return;
    const uint8_t *c = r + 8 + ST_EPOCH_LEN;
    if (n != JOURNAL_LEN || memcmp(r, JOURNAL_MAGIC, 8) != 0 || get_le32(c) != ~get_le32(c + 8) ||
        get_le32(c + 4) != ~get_le32(c + 12)) {
        pending[0] = pending[1] = 1; /* unreadable: count an attempt, never refund one */
        return;
    }
    if (memcmp(r + 8, epoch, ST_EPOCH_LEN) != 0)
        return; /* an earlier generation of the token */
    for (int i = 0; i < 2; i++) {
        uint32_t v = get_le32(c + 4 * i);
        pending[i] = v > ST_MAX_TRIES ? ST_MAX_TRIES : v;
    }
}

/* The journal's file name for a token file. */
static void journal_name(const char *name, char *out, size_t cap)
{
    side_name(name, "attempts", out, cap);
}

/* The PIN attempts (user, SO) journaled for the slot's token; 0 and 0 when there is none. */
CK_RV st_attempts_read(const st_slot *s, uint32_t pending[2])
{
    char jn[512];
    uint8_t r[JOURNAL_LEN + 1];
    journal_name(s->name, jn, sizeof jn);
    pending[0] = pending[1] = 0;
    int fd = openat(g_st.dirfd, jn, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? CKR_OK : CKR_DEVICE_ERROR;
    ssize_t n = pread(fd, r, sizeof r, 0);
    close(fd);
    if (n < 0)
        return CKR_DEVICE_ERROR;
    journal_decode(r, (size_t)n, s->tok.epoch, pending);
    return CKR_OK;
}

/* Opens (creating it 0600 when missing) the journal; *created tells a new directory entry. */
static int journal_open(const char *jn, int *created)
{
    *created = 0;
    int fd = openat(g_st.dirfd, jn, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        fd = openat(g_st.dirfd, jn, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        *created = fd >= 0;
    }
    return fd;
}

/*
 * Writes the journal record in place (caller holds the exclusive directory lock). durable:
 * fdatasync before returning, for an attempt about to begin; a clear after a success need not
 * wait (lost by a power cut, it counts one attempt too many, never one too few).
 */
CK_RV st_attempts_write(const st_slot *s, const uint32_t pending[2], int durable)
{
    char jn[512];
    uint8_t r[JOURNAL_LEN];
    journal_name(s->name, jn, sizeof jn);
    memcpy(r, JOURNAL_MAGIC, 8);
    memcpy(r + 8, s->tok.epoch, ST_EPOCH_LEN);
    uint8_t *c = r + 8 + ST_EPOCH_LEN;
    for (int i = 0; i < 2; i++) {
        put_le32(c + 4 * i, pending[i]);
        put_le32(c + 8 + 4 * i, ~pending[i]);
    }
    int created;
    int fd = journal_open(jn, &created);
    if (fd < 0)
        return CKR_DEVICE_ERROR;
    int bad = pwrite(fd, r, sizeof r, 0) != (ssize_t)sizeof r || ftruncate(fd, sizeof r) != 0;
    if (!bad && durable)
        bad = fdatasync(fd) != 0;
    bad |= close(fd) != 0;
    if (!bad && durable && created)
        bad = fsync(g_st.dirfd) != 0; /* the new name must survive too */
    return bad ? CKR_DEVICE_ERROR : CKR_OK;
}

/* PIN attempts left for a role: the token file's counter less the attempts journaled. */
uint32_t st_tries_left(const st_slot *s, int is_so, const uint32_t pending[2])
{
    uint32_t tries = is_so ? s->tok.so_tries : s->tok.user_tries;
    uint32_t used = pending[is_so ? 1 : 0];
    return used >= tries ? 0 : tries - used;
}
