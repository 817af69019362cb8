/*
 * The accredited-CA store on disk. ROOT/current is a symbolic link to ROOT/v-TIME-PID, a
 * directory holding index.json (the list: authorities, statuses, periods, CRL addresses and the
 * base64 DER of every CA certificate), all.pem and accredited.pem. An update writes a new
 * directory, syncs it, and renames a new link onto `current`: readers see the old store or the
 * new one, never a part. A lock file serialises updaters.
 */
#include "trust.h"
#include "primitives.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define INDEX_FORMAT 1
#define INDEX_MAX    ((size_t)512 * 1024 * 1024)
#define STORE_PREFIX "v-"
#define CURRENT_LINK "current"

/* dir/name into out; -1 when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b + 1 > cap) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return 0;
}

/* The store root of the system or of the user. */
int gs_trust_root(int system, char *out, size_t cap)
{
    const char *over = getenv("GOSTSIGN_TRUST_SYSTEM_DIR"), *xdg = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");
    int n;
    if (system)
        n = snprintf(out, cap, "%s", over && *over == '/' ? over : GS_TRUST_SYSTEM_DIR);
    else if (xdg && *xdg == '/')
        n = snprintf(out, cap, "%s/gostsign/trust", xdg);
    else if (home && *home == '/')
        n = snprintf(out, cap, "%s/.local/share/gostsign/trust", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p with a mode for the directories it creates. */
static int make_dirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* Writes a whole buffer to a new file and syncs it. */
static gs_code write_file(const char *path, const char *data, size_t len, mode_t mode,
                          gs_status *st)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    return ok ? GS_ERR_OK : gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(saved));
}

/* Syncs a directory so that the names in it reach the disk. */
static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* A time as ISO 8601 UTC for index.json readers (the numbers are what we read back). */
static json_object *iso_time(time_t t)
{
    char buf[32];
    struct tm tm;
    if (!t || !gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_object_new_string(buf);
}

/* A string or JSON null. */
static json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* The base64 DER of a certificate as a JSON string. */
static json_object *cert_b64(X509 *x)
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    if (len <= 0)
        return NULL;
    char *b64 = malloc(((size_t)len + 2) / 3 * 4 + 1);
    json_object *out = NULL;
    if (b64) {
        EVP_EncodeBlock((unsigned char *)b64, der, len);
        out = json_object_new_string(b64);
    }
    free(b64);
    OPENSSL_free(der);
    return out;
}

/* The periods of an authority for index.json. */
static json_object *periods_json(const gs_trust_ca *ca)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ca->period_count; i++) {
        json_object *p = json_object_new_object();
        json_object_object_add(
            p, "status", json_object_new_string(gs_accreditation_word(ca->periods[i].status)));
        json_object_object_add(p, "from", json_object_new_int64(ca->periods[i].from));
        json_object_object_add(p, "to", json_object_new_int64(ca->periods[i].to));
        json_object_array_add(arr, p);
    }
    return arr;
}

/* One authority for index.json. */
static json_object *ca_json(const gs_trust_ca *ca)
{
    json_object *o = json_object_new_object(), *crls = json_object_new_array(),
                *certs = json_object_new_array();
    json_object_object_add(o, "name", str_or_null(ca->name));
    json_object_object_add(o, "short_name", str_or_null(ca->short_name));
    json_object_object_add(o, "inn", str_or_null(ca->inn));
    json_object_object_add(o, "ogrn", str_or_null(ca->ogrn));
    json_object_object_add(o, "status", json_object_new_string(gs_accreditation_word(ca->status)));
    json_object_object_add(o, "status_since", json_object_new_int64(ca->status_since));
    json_object_object_add(o, "status_since_iso", iso_time(ca->status_since));
    json_object_object_add(o, "periods", periods_json(ca));
    for (size_t i = 0; i < ca->crl_count; i++)
        json_object_array_add(crls, json_object_new_string(ca->crl_urls[i]));
    json_object_object_add(o, "crl_urls", crls);
    for (size_t i = 0; i < ca->cert_count; i++)
        json_object_array_add(certs, cert_b64(ca->certs[i]));
    json_object_object_add(o, "certificates", certs);
    return o;
}

