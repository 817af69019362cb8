/* Cached token and certificate lists, invalidated by slot events; per-token signing locks. */
#include "token_cache.h"
#include "frame.h"
#include "base64.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define CACHE_MAX_MODULES     32 /* the client's places */
#define CACHE_MAX_TOKEN_LOCKS 32

typedef struct {
    char token_id[96];
    pthread_mutex_t lock;
} token_lock;

struct token_cache {
    p11_client *client;
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t changed; /* signalled on every invalidation */
    uint64_t generation;
    int loaded;
    time_t loaded_at; /* when the lists were read: object changes have no PKCS#11 event */
    p11_token *tokens;
    size_t token_count;
    p11_cert *certs;
    size_t cert_count;
    gs_cert **parsed; /* one per cert, NULL when unparsable */
    token_lock token_locks[CACHE_MAX_TOKEN_LOCKS];
    size_t token_lock_count;
    pthread_mutex_t monitor_lock;          /* guards the two arrays below */
    pthread_t monitors[CACHE_MAX_MODULES]; /* indexed by the client's module place */
    int has_monitor[CACHE_MAX_MODULES];
};

token_cache *token_cache_new(const agent_config *cfg, gs_status *st)
{
    token_cache *tc = calloc(1, sizeof(*tc));
    if (!tc) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "token cache");
        return NULL;
    }
    /* Only the configured modules here: the others load when a device needs them
     * (device_modules.c). */
    const char *ptrs[AGENT_CONFIG_MAX_LIST];
    for (size_t i = 0; i < cfg->module_count; i++)
        ptrs[i] = cfg->modules[i];
    tc->client = p11_client_open(ptrs, cfg->module_count, 0, st);
    if (!tc->client) {
        free(tc);
        return NULL;
    }
    pthread_mutex_init(&tc->lock, NULL);
    pthread_mutex_init(&tc->monitor_lock, NULL);
    pthread_cond_init(&tc->changed, NULL);
    return tc;
}

/* Waits up to 2 s for a monitor thread that its module's C_Finalize should have woken. */
static int join_monitor(pthread_t t)
{
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += 2;
    if (pthread_timedjoin_np(t, NULL, &limit) == 0)
        return 0;
    pthread_detach(t); /* a module that ignores C_Finalize while waiting must not hang us */
    return -1;
}

/* Frees the cached lists; caller holds the lock. */
static void drop_lists(token_cache *tc)
{
    for (size_t i = 0; tc->parsed && i < tc->cert_count; i++)
        gs_cert_free(tc->parsed[i]); /* parsed is NULL when its allocation failed */
    free(tc->parsed);
    p11_certs_free(tc->certs, tc->cert_count);
    free(tc->tokens);
    tc->parsed = NULL;
    tc->certs = NULL;
    tc->tokens = NULL;
    tc->cert_count = tc->token_count = 0;
    tc->loaded = 0;
}

void token_cache_free(token_cache *tc)
{
    if (!tc)
        return;
    pthread_mutex_lock(&tc->lock);
    drop_lists(tc);
    pthread_mutex_unlock(&tc->lock);
    /* Modules the agent loaded itself: finalized, their threads joined, then unmapped. */
    for (size_t i = 0; i < p11_client_module_places(tc->client); i++)
        token_cache_unload_module(tc, i);
    /* Finalizing the others wakes their monitor threads (CKR_CRYPTOKI_NOT_INITIALIZED); they
     * must be out of the modules' code before the modules are unloaded. */
    p11_client_finalize(tc->client);
    int stuck = 0;
    for (size_t i = 0; i < CACHE_MAX_MODULES; i++)
        if (tc->has_monitor[i] && join_monitor(tc->monitors[i]) != 0)
            stuck = 1;
    if (!stuck) /* a thread still inside a module must never see it unloaded: the agent is
                 * ending, leaving the modules mapped costs nothing */
        p11_client_close(tc->client);
    pthread_mutex_destroy(&tc->monitor_lock);
    for (size_t i = 0; i < tc->token_lock_count; i++)
        pthread_mutex_destroy(&tc->token_locks[i].lock);
    pthread_cond_destroy(&tc->changed);
    pthread_mutex_destroy(&tc->lock);
    free(tc);
}

