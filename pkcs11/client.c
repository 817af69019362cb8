/*
 * PKCS#11 client: module loading through p11-kit, token and certificate listing, and signing.
 * Every CK_RV is mapped to the project's error table at this boundary.
 */
#include "pkcs11_client.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11x.h>

#define CLIENT_MAX_MODULES 32

typedef struct {
    CK_FUNCTION_LIST *fn; /* NULL: an empty place (a module unloaded from it) */
    char *file_name;      /* base name, for display and preference */
    int preference;
    int from_registry;
    void *dl;        /* loaded by us with dlopen (unloadable), NULL when p11-kit loaded it */
    uint64_t serial; /* which load this is: a token of an earlier module here is gone */
    unsigned busy;   /* calls and sessions running on it; it cannot be unloaded meanwhile */
} loaded_module;

struct p11_client {
    CK_FUNCTION_LIST **registry;
    pthread_mutex_t lock; /* guards the module places: the agent loads and unloads as it runs */
    loaded_module modules[CLIENT_MAX_MODULES];
    size_t count; /* places in use so far, loaded or empty */
    uint64_t next_serial;
    int finalized; /* p11_client_finalize ran: close only unloads */
    char load_errors[1024];
};

/* Vendor modules first: when a token shows through both, the vendor module knows it best. */
static const p11_known_module known_modules[] = {
    { "Aktiv Rutoken ECP", "librtpkcs11ecp.so", 90 },
    { "Aladdin JaCarta", "libjcPKCS11-2.so", 90 },
    { "SafeNet eToken", "libeTPkcs11.so", 80 },
    { "gostsign software token", "gostsign-softtoken.so", 70 },
    { "OpenSC", "opensc-pkcs11.so", 10 },
};

/* Directories where Debian and the vendors' packages put PKCS#11 modules. */
static const char *const module_dirs[] = {
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/pkcs11",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/aktivco/rutokenecp/amd64",
    "/opt/jacarta/lib",
};

const p11_known_module *p11_known_modules(size_t *count)
{
    *count = sizeof(known_modules) / sizeof(known_modules[0]);
    return known_modules;
}

/* Searches the usual directories for a known module's file. */
int p11_known_module_locate(const p11_known_module *m, char *path, size_t cap)
{
    for (size_t i = 0; i < sizeof(module_dirs) / sizeof(module_dirs[0]); i++) {
        snprintf(path, cap, "%s/%s", module_dirs[i], m->file_name);
        if (access(path, R_OK) == 0)
            return 1;
    }
    return 0;
}

/* Preference of a module by its file name; unknown modules sit between vendors and OpenSC. */
static int module_preference(const char *file_name)
{
    for (size_t i = 0; i < sizeof(known_modules) / sizeof(known_modules[0]); i++)
        if (strcmp(file_name, known_modules[i].file_name) == 0)
            return known_modules[i].preference;
    return 50;
}

/* File name of a loaded module without its directory. */
static char *module_base_name(CK_FUNCTION_LIST *fn)
{
    char *full = p11_kit_module_get_filename(fn);
    if (!full)
        return strdup("unknown");
    const char *slash = strrchr(full, '/');
    char *base = strdup(slash ? slash + 1 : full);
    free(full);
    return base;
}

/* True when a module with the same file is already in the list. */
static int module_already_loaded(const p11_client *c, CK_FUNCTION_LIST *fn)
{
    for (size_t i = 0; i < c->count; i++)
        if (c->modules[i].fn == fn)
            return 1;
    return 0;
}

/* Appends a note about a module that could not be loaded. */
static void note_load_error(p11_client *c, const char *what, const char *why)
{
    size_t used = strlen(c->load_errors);
    snprintf(c->load_errors + used, sizeof(c->load_errors) - used, "%s%s: %s", used ? "; " : "",
             what, why);
}

/* p11-kit's trust module holds the system CA store: certificates, never keys. */
static int is_trust_store(CK_FUNCTION_LIST *fn)
{
    char *name = module_base_name(fn);
    int trust = name && strcmp(name, "p11-kit-trust.so") == 0;
    free(name);
    return trust;
}

/* A free place for a module: an emptied one first, else a new one; -1 when full. */
static long free_place(p11_client *c)
{
    for (size_t i = 0; i < c->count; i++)
        if (!c->modules[i].fn)
            return (long)i;
    return c->count < CLIENT_MAX_MODULES ? (long)c->count++ : -1;
}