/* The whole index.json. */
static json_object *index_json(const gs_trust_list *l, const char *source, time_t now)
{
    json_object *o = json_object_new_object(), *cas = json_object_new_array();
    json_object_object_add(o, "format", json_object_new_int(INDEX_FORMAT));
    json_object_object_add(o, "version", str_or_null(l->version));
    json_object_object_add(o, "date", json_object_new_int64(l->date));
    json_object_object_add(o, "date_iso", iso_time(l->date));
    json_object_object_add(o, "source", str_or_null(source));
    json_object_object_add(o, "updated_at", json_object_new_int64(now));
    for (size_t i = 0; i < l->ca_count; i++)
        json_object_array_add(cas, ca_json(&l->cas[i]));
    json_object_object_add(o, "authorities", cas);
    return o;
}

/* PEM of the certificates of every authority (only_active: the accredited ones). */
static char *pem_bundle(const gs_trust_list *l, int only_active, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    for (size_t i = 0; b && i < l->ca_count; i++)
        for (size_t j = 0;
             (!only_active || l->cas[i].status == GS_ACCR_ACTIVE) && j < l->cas[i].cert_count; j++)
            PEM_write_bio_X509(b, l->cas[i].certs[j]);
    char *data = NULL, *out = NULL;
    long n = b ? BIO_get_mem_data(b, &data) : -1;
    if (n >= 0 && (out = malloc((size_t)n + 1))) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(b);
    return out;
}

/* Writes one PEM bundle file into the new directory. */
static gs_code write_bundle(const gs_trust_list *l, const char *dir, const char *name,
                            int only_active, mode_t mode, gs_status *st)
{
    char path[PATH_MAX];
    size_t len = 0;
    char *pem = pem_bundle(l, only_active, &len);
    if (!pem)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "the PEM bundle");
    join(path, sizeof(path), dir, name);
    gs_code rc = write_file(path, pem, len, mode, st);
    free(pem);
    return rc;
}

/* The three files of a new store directory. */
static gs_code write_contents(const gs_trust_list *l, const char *dir, const char *source,
                              time_t now, mode_t mode, gs_status *st)
{
    char path[PATH_MAX];
    json_object *idx = index_json(l, source, now);
    const char *text = json_object_to_json_string_ext(idx, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    join(path, sizeof(path), dir, "index.json");
    gs_code rc = write_file(path, text, strlen(text), mode, st);
    json_object_put(idx);
    if (rc == GS_ERR_OK)
        rc = write_bundle(l, dir, "all.pem", 0, mode, st);
    if (rc == GS_ERR_OK)
        rc = write_bundle(l, dir, "accredited.pem", 1, mode, st);
    sync_dir(dir);
    return rc;
}

/* Removes a store directory (flat: three files). */
static void remove_store_dir(const char *dir)
{
    static const char *const names[] = { "index.json", "all.pem", "accredited.pem" };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        join(path, sizeof(path), dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Removes every v-* directory but `keep` (older stores, and leftovers of a crash). */
static void remove_old_stores(const char *root, const char *keep)
{
    DIR *d = opendir(root);
    struct dirent *e;
    char path[PATH_MAX];
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, STORE_PREFIX, strlen(STORE_PREFIX)) != 0 ||
            strcmp(e->d_name, keep) == 0)
            continue;
        join(path, sizeof(path), root, e->d_name);
        remove_store_dir(path);
    }
    if (d)
        closedir(d);
}

/* Points `current` at the new directory with one rename. */
static gs_code switch_current(const char *root, const char *name, gs_status *st)
{
    char tmp[PATH_MAX], cur[PATH_MAX];
    char tmp_name[48];
    snprintf(tmp_name, sizeof(tmp_name), ".current.%ld", (long)getpid());
    join(tmp, sizeof(tmp), root, tmp_name);
    join(cur, sizeof(cur), root, CURRENT_LINK);
    unlink(tmp);
    if (symlink(name, tmp) != 0 || rename(tmp, cur) != 0) {
        int saved = errno;
        unlink(tmp);
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", cur, strerror(saved));
    }
    sync_dir(root);
    return GS_ERR_OK;
}