/* Stable protocol id of a token: module file and serial (slot when there is no serial). */
static void token_id_of(const p11_token *t, char *out, size_t cap)
{
    if (t->serial[0])
        snprintf(out, cap, "%.60s:%.16s", t->module_name, t->serial);
    else
        snprintf(out, cap, "%.60s:slot%lu", t->module_name, (unsigned long)t->slot);
}

/* Reads tokens and certificates from the modules; caller holds the lock. */
static gs_code load_lists(token_cache *tc, gs_status *st)
{
    if (tc->loaded)
        return GS_ERR_OK;
    gs_code rc = p11_client_tokens(tc->client, &tc->tokens, &tc->token_count, st);
    if (rc == GS_ERR_OK)
        rc = p11_client_certificates(tc->client, tc->tokens, tc->token_count, &tc->certs,
                                     &tc->cert_count, st);
    if (rc == GS_ERR_OK && tc->cert_count) {
        tc->parsed = calloc(tc->cert_count, sizeof(*tc->parsed));
        if (!tc->parsed) { /* stop here: the loop below must never run without the array */
            drop_lists(tc);
            return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate cache");
        }
    }
    for (size_t i = 0; rc == GS_ERR_OK && i < tc->cert_count; i++) {
        gs_status ignored;
        tc->parsed[i] = gs_cert_parse(tc->certs[i].der, tc->certs[i].der_len, &ignored);
    }
    if (rc != GS_ERR_OK) {
        drop_lists(tc);
        return rc;
    }
    tc->loaded = 1;
    tc->loaded_at = time(NULL);
    return GS_ERR_OK;
}

/*
 * PKCS#11 reports slot events, never new objects: a certificate imported by any program shows
 * up only when the lists are read again. Listing certificates re-reads lists older than this.
 */
#define CACHE_OBJECTS_FRESH_SECONDS 2

/* Drops lists older than CACHE_OBJECTS_FRESH_SECONDS; caller holds the lock. */
static void drop_if_stale(token_cache *tc, time_t now)
{
    if (tc->loaded && (now - tc->loaded_at >= CACHE_OBJECTS_FRESH_SECONDS || now < tc->loaded_at))
        drop_lists(tc);
}

/* The PIN state object of a token, from its CK_TOKEN_INFO flags. */
static json_object *pin_state_json(CK_FLAGS f)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "initialized", json_object_new_boolean(f & CKF_USER_PIN_INITIALIZED));
    json_object_object_add(o, "count_low", json_object_new_boolean(f & CKF_USER_PIN_COUNT_LOW));
    json_object_object_add(o, "final_try", json_object_new_boolean(f & CKF_USER_PIN_FINAL_TRY));
    json_object_object_add(o, "locked", json_object_new_boolean(f & CKF_USER_PIN_LOCKED));
    return o;
}

/* One token as the protocol shows it. */
static json_object *token_json(const p11_token *t)
{
    char id[96];
    token_id_of(t, id, sizeof(id));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "label", json_object_new_string(t->label));
    json_object_object_add(o, "manufacturer", json_object_new_string(t->manufacturer));
    json_object_object_add(o, "model", json_object_new_string(t->model));
    json_object_object_add(o, "serial", json_object_new_string(t->serial));
    json_object_object_add(o, "module", json_object_new_string(t->module_name));
    json_object_object_add(o, "pin", pin_state_json(t->flags));
    json_object_object_add(o, "pin_pad", json_object_new_boolean(t->protected_auth));
    return o;
}

/* End-entity certificates of token `index` with no private key (their key is elsewhere: a
 * PKCS#12 file or a CryptoPro container); CA certificates do not count. Caller holds the lock. */
static int keyless_count(const token_cache *tc, size_t index)
{
    int n = 0;
    for (size_t i = 0; i < tc->cert_count; i++)
        n += tc->certs[i].token_index == index && tc->parsed[i] && !tc->parsed[i]->is_ca &&
             !tc->certs[i].has_private_key;
    return n;
}