/* Puts a module into a free place under its file name; returns the place or -1 when full. */
static long place_module(p11_client *c, CK_FUNCTION_LIST *fn, char *file_name, void *dl,
                         int from_registry)
{
    pthread_mutex_lock(&c->lock);
    long at = free_place(c);
    if (at >= 0) {
        loaded_module *m = &c->modules[at];
        free(m->file_name);
        m->file_name = file_name;
        m->dl = dl;
        m->preference = module_preference(m->file_name);
        m->from_registry = from_registry;
        m->serial = ++c->next_serial;
        m->busy = 0;
        m->fn = fn;
    } else {
        free(file_name);
    }
    pthread_mutex_unlock(&c->lock);
    return at;
}

/* Adds a module p11-kit loaded, returning its place or -1; the list owns it from here on. */
static long add_module(p11_client *c, CK_FUNCTION_LIST *fn, int from_registry)
{
    if (module_already_loaded(c, fn) || is_trust_store(fn))
        return -1;
    return place_module(c, fn, module_base_name(fn), NULL, from_registry);
}

/* Loads one module by path, outside the registry; returns its place or -1. */
static long load_extra_module(p11_client *c, const char *path)
{
    /* p11-kit reads a relative path as relative to its own module directory. */
    char absolute[PATH_MAX];
    if (path[0] != '/' && realpath(path, absolute))
        path = absolute;
    CK_FUNCTION_LIST *fn = p11_kit_module_load(path, 0);
    if (!fn) {
        note_load_error(c, path, p11_kit_message() ? p11_kit_message() : "cannot load");
        return -1;
    }
    CK_RV rv = p11_kit_module_initialize(fn);
    if (rv != CKR_OK) {
        note_load_error(c, path, p11_kit_strerror(rv));
        p11_kit_module_release(fn);
        return -1;
    }
    long at = add_module(c, fn, 0);
    if (at < 0) {
        p11_kit_module_finalize(fn);
        p11_kit_module_release(fn);
    }
    return at;
}

p11_client *p11_client_open(const char *const *extra_modules, size_t extra_count, int use_registry,
                            gs_status *st)
{
    p11_client *c = calloc(1, sizeof(*c));
    if (!c) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pkcs11 client");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    if (use_registry) {
        c->registry = p11_kit_modules_load_and_initialize(0);
        for (size_t i = 0; c->registry && c->registry[i]; i++)
            add_module(c, c->registry[i], 1);
    }
    for (size_t i = 0; i < extra_count; i++)
        load_extra_module(c, extra_modules[i]);
    /* No module at all is not fatal: the lists are empty and doctor explains why. */
    return c;
}

void p11_client_finalize(p11_client *c)
{
    if (!c || c->finalized)
        return;
    for (size_t i = 0; i < c->count; i++) {
        if (c->modules[i].fn && c->modules[i].dl)
            c->modules[i].fn->C_Finalize(NULL);
        else if (c->modules[i].fn && !c->modules[i].from_registry)
            p11_kit_module_finalize(c->modules[i].fn);
    }
    if (c->registry)
        p11_kit_modules_finalize(c->registry);
    c->finalized = 1;
}

void p11_client_close(p11_client *c)
{
    if (!c)
        return;
    p11_client_finalize(c);
    for (size_t i = 0; i < c->count; i++) {
        if (c->modules[i].fn && c->modules[i].dl)
            dlclose(c->modules[i].dl);
        else if (c->modules[i].fn && !c->modules[i].from_registry)
            p11_kit_module_release(c->modules[i].fn);
        free(c->modules[i].file_name);
    }
    if (c->registry)
        p11_kit_modules_release(c->registry);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

size_t p11_client_module_count(const p11_client *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->count; i++)
        n += c->modules[i].fn != NULL;
    return n;
}

size_t p11_client_module_places(const p11_client *c)
{
    return c->count;
}

CK_FUNCTION_LIST *p11_client_module(const p11_client *c, size_t i)
{
    return i < c->count ? c->modules[i].fn : NULL;
}

/*
 * Loads a module with dlopen rather than p11-kit: p11-kit keeps a released module mapped until
 * the process ends, and the agent unloads modules to give their memory back.
 */