/* Takes the updaters' lock (released when fd is closed). */
static int lock_root(const char *root, mode_t mode)
{
    char path[PATH_MAX];
    join(path, sizeof(path), root, ".lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode & 0644);
    if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The new directory's name, unique per update. */
static void store_name(char *out, size_t cap, time_t now)
{
    static unsigned counter;
    snprintf(out, cap, STORE_PREFIX "%lld-%ld-%u", (long long)now, (long)getpid(), counter++);
}

/* Writes a new store and switches to it (see trust.h). */
gs_code gs_trust_store_write(const gs_trust_list *l, const char *root, const char *source,
                             time_t now, gs_status *st)
{
    mode_t dmode = geteuid() == 0 ? 0755 : 0700, fmode = geteuid() == 0 ? 0644 : 0600;
    if (make_dirs(root, dmode) != 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", root, strerror(errno));
    int lock = lock_root(root, fmode);
    if (lock < 0)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s/.lock: %s", root, strerror(errno));
    char name[96], dir[PATH_MAX];
    store_name(name, sizeof(name), now);
    join(dir, sizeof(dir), root, name);
    gs_code rc = mkdir(dir, dmode) == 0
                     ? GS_ERR_OK
                     : gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", dir, strerror(errno));
    if (rc == GS_ERR_OK)
        rc = write_contents(l, dir, source, now, fmode, st);
    if (rc == GS_ERR_OK)
        rc = switch_current(root, name, st);
    if (rc == GS_ERR_OK)
        remove_old_stores(root, name);
    else
        remove_store_dir(dir);
    close(lock);
    return rc;
}

/* ---------------------------------------------------------------- reading */

/* Reads a whole file (at most INDEX_MAX bytes), NUL-terminated. */
static char *read_all(const char *path, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        gs_fail(st, errno == ENOENT ? GS_ERR_TRUST_STORE_MISSING : GS_ERR_IO_ERROR, "%s: %s", path,
                strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= INDEX_MAX)
            break;
        char *grown = realloc(buf, cap * 2 + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
        } else {
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    else
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "%s", path);
    return buf;
}

/* A string member, duplicated; NULL when absent or null. */
static char *get_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? strdup(json_object_get_string(v))
               : NULL;
}

/* An integer member, 0 when absent. */
static int64_t get_int(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* An array member, or NULL. */
static json_object *get_arr(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v
                                                                                            : NULL;
}

/* A status word back to the enum. */
static gs_accreditation word_status(const char *w)
{
    for (int a = GS_ACCR_UNKNOWN; a <= GS_ACCR_ANNULLED; a++)
        if (w && strcmp(w, gs_accreditation_word((gs_accreditation)a)) == 0)
            return (gs_accreditation)a;
    return GS_ACCR_UNKNOWN;
}

/* A certificate from the base64 DER of index.json. */
static X509 *cert_from_b64(const char *b64)
{
    size_t len = strlen(b64);
    unsigned char *der = malloc(len / 4 * 3 + 3);
    X509 *x = NULL;
    int n = der && len % 4 == 0 && len < INT_MAX
                ? EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len)
                : -1;
    if (n > 0) {
        n -= (len > 0 && b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
        const unsigned char *p = der;
        x = d2i_X509(NULL, &p, n);
    }
    free(der);
    ERR_clear_error();
    return x;
}

/* The periods of one authority. */
static void load_periods(gs_trust_ca *ca, json_object *arr)
{
    size_t n = arr ? json_object_array_length(arr) : 0;
    ca->periods = n ? calloc(n, sizeof(*ca->periods)) : NULL;
    for (size_t i = 0; ca->periods && i < n; i++) {
        json_object *p = json_object_array_get_idx(arr, i), *w = NULL;
        json_object_object_get_ex(p, "status", &w);
        ca->periods[ca->period_count++] =
            (gs_accr_period){ word_status(json_object_get_string(w)), (time_t)get_int(p, "from"),
                              (time_t)get_int(p, "to") };
    }
}

/* CRL addresses and certificates of one authority. */
static void load_lists(gs_trust_ca *ca, json_object *crls, json_object *certs)
{
    size_t nc = crls ? json_object_array_length(crls) : 0;
    size_t nx = certs ? json_object_array_length(certs) : 0;
    ca->crl_urls = nc ? calloc(nc, sizeof(char *)) : NULL;
    for (size_t i = 0; ca->crl_urls && i < nc; i++) {
        const char *u = json_object_get_string(json_object_array_get_idx(crls, i));
        if (u && (ca->crl_urls[ca->crl_count] = strdup(u)))
            ca->crl_count++;
    }
    ca->certs = nx ? calloc(nx, sizeof(X509 *)) : NULL;
    for (size_t i = 0; ca->certs && i < nx; i++) {
        const char *b = json_object_get_string(json_object_array_get_idx(certs, i));
        if (b && (ca->certs[ca->cert_count] = cert_from_b64(b)))
            ca->cert_count++;
    }
}

/* One authority from index.json. */
static void load_ca(gs_trust_ca *ca, json_object *o)
{
    json_object *w = NULL;
    ca->name = get_str(o, "name");
    ca->short_name = get_str(o, "short_name");
    ca->inn = get_str(o, "inn");
    ca->ogrn = get_str(o, "ogrn");
    json_object_object_get_ex(o, "status", &w);
    ca->status = word_status(json_object_get_string(w));
    ca->status_since = (time_t)get_int(o, "status_since");
    load_periods(ca, get_arr(o, "periods"));
    load_lists(ca, get_arr(o, "crl_urls"), get_arr(o, "certificates"));
}

/* The list from a parsed index.json. */
static gs_trust_list *list_from_index(json_object *idx, gs_status *st)
{
    json_object *cas = get_arr(idx, "authorities");
    if (get_int(idx, "format") != INDEX_FORMAT || !cas) {
        gs_fail(st, GS_ERR_TSL_INVALID, "index.json: unknown format");
        return NULL;
    }
    size_t n = json_object_array_length(cas);
    gs_trust_list *l = calloc(1, sizeof(*l));
    if (!l || (n && !(l->cas = calloc(n, sizeof(*l->cas))))) {
        free(l);
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "the trust store");
        return NULL;
    }
    l->version = get_str(idx, "version");
    l->date = (time_t)get_int(idx, "date");
    l->updated_at = (time_t)get_int(idx, "updated_at");
    l->source = get_str(idx, "source");
    for (size_t i = 0; i < n; i++)
        load_ca(&l->cas[l->ca_count++], json_object_array_get_idx(cas, i));
    return l;
}

/* Reads root/current (see trust.h). */
gs_trust_list *gs_trust_store_load(const char *root, gs_status *st)
{
    char cur[PATH_MAX], link[512], path[PATH_MAX + 16];
    if (gost_init(st) != GS_ERR_OK) /* GOST keys of the certificates decode only with it */
        return NULL;
    join(cur, sizeof(cur), root, CURRENT_LINK);
    ssize_t n = readlink(cur, link, sizeof(link) - 1);
    if (n <= 0) {
        gs_fail(st, GS_ERR_TRUST_STORE_MISSING, "%s: no store (%s)", cur, strerror(errno));
        return NULL;
    }
    link[n] = '\0';
    join(path, sizeof(path), cur, "index.json");
    char *text = read_all(path, st);
    if (!text)
        return NULL;
    json_object *idx = json_tokener_parse(text);
    free(text);
    gs_trust_list *l = idx ? list_from_index(idx, st) : NULL;
    if (!idx)
        gs_fail(st, GS_ERR_TSL_INVALID, "%s: damaged", path);
    json_object_put(idx);
    if (l) {
        l->dir = strdup(cur);
        snprintf(l->link, sizeof(l->link), "%s", link);
    }
    return l;
}

/* The newer of the user's and the system's store. */
gs_trust_list *gs_trust_load_default(gs_status *st)
{
    char user[PATH_MAX], sys[PATH_MAX];
    gs_status ust, sst;
    gs_status_clear(&ust);
    gs_status_clear(&sst);
    gs_trust_list *u =
        gs_trust_root(0, user, sizeof(user)) == 0 ? gs_trust_store_load(user, &ust) : NULL;
    gs_trust_list *s =
        gs_trust_root(1, sys, sizeof(sys)) == 0 ? gs_trust_store_load(sys, &sst) : NULL;
    if (u && s && s->date > u->date) {
        gs_trust_list_free(u);
        u = NULL;
    } else if (u) {
        gs_trust_list_free(s);
        s = NULL;
    }
    if (!u && !s)
        gs_fail(st, GS_ERR_TRUST_STORE_MISSING, "no store in %s or %s", user, sys);
    return u ? u : s;
}

/* all.pem of a loaded store. */
int gs_trust_bundle_path(const gs_trust_list *l, char *out, size_t cap)
{
    if (!l || !l->dir)
        return -1;
    return join(out, cap, l->dir, "all.pem");
}