gs_code token_cache_tokens_json(token_cache *tc, json_object **out, gs_status *st)
{
    pthread_mutex_lock(&tc->lock);
    gs_code rc = load_lists(tc, st);
    if (rc == GS_ERR_OK) {
        *out = json_object_new_array();
        for (size_t i = 0; i < tc->token_count; i++) {
            json_object *t = token_json(&tc->tokens[i]);
            json_object_object_add(t, "certificates_without_key",
                                   json_object_new_int(keyless_count(tc, i)));
            json_object_array_add(*out, t);
        }
    }
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

gs_code token_cache_certificates_json(token_cache *tc, time_t now, json_object **out, gs_status *st)
{
    pthread_mutex_lock(&tc->lock);
    drop_if_stale(tc, now);
    gs_code rc = load_lists(tc, st);
    if (rc == GS_ERR_OK) {
        *out = json_object_new_array();
        for (size_t i = 0; i < tc->cert_count; i++) {
            if (!tc->parsed[i] || !tc->certs[i].has_private_key)
                continue; /* only certificates that can sign: CA certificates stay out */
            json_object *c = gs_cert_to_json(tc->parsed[i], now);
            char tid[96];
            token_id_of(&tc->tokens[tc->certs[i].token_index], tid, sizeof(tid));
            json_object_object_add(c, "id", json_object_new_string(tc->parsed[i]->sha1_thumbprint));
            json_object_object_add(c, "token", json_object_new_string(tid));
            json_object_object_add(c, "has_private_key",
                                   json_object_new_boolean(tc->certs[i].has_private_key));
            json_object_object_add(c, "der",
                                   gs_base64_json(tc->certs[i].der, tc->certs[i].der_len));
            json_object_array_add(*out, c);
        }
    }
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

/* Copies cached entry i into a cert_ref; caller holds the lock. */
static gs_code fill_ref(token_cache *tc, size_t i, cert_ref *out, gs_status *st)
{
    const p11_cert *c = &tc->certs[i];
    memset(out, 0, sizeof(*out));
    out->token = tc->tokens[c->token_index];
    token_id_of(&out->token, out->token_id, sizeof(out->token_id));
    memcpy(out->key_id, c->id, c->id_len);
    out->key_id_len = c->id_len;
    out->cert = gs_cert_parse(c->der, c->der_len, st);
    return out->cert ? GS_ERR_OK : st->code;
}

/* True when cached certificate i can sign now. */
static int cert_usable(token_cache *tc, size_t i, time_t now)
{
    gs_status ignored;
    return tc->parsed[i] && tc->certs[i].has_private_key &&
           gs_cert_check_usable(tc->parsed[i], now, &ignored) == GS_ERR_OK;
}

/* Whether a certificate's thumbprint is the id asked for, or starts with it (a prefix). */
static int id_matches(const gs_cert *c, const char *cert_id, int exact)
{
    size_t n = strlen(cert_id);
    return c && (exact ? strcasecmp(c->sha1_thumbprint, cert_id) == 0
                       : n >= 4 && strncasecmp(c->sha1_thumbprint, cert_id, n) == 0);
}

/* The index of the certificate named by id (exact, else a unique prefix); caller holds the lock. */
static gs_code find_by_id(token_cache *tc, const char *cert_id, long *chosen, gs_status *st)
{
    size_t prefixed = 0;
    for (size_t i = 0; i < tc->cert_count && *chosen < 0; i++)
        if (id_matches(tc->parsed[i], cert_id, 1))
            *chosen = (long)i;
    for (size_t i = 0; i < tc->cert_count && *chosen < 0; i++)
        if (id_matches(tc->parsed[i], cert_id, 0) && tc->certs[i].has_private_key &&
            prefixed++ == 0)
            *chosen = (long)i;
    if (prefixed > 1)
        return gs_fail(st, GS_ERR_CERT_ID_AMBIGUOUS, "%zu certificates start with %.40s", prefixed,
                       cert_id);
    if (*chosen < 0)
        return gs_fail(st, tc->token_count ? GS_ERR_CERT_NOT_FOUND : GS_ERR_TOKEN_NOT_FOUND,
                       "%.60s", cert_id);
    return GS_ERR_OK;
}

/* The only usable certificate; with several the user must choose (never the site). */
static gs_code find_only(token_cache *tc, time_t now, long *chosen, gs_status *st)
{
    size_t usable = 0;
    for (size_t i = 0; i < tc->cert_count; i++)
        if (cert_usable(tc, i, now) && usable++ == 0)
            *chosen = (long)i;
    if (usable > 1)
        return gs_fail(st, GS_ERR_CERT_CHOICE_REQUIRED,
                       "%zu usable certificates: the user chooses one", usable);
    if (usable == 0)
        return gs_fail(st, tc->token_count ? GS_ERR_CERT_NOT_FOUND : GS_ERR_TOKEN_NOT_FOUND,
                       "no usable certificate");
    return GS_ERR_OK;
}

gs_code token_cache_find_cert(token_cache *tc, const char *cert_id, time_t now, cert_ref *out,
                              gs_status *st)
{
    pthread_mutex_lock(&tc->lock);
    gs_code rc = GS_ERR_OK;
    long chosen = -1;
    for (int pass = 0; pass < 2; pass++) {
        int was_loaded = tc->loaded;
        rc = load_lists(tc, st);
        chosen = -1;
        if (rc == GS_ERR_OK)
            rc = cert_id ? find_by_id(tc, cert_id, &chosen, st) : find_only(tc, now, &chosen, st);
        if (rc != GS_ERR_CERT_NOT_FOUND || !was_loaded)
            break;
        drop_lists(tc); /* not in the cached lists: maybe imported since; read them again */
    }
    if (rc == GS_ERR_OK)
        rc = fill_ref(tc, (size_t)chosen, out, st);
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

void cert_ref_clear(cert_ref *ref)
{
    gs_cert_free(ref->cert);
    memset(ref, 0, sizeof(*ref));
}

gs_code token_cache_refresh_token(token_cache *tc, cert_ref *ref, gs_status *st)
{
    return p11_client_refresh_token(tc->client, &ref->token, st);
}

/* The signing lock of a token, created on first use. */
static pthread_mutex_t *lock_for_token(token_cache *tc, const char *token_id)
{
    pthread_mutex_lock(&tc->lock);
    pthread_mutex_t *m = NULL;
    for (size_t i = 0; i < tc->token_lock_count && !m; i++)
        if (strcmp(tc->token_locks[i].token_id, token_id) == 0)
            m = &tc->token_locks[i].lock;
    if (!m && tc->token_lock_count < CACHE_MAX_TOKEN_LOCKS) {
        token_lock *tl = &tc->token_locks[tc->token_lock_count++];
        snprintf(tl->token_id, sizeof(tl->token_id), "%s", token_id);
        pthread_mutex_init(&tl->lock, NULL);
        m = &tl->lock;
    }
    pthread_mutex_unlock(&tc->lock);
    return m ? m : &tc->token_locks[0].lock;
}

gs_code token_cache_sign(token_cache *tc, const cert_ref *ref, const char *pin, size_t pin_len,
                         const uint8_t *data, size_t data_len, const uint8_t *digest,
                         size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st)
{
    pthread_mutex_t *m = lock_for_token(tc, ref->token_id);
    pthread_mutex_lock(m);
    gs_code rc =
        p11_client_sign(tc->client, &ref->token, ref->key_id, ref->key_id_len, ref->cert->key_bits,
                        pin, pin_len, data, data_len, digest, digest_len, sig, sig_len, st);
    pthread_mutex_unlock(m);
    if (rc == GS_ERR_TOKEN_REMOVED)
        token_cache_invalidate(tc);
    return rc;
}

struct token_batch {
    token_cache *tc;
    const cert_ref *ref;
    pthread_mutex_t *lock;
    p11_session *session;
};

token_batch *token_cache_batch_open(token_cache *tc, const cert_ref *ref, const char *pin,
                                    size_t pin_len, gs_status *st)
{
    token_batch *b = calloc(1, sizeof(*b));
    if (!b) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "batch");
        return NULL;
    }
    b->tc = tc;
    b->ref = ref;
    b->lock = lock_for_token(tc, ref->token_id);
    pthread_mutex_lock(b->lock);
    b->session = p11_session_open(tc->client, &ref->token, pin, pin_len, st);
    if (!b->session) {
        pthread_mutex_unlock(b->lock);
        if (st->code == GS_ERR_TOKEN_REMOVED)
            token_cache_invalidate(tc);
        free(b);
        return NULL;
    }
    return b;
}

gs_code token_batch_sign(token_batch *b, const uint8_t *data, size_t data_len,
                         const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len,
                         gs_status *st)
{
    return p11_session_sign(b->session, b->ref->key_id, b->ref->key_id_len, b->ref->cert->key_bits,
                            data, data_len, digest, digest_len, sig, sig_len, st);
}

void token_cache_batch_close(token_batch *b)
{
    if (!b)
        return;
    p11_session_close(b->session);
    pthread_mutex_unlock(b->lock);
    free(b);
}

void token_cache_invalidate(token_cache *tc)
{
    pthread_mutex_lock(&tc->lock);
    drop_lists(tc);
    tc->generation++;
    pthread_cond_broadcast(&tc->changed);
    pthread_mutex_unlock(&tc->lock);
}

int token_cache_wait_change(token_cache *tc, time_t deadline)
{
    struct timespec ts = { .tv_sec = deadline, .tv_nsec = 0 };
    pthread_mutex_lock(&tc->lock);
    uint64_t start = tc->generation;
    int rc = 0;
    while (tc->generation == start && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&tc->changed, &tc->lock, &ts);
    int changed = tc->generation != start;
    pthread_mutex_unlock(&tc->lock);
    return changed ? 0 : -1;
}

uint64_t token_cache_generation(token_cache *tc)
{
    pthread_mutex_lock(&tc->lock);
    uint64_t g = tc->generation;
    pthread_mutex_unlock(&tc->lock);
    return g;
}

typedef struct {
    token_cache *tc;
    CK_FUNCTION_LIST *fn;
} monitor_arg;

/* Blocks in C_WaitForSlotEvent and invalidates the cache on every insert or removal. */
static void *slot_monitor(void *p)
{
    monitor_arg a = *(monitor_arg *)p;
    free(p);
    for (;;) {
        CK_SLOT_ID slot;
        CK_RV rv = a.fn->C_WaitForSlotEvent(0, &slot, NULL);
        if (rv != CKR_OK)
            break; /* finalized, or the module stopped supporting it */
        token_cache_invalidate(a.tc);
    }
    return NULL;
}

/* Starts the slot-event thread of the module at one place; returns 1 when one runs. */
static int start_place_monitor(token_cache *tc, size_t place)
{
    CK_FUNCTION_LIST *fn = p11_client_module(tc->client, place);
    if (!fn || place >= CACHE_MAX_MODULES)
        return 0;
    pthread_mutex_lock(&tc->monitor_lock);
    int running = tc->has_monitor[place];
    /* Only modules that can block for events get a thread; the others never wake it. */
    CK_SLOT_ID slot;
    monitor_arg *a = NULL;
    if (!running &&
        fn->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL) != CKR_FUNCTION_NOT_SUPPORTED &&
        (a = malloc(sizeof(*a)))) {
        a->tc = tc;
        a->fn = fn;
        running = tc->has_monitor[place] =
            pthread_create(&tc->monitors[place], NULL, slot_monitor, a) == 0;
        if (!running)
            free(a);
    }
    pthread_mutex_unlock(&tc->monitor_lock);
    return running;
}

