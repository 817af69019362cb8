/*
 * Token files on disk: atomic writes, loading, the directory lock, and recovery: the previous
 * good copy kept beside each file (".NAME.prev"), restoring it over a damaged file, and
 * removing the temporary files of writers that died. The format itself is format.c's.
 * A damaged file is never rewritten by the module on its own: only st_token_repair does.
 */
#include "softtoken.h"

#include <errno.h>
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

/* Writes the slot's token to its file and records the new file identity. */
CK_RV st_token_save(st_slot *s)
{
    uint8_t *p = NULL;
    size_t n = 0;
    CK_RV rv = st_token_serialise(&s->tok, &p, &n);
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
            st_log("token file %s/%s is damaged (bad header, length or checksum); "
                   "it is left untouched",
                   g_st.dir, s->name);
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