long p11_client_load_module(p11_client *c, const char *path)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get = dl ? (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList") : NULL;
    CK_FUNCTION_LIST *fn = NULL;
    CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
    CK_RV rv = get ? get(&fn) : CKR_GENERAL_ERROR;
    if (rv == CKR_OK && fn)
        rv = fn->C_Initialize(&args);
    if (rv != CKR_OK || !fn) {
        note_load_error(c, path, dl ? p11_kit_strerror(rv) : dlerror());
        if (dl)
            dlclose(dl);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    long at = place_module(c, fn, strdup(slash ? slash + 1 : path), dl, 0);
    if (at < 0) {
        fn->C_Finalize(NULL);
        dlclose(dl);
    }
    return at;
}

long p11_client_find_module(p11_client *c, const char *file_name)
{
    long found = -1;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->count && found < 0; i++)
        if (c->modules[i].fn && strcmp(c->modules[i].file_name, file_name) == 0)
            found = (long)i;
    pthread_mutex_unlock(&c->lock);
    return found;
}

int p11_client_module_detach(p11_client *c, size_t i, p11_detached_module *out)
{
    int ok = 0;
    pthread_mutex_lock(&c->lock);
    loaded_module *m = i < c->count ? &c->modules[i] : NULL;
    if (m && m->fn && m->dl && m->busy == 0) {
        out->fn = m->fn;
        out->dl = m->dl;
        m->fn = NULL; /* no new call can start on it from here on */
        m->dl = NULL;
        ok = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

void p11_detached_finalize(p11_detached_module *d)
{
    d->fn->C_Finalize(NULL);
}

void p11_detached_release(p11_detached_module *d)
{
    dlclose(d->dl);
    d->dl = NULL;
    d->fn = NULL;
}

/* Marks the module at place i in use when it is still the load serial names; NULL when gone. */
static loaded_module *acquire_place(p11_client *c, size_t i, uint64_t serial)
{
    loaded_module *m = NULL;
    pthread_mutex_lock(&c->lock);
    if (i < c->count && c->modules[i].fn && (serial == 0 || c->modules[i].serial == serial)) {
        m = &c->modules[i];
        m->busy++;
    }
    pthread_mutex_unlock(&c->lock);
    return m;
}

/* Ends one use of a module taken with acquire_place. */
static void release_place(p11_client *c, loaded_module *m)
{
    pthread_mutex_lock(&c->lock);
    m->busy--;
    pthread_mutex_unlock(&c->lock);
}

/* The module of a token, marked in use; NULL (with TOKEN_REMOVED) when it was unloaded. */
static loaded_module *acquire_token_module(p11_client *c, const p11_token *t, gs_status *st)
{
    loaded_module *m = acquire_place(c, t->module_index, t->module_serial);
    if (!m)
        gs_fail(st, GS_ERR_TOKEN_REMOVED, "the module of token '%s' is no longer loaded", t->label);
    return m;
}

const char *p11_client_load_errors(const p11_client *c)
{
    return c->load_errors;
}

gs_code p11_rv_to_code(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return GS_ERR_OK;
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
        return GS_ERR_PIN_INCORRECT;
    case CKR_PIN_LOCKED:
        return GS_ERR_PIN_LOCKED;
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SLOT_ID_INVALID:
        return GS_ERR_TOKEN_REMOVED;
    case CKR_FUNCTION_CANCELED:
        return GS_ERR_USER_CANCELLED;
    case CKR_HOST_MEMORY:
        return GS_ERR_OUT_OF_MEMORY;
    default:
        return GS_ERR_PKCS11_ERROR;
    }
}

/* Fills a gs_status from a CK_RV, naming the failing call. */
static gs_code fail_rv(gs_status *st, CK_RV rv, const char *call)
{
    return gs_fail(st, p11_rv_to_code(rv), "%s: %s (CKR 0x%lx)", call, p11_kit_strerror(rv),
                   (unsigned long)rv);
}

/* Copies a blank-padded PKCS#11 string into a C string without the padding. */
static void copy_padded(char *dst, const CK_UTF8CHAR *src, size_t len)
{
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\0'))
        len--;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Reads CK_TOKEN_INFO into a token record. */
static gs_code read_token_info(loaded_module *m, CK_SLOT_ID slot, p11_token *t, gs_status *st)
{
    CK_TOKEN_INFO ti;
    CK_RV rv = m->fn->C_GetTokenInfo(slot, &ti);
    if (rv != CKR_OK)
        return fail_rv(st, rv, "C_GetTokenInfo");
    t->slot = slot;
    t->module_serial = m->serial;
    snprintf(t->module_name, sizeof(t->module_name), "%s", m->file_name);
    copy_padded(t->label, ti.label, sizeof(ti.label));
    copy_padded(t->manufacturer, ti.manufacturerID, sizeof(ti.manufacturerID));
    copy_padded(t->model, ti.model, sizeof(ti.model));
    copy_padded(t->serial, ti.serialNumber, sizeof(ti.serialNumber));
    t->flags = ti.flags;
    t->protected_auth = (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
    t->min_pin_len = ti.ulMinPinLen;
    t->max_pin_len = ti.ulMaxPinLen;
    return GS_ERR_OK;
}

/* Index of an already listed token that is the same physical device, or -1. */
static long find_same_device(const p11_token *list, size_t n, const p11_token *t)
{
    if (!t->serial[0])
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].serial, t->serial) == 0 &&
            strcasecmp(list[i].manufacturer, t->manufacturer) == 0)
            return (long)i;
    return -1;
}