int token_cache_start_monitor(token_cache *tc)
{
    int n = 0;
    for (size_t i = 0; i < p11_client_module_places(tc->client); i++)
        n += start_place_monitor(tc, i);
    return n;
}

long token_cache_load_module(token_cache *tc, const char *path)
{
    long place = p11_client_load_module(tc->client, path);
    if (place >= 0) {
        start_place_monitor(tc, (size_t)place);
        token_cache_invalidate(tc); /* its tokens are new to the lists */
    }
    return place;
}

long token_cache_find_module(token_cache *tc, const char *file_name)
{
    return p11_client_find_module(tc->client, file_name);
}

size_t token_cache_module_tokens(token_cache *tc, size_t place)
{
    return p11_client_module_token_count(tc->client, place);
}

int token_cache_unload_module(token_cache *tc, size_t place)
{
    p11_detached_module d;
    if (!p11_client_module_detach(tc->client, place, &d))
        return -1;              /* a call or a session runs on it: later */
    token_cache_invalidate(tc); /* no list may name its tokens any more */
    p11_detached_finalize(&d);  /* wakes its C_WaitForSlotEvent thread */
    pthread_mutex_lock(&tc->monitor_lock);
    int stuck = 0;
    if (place < CACHE_MAX_MODULES && tc->has_monitor[place]) {
        stuck = join_monitor(tc->monitors[place]) != 0;
        tc->has_monitor[place] = 0;
    }
    pthread_mutex_unlock(&tc->monitor_lock);
    /* A thread still inside the module's code keeps it mapped: unmapping would crash it. */
    if (!stuck)
        p11_detached_release(&d);
    else
        fprintf(stderr, "gostsign-agent: a module's slot-event thread did not end after "
                        "C_Finalize: the module stays mapped\n");
    return 0;
}