/* Adds one token, or replaces a duplicate when this module is preferred. */
static gs_code merge_token(p11_client *c, p11_token **list, size_t *n, size_t *cap,
                           const p11_token *t, gs_status *st)
{
    long dup = find_same_device(*list, *n, t);
    if (dup >= 0) {
        if (c->modules[t->module_index].preference >
            c->modules[(*list)[dup].module_index].preference)
            (*list)[dup] = *t;
        return GS_ERR_OK;
    }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        p11_token *nl = realloc(*list, ncap * sizeof(**list));
        if (!nl)
            return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "token list");
        *list = nl;
        *cap = ncap;
    }
    (*list)[(*n)++] = *t;
    return GS_ERR_OK;
}

/* Present tokens of one module, merged into the list. */
static gs_code list_module_tokens(p11_client *c, size_t mi, p11_token **list, size_t *n,
                                  size_t *cap, gs_status *st)
{
    loaded_module *m = acquire_place(c, mi, 0);
    if (!m)
        return GS_ERR_OK; /* an empty place */
    CK_ULONG count = 0;
    CK_SLOT_ID *slots = NULL;
    gs_code rc = GS_ERR_OK;
    if (m->fn->C_GetSlotList(CK_TRUE, NULL, &count) != CKR_OK || count == 0)
        count = 0;
    else if (!(slots = calloc(count, sizeof(*slots))))
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "slot list");
    if (!slots) {
        release_place(c, m);
        return rc;
    }
    if (m->fn->C_GetSlotList(CK_TRUE, slots, &count) == CKR_OK) {
        for (CK_ULONG i = 0; i < count && rc == GS_ERR_OK; i++) {
            p11_token t = { .module_index = mi };
            gs_status ignored;
            /* A blank token (no CKF_TOKEN_INITIALIZED) holds nothing to sign with. */
            if (read_token_info(m, slots[i], &t, &ignored) == GS_ERR_OK &&
                (t.flags & CKF_TOKEN_INITIALIZED))
                rc = merge_token(c, list, n, cap, &t, st);
        }
    }
    free(slots);
    release_place(c, m);
    return rc;
}

size_t p11_client_module_token_count(p11_client *c, size_t i)
{
    p11_token *list = NULL;
    size_t n = 0, cap = 0;
    gs_status ignored;
    /* the tokens a listing shows (initialized ones): a blank spare slot holds nothing */
    list_module_tokens(c, i, &list, &n, &cap, &ignored);
    free(list);
    return n;
}

gs_code p11_client_tokens(p11_client *c, p11_token **out, size_t *count, gs_status *st)
{
    p11_token *list = NULL;
    size_t n = 0, cap = 0;
    for (size_t mi = 0; mi < c->count; mi++) {
        gs_code rc = list_module_tokens(c, mi, &list, &n, &cap, st);
        if (rc != GS_ERR_OK) {
            free(list);
            return rc;
        }
    }
    *out = list;
    *count = n;
    return GS_ERR_OK;
}

gs_code p11_client_refresh_token(p11_client *c, p11_token *token, gs_status *st)
{
    loaded_module *m = acquire_token_module(c, token, st);
    if (!m)
        return st->code;
    gs_code rc = read_token_info(m, token->slot, token, st);
    release_place(c, m);
    return rc;
}

/* Finds the first object matching a template; returns CK_INVALID_HANDLE when none. */
static CK_OBJECT_HANDLE find_one(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                                 CK_ULONG n)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    if (fn->C_FindObjectsInit(s, tmpl, n) != CKR_OK)
        return CK_INVALID_HANDLE;
    if (fn->C_FindObjects(s, &h, 1, &found) != CKR_OK || found == 0)
        h = CK_INVALID_HANDLE;
    fn->C_FindObjectsFinal(s);
    return h;
}

/* True when a key object of the given class carries this CKA_ID. */
static int key_with_id_exists(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                              const uint8_t *id, size_t id_len)
{
    CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, (void *)id, id_len } };
    return find_one(fn, s, tmpl, 2) != CK_INVALID_HANDLE;
}

/* Reads the optional CKA_LABEL of an object into a C string (empty when absent). */
static void read_label(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char *out,
                       size_t cap)
{
    CK_ATTRIBUTE a = { CKA_LABEL, NULL, 0 };
    out[0] = '\0';
    if (fn->C_GetAttributeValue(s, h, &a, 1) != CKR_OK || a.ulValueLen >= cap)
        return;
    a.pValue = out;
    if (fn->C_GetAttributeValue(s, h, &a, 1) == CKR_OK)
        out[a.ulValueLen] = '\0';
    else
        out[0] = '\0';
}

/* Reads CKA_ID and CKA_VALUE of one certificate object into a record. */
static gs_code read_certificate(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                                p11_cert *cert, gs_status *st)
{
    CK_ATTRIBUTE sizes[] = { { CKA_ID, NULL, 0 }, { CKA_VALUE, NULL, 0 } };
    CK_RV rv = fn->C_GetAttributeValue(s, h, sizes, 2);
    if (rv != CKR_OK)
        return fail_rv(st, rv, "C_GetAttributeValue");
    if (sizes[0].ulValueLen > sizeof(cert->id) || sizes[1].ulValueLen == 0 ||
        sizes[1].ulValueLen > 1024 * 1024)
        return gs_fail(st, GS_ERR_PKCS11_ERROR, "certificate object with bad id or value size");
    cert->der = malloc(sizes[1].ulValueLen);
    if (!cert->der)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate");
    CK_ATTRIBUTE get[] = { { CKA_ID, cert->id, sizes[0].ulValueLen },
                           { CKA_VALUE, cert->der, sizes[1].ulValueLen } };
    rv = fn->C_GetAttributeValue(s, h, get, 2);
    if (rv != CKR_OK) {
        free(cert->der);
        cert->der = NULL;
        return fail_rv(st, rv, "C_GetAttributeValue");
    }
    cert->id_len = get[0].ulValueLen;
    cert->der_len = get[1].ulValueLen;
    read_label(fn, s, h, cert->label, sizeof(cert->label));
    return GS_ERR_OK;
}

/* Grows the certificate array by one zeroed entry. */
static p11_cert *append_cert(p11_cert **list, size_t *n)
{
    p11_cert *nl = realloc(*list, (*n + 1) * sizeof(**list));
    if (!nl)
        return NULL;
    *list = nl;
    memset(&nl[*n], 0, sizeof(nl[*n]));
    return &nl[(*n)++];
}

/* Lists the X.509 certificates of one token through its module, which the caller holds. */
static gs_code module_token_certificates(CK_FUNCTION_LIST *fn, const p11_token *t, size_t ti,
                                         p11_cert **list, size_t *n, gs_status *st)
{
    CK_SESSION_HANDLE s;
    CK_RV rv = fn->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        return fail_rv(st, rv, "C_OpenSession");
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE type = CKC_X_509;
    CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
                            { CKA_CERTIFICATE_TYPE, &type, sizeof(type) } };
    CK_OBJECT_HANDLE handles[64];
    CK_ULONG found = 0;
    gs_code rc = GS_ERR_OK;
    if ((rv = fn->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK ||
        (rv = fn->C_FindObjects(s, handles, 64, &found)) != CKR_OK)
        rc = fail_rv(st, rv, "C_FindObjects");
    fn->C_FindObjectsFinal(s);
    for (CK_ULONG i = 0; rc == GS_ERR_OK && i < found; i++) {
        p11_cert *cert = append_cert(list, n);
        if (!cert) {
            rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate list");
            break;
        }
        cert->token_index = ti;
        if (read_certificate(fn, s, handles[i], cert, st) != GS_ERR_OK) {
            (*n)--; /* skip an unreadable object, keep the others */
            continue;
        }
        cert->has_private_key =
            key_with_id_exists(fn, s, CKO_PRIVATE_KEY, cert->id, cert->id_len) ||
            key_with_id_exists(fn, s, CKO_PUBLIC_KEY, cert->id, cert->id_len);
    }
    fn->C_CloseSession(s);
    return rc;
}