/* The cached certificate whose subject is the issuer of cert (not cert itself), or -1. */
static long find_issuer(token_cache *tc, X509 *cert)
{
    for (size_t i = 0; i < tc->cert_count; i++) {
        X509 *cand = tc->parsed[i] ? tc->parsed[i]->x509 : NULL;
        if (cand && X509_cmp(cand, cert) != 0 && X509_check_issued(cand, cert) == X509_V_OK)
            return (long)i;
    }
    return -1;
}

gs_code token_cache_chain(token_cache *tc, const cert_ref *ref, STACK_OF(X509) * *out,
                          gs_status *st)
{
    *out = sk_X509_new_null();
    if (!*out)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "chain");
    pthread_mutex_lock(&tc->lock);
    gs_code rc = load_lists(tc, st);
    X509 *at = ref->cert->x509;
    for (int depth = 0; rc == GS_ERR_OK && depth < 8; depth++) {
        long i = find_issuer(tc, at);
        if (i < 0)
            break;
        at = tc->parsed[i]->x509;
        X509_up_ref(at);
        sk_X509_push(*out, at);
        if (X509_check_issued(at, at) == X509_V_OK)
            break; /* a self-signed root ends the chain */
    }
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

/* Whether token t is the one the user named: its id, serial number or label. */
static int token_named(const p11_token *t, const char *name)
{
    char id[96];
    token_id_of(t, id, sizeof(id));
    return strcmp(id, name) == 0 || strcmp(t->serial, name) == 0 || strcmp(t->label, name) == 0;
}