/* Lists the X.509 certificates of one token, its module held in use meanwhile. */
static gs_code token_certificates(p11_client *c, const p11_token *t, size_t ti, p11_cert **list,
                                  size_t *n, gs_status *st)
{
    loaded_module *m = acquire_token_module(c, t, st);
    if (!m)
        return st->code;
    gs_code rc = module_token_certificates(m->fn, t, ti, list, n, st);
    release_place(c, m);
    return rc;
}

gs_code p11_client_certificates(p11_client *c, const p11_token *tokens, size_t token_count,
                                p11_cert **out, size_t *count, gs_status *st)
{
    p11_cert *list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < token_count; i++) {
        /* One unreadable token must not hide the others' certificates. */
        gs_status ignored;
        if (token_certificates(c, &tokens[i], i, &list, &n, &ignored) == GS_ERR_OUT_OF_MEMORY) {
            p11_certs_free(list, n);
            return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate list");
        }
    }
    *out = list;
    *count = n;
    return GS_ERR_OK;
}

void p11_certs_free(p11_cert *certs, size_t count)
{
    for (size_t i = 0; certs && i < count; i++)
        free(certs[i].der);
    free(certs);
}

/* Whether the token's slot offers a mechanism for signing. */
static int slot_can_sign_with(CK_FUNCTION_LIST *fn, CK_SLOT_ID slot, CK_MECHANISM_TYPE mech)
{
    CK_MECHANISM_INFO info;
    return fn->C_GetMechanismInfo(slot, mech, &info) == CKR_OK && (info.flags & CKF_SIGN);
}

/* Logs in as the user; a PIN pad (pin == NULL) gets a NULL PIN as PKCS#11 requires. */
static gs_code login_user(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, const char *pin,
                          size_t pin_len, gs_status *st)
{
    CK_RV rv = fn->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, pin ? pin_len : 0);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return GS_ERR_OK;
    return fail_rv(st, rv, "C_Login");
}

/* Runs C_SignInit + C_Sign with the chosen mechanism and input. */
static gs_code sign_with(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
                         CK_MECHANISM_TYPE mech, const uint8_t *in, size_t in_len, uint8_t *sig,
                         size_t *sig_len, gs_status *st)
{
    CK_MECHANISM m = { mech, NULL, 0 };
    CK_ULONG len = (CK_ULONG)*sig_len;
    CK_RV rv = fn->C_SignInit(s, &m, key);
    if (rv == CKR_OK)
        rv = fn->C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, &len);
    if (rv != CKR_OK)
        return fail_rv(st, rv, "C_Sign");
    *sig_len = len;
    return GS_ERR_OK;
}

struct p11_session {
    p11_client *client;
    loaded_module *module; /* held in use until the session closes */
    CK_FUNCTION_LIST *fn;
    CK_SLOT_ID slot;
    CK_SESSION_HANDLE handle;
    char label[33];
};

p11_session *p11_session_open(p11_client *c, const p11_token *token, const char *pin,
                              size_t pin_len, gs_status *st)
{
    p11_session *s = calloc(1, sizeof(*s));
    if (!s) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "session");
        return NULL;
    }
    s->client = c;
    s->module = acquire_token_module(c, token, st);
    if (!s->module) {
        free(s);
        return NULL;
    }
    s->fn = s->module->fn;
    s->slot = token->slot;
    snprintf(s->label, sizeof(s->label), "%s", token->label);
    CK_RV rv = s->fn->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL, NULL, &s->handle);
    gs_code rc = rv == CKR_OK ? login_user(s->fn, s->handle, pin, pin_len, st)
                              : fail_rv(st, rv, "C_OpenSession");
    if (rv == CKR_OK && rc != GS_ERR_OK)
        s->fn->C_CloseSession(s->handle);
    if (rc != GS_ERR_OK) {
        release_place(c, s->module);
        free(s);
        return NULL;
    }
    return s;
}

gs_code p11_session_sign(p11_session *s, const uint8_t *key_id, size_t key_id_len, int key_bits,
                         const uint8_t *data, size_t data_len, const uint8_t *digest,
                         size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st)
{
    CK_MECHANISM_TYPE raw = key_bits == 512 ? CKM_GOSTR3410_512 : CKM_GOSTR3410;
    CK_MECHANISM_TYPE combined = key_bits == 512 ? CKM_GOSTR3410_WITH_GOSTR3411_2012_512
                                                 : CKM_GOSTR3410_WITH_GOSTR3411_2012_256;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
                            { CKA_ID, (void *)key_id, key_id_len } };
    CK_OBJECT_HANDLE key = find_one(s->fn, s->handle, tmpl, 2);
    if (key == CK_INVALID_HANDLE)
        return gs_fail(st, GS_ERR_KEY_NOT_FOUND, "no private key with this CKA_ID on '%s'",
                       s->label);
    if (digest && slot_can_sign_with(s->fn, s->slot, raw))
        return sign_with(s->fn, s->handle, key, raw, digest, digest_len, sig, sig_len, st);
    if (data && slot_can_sign_with(s->fn, s->slot, combined))
        return sign_with(s->fn, s->handle, key, combined, data, data_len, sig, sig_len, st);
    return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM,
                   "token offers no GOST R 34.10-2012 signing mechanism for this input");
}

void p11_session_close(p11_session *s)
{
    if (!s)
        return;
    s->fn->C_Logout(s->handle);
    s->fn->C_CloseSession(s->handle);
    release_place(s->client, s->module);
    free(s);
}

gs_code p11_client_sign(p11_client *c, const p11_token *token, const uint8_t *key_id,
                        size_t key_id_len, int key_bits, const char *pin, size_t pin_len,
                        const uint8_t *data, size_t data_len, const uint8_t *digest,
                        size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st)
{
    p11_session *s = p11_session_open(c, token, pin, pin_len, st);
    if (!s)
        return st->code;
    gs_code rc = p11_session_sign(s, key_id, key_id_len, key_bits, data, data_len, digest,
                                  digest_len, sig, sig_len, st);
    p11_session_close(s);
    return rc;
}

/* A read-write session on the token, for the PIN changes. */
static gs_code open_rw(p11_client *c, const p11_token *token, CK_FUNCTION_LIST **fn,
                       CK_SESSION_HANDLE *h, gs_status *st)
{
    *fn = c->modules[token->module_index].fn;
    CK_RV rv =
        (*fn)->C_OpenSession(token->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, h);
    return rv == CKR_OK ? GS_ERR_OK : fail_rv(st, rv, "C_OpenSession");
}

gs_code p11_client_change_pin(p11_client *c, const p11_token *token, const char *old_pin,
                              size_t old_len, const char *new_pin, size_t new_len, gs_status *st)
{
    CK_FUNCTION_LIST *fn;
    CK_SESSION_HANDLE h;
    gs_code rc = open_rw(c, token, &fn, &h, st);
    if (rc != GS_ERR_OK)
        return rc;
    CK_RV rv =
        fn->C_SetPIN(h, (CK_UTF8CHAR_PTR)old_pin, old_len, (CK_UTF8CHAR_PTR)new_pin, new_len);
    fn->C_CloseSession(h);
    return rv == CKR_OK ? GS_ERR_OK : fail_rv(st, rv, "C_SetPIN");
}

gs_code p11_client_unblock_pin(p11_client *c, const p11_token *token, const char *so_pin,
                               size_t so_len, const char *new_pin, size_t new_len, gs_status *st)
{
    CK_FUNCTION_LIST *fn;
    CK_SESSION_HANDLE h;
    gs_code rc = open_rw(c, token, &fn, &h, st);
    if (rc != GS_ERR_OK)
        return rc;
    CK_RV rv = fn->C_Login(h, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, so_len);
    if (rv != CKR_OK) {
        rc = fail_rv(st, rv, "C_Login (SO)");
    } else {
        rv = fn->C_InitPIN(h, (CK_UTF8CHAR_PTR)new_pin, new_len);
        rc = rv == CKR_OK ? GS_ERR_OK : fail_rv(st, rv, "C_InitPIN");
        fn->C_Logout(h);
    }
    fn->C_CloseSession(h);
    return rc;
}