gs_code token_cache_find_token(token_cache *tc, const char *name, p11_token *out, char *id,
                               size_t id_cap, gs_status *st)
{
    pthread_mutex_lock(&tc->lock);
    gs_code rc = load_lists(tc, st);
    size_t found = 0;
    for (size_t i = 0; rc == GS_ERR_OK && i < tc->token_count; i++)
        if (!name || token_named(&tc->tokens[i], name))
            if (++found == 1)
                *out = tc->tokens[i];
    pthread_mutex_unlock(&tc->lock);
    if (rc != GS_ERR_OK)
        return rc;
    if (found == 0)
        return gs_fail(st, GS_ERR_TOKEN_NOT_FOUND, name ? "no token is named \"%.64s\"" : "%s",
                       name ? name : "no token is present");
    if (found > 1)
        return gs_fail(st, GS_ERR_BAD_REQUEST,
                       "several tokens fit: name one with --token ID "
                       "(`gostsign tokens` lists the ids)");
    token_id_of(out, id, id_cap);
    return GS_ERR_OK;
}

gs_code token_cache_set_pin(token_cache *tc, const p11_token *token, const char *token_id,
                            int unblock, const char *auth, size_t auth_len, const char *new_pin,
                            size_t new_len, gs_status *st)
{
    pthread_mutex_t *m = lock_for_token(tc, token_id);
    pthread_mutex_lock(m);
    gs_code rc =
        unblock ? p11_client_unblock_pin(tc->client, token, auth, auth_len, new_pin, new_len, st)
                : p11_client_change_pin(tc->client, token, auth, auth_len, new_pin, new_len, st);
    pthread_mutex_unlock(m);
    token_cache_invalidate(tc); /* the PIN flags changed */
    return rc;
}
