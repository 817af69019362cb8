/*
 * The bottom layer of gostsign-softtoken: the one global state (g_st) and its lock, lookups of
 * slots and sessions in it, diagnostics, and the one place internal gs_code failures become
 * CKR_* values. Every other file stands on this one; only the p11_*.c entry files take the lock.
 */
#include "softtoken.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

st_state g_st = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .dirfd = -1, .inotify_fd = -1, .wake_pipe = { -1, -1 }
};

/* Takes the global lock; fails (unlocked) when the library is not initialised, or when this
 * process is a fork child that has not called C_Initialize itself yet. */
CK_RV st_enter(void)
{
    pthread_mutex_lock(&g_st.lock);
    if (!g_st.initialized || g_st.inherited) {
        pthread_mutex_unlock(&g_st.lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    return CKR_OK;
}

/* Takes the global lock whatever the state: C_Initialize must enter an uninitialised module. */
void st_enter_any(void)
{
    pthread_mutex_lock(&g_st.lock);
}

/* fork() is taken with the lock held, so the child never inherits a half-changed state or a
 * lock some vanished thread owns. */
static void before_fork(void)
{
    pthread_mutex_lock(&g_st.lock);
}

/* The parent goes on as before. */
static void after_fork_parent(void)
{
    pthread_mutex_unlock(&g_st.lock);
}

/* The child's copy belongs to the parent: it is unusable until the child's C_Initialize. */
static void after_fork_child(void)
{
    g_st.inherited = g_st.initialized;
    pthread_mutex_unlock(&g_st.lock);
}

static pthread_once_t fork_watch_once = PTHREAD_ONCE_INIT;

/* Registers the fork handlers (glibc drops them when the module is unloaded). */
static void register_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Makes sure a fork child gets a fresh, logged-out module (PKCS#11 v2.40, 6.6.1). */
void st_watch_forks(void)
{
    pthread_once(&fork_watch_once, register_fork_handlers);
}

/* Releases the global lock. */
void st_leave(void)
{
    pthread_mutex_unlock(&g_st.lock);
}

/* Sleeps in poll() with the lock released, so other threads (and C_Finalize) can run; the
 * waiter count lets C_Finalize wait until every sleeper has left before freeing the state. */
void st_poll_unlocked(struct pollfd *fds, nfds_t n)
{
    g_st.waiters++;
    pthread_mutex_unlock(&g_st.lock);
    while (poll(fds, n, -1) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&g_st.lock);
    g_st.waiters--;
}

/* Called with the lock held: lets every thread sleeping in st_poll_unlocked leave first. */
void st_wait_for_sleepers(void)
{
    while (g_st.waiters > 0) {
        pthread_mutex_unlock(&g_st.lock);
        usleep(1000);
        pthread_mutex_lock(&g_st.lock);
    }
}

/* Diagnostics to stderr (never PINs or key material): damaged files, unusable directory. */
void st_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gostsign-softtoken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Copies src into a blank-padded, unterminated PKCS#11 text field. */
void st_pad(char *dst, size_t len, const char *src)
{
    memset(dst, ' ', len);
    if (!src)
        return; /* an empty field stays all blanks */
    size_t n = strlen(src);
    memcpy(dst, src, n < len ? n : len);
}

/* What a failure of gost/ means for one PKCS#11 function, when that differs from the default. */
typedef struct {
    const char *fn;
    CK_RV rv;
} fn_override;

static const fn_override overrides[] = {
    { "C_Initialize", CKR_GENERAL_ERROR },
    { "C_Sign", CKR_FUNCTION_FAILED },
    { "C_GenerateKeyPair", CKR_FUNCTION_FAILED },
    { "C_Verify", CKR_SIGNATURE_INVALID },
};

/* True for the failures that are an answer, not a fault: a signature that does not verify. */
static int is_expected_answer(gs_code code)
{
    return code == GS_ERR_CMS_BAD_SIGNATURE || code == GS_ERR_BAD_SIGNATURE_FORMAT;
}

/* The CKR_* for a gost/ result in function fn (as OpenSC's sc_to_cryptoki_error): per-function
 * meanings first, then memory, else a device error. Faults are logged with their detail. */
CK_RV st_rv_from(const gs_status *gst, const char *fn)
{
    if (gst->code == GS_ERR_OK)
        return CKR_OK;
    if (!is_expected_answer(gst->code))
        st_log("%s: %s (%s)", fn, gst->detail, gs_error_lookup(gst->code)->name);
    for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++)
        if (strcmp(overrides[i].fn, fn) == 0)
            return overrides[i].rv;
    return gst->code == GS_ERR_OUT_OF_MEMORY ? CKR_HOST_MEMORY : CKR_DEVICE_ERROR;
}

/* Slot by ID, or NULL. */
st_slot *st_slot_get(CK_SLOT_ID id)
{
    for (size_t i = 0; i < g_st.nslots; i++)
        if (g_st.slots[i]->id == id)
            return g_st.slots[i];
    return NULL;
}

/* Session by handle, or NULL. */
st_session *st_session_get(CK_SESSION_HANDLE h)
{
    for (st_session *ss = g_st.sessions; ss; ss = ss->next)
        if (ss->handle == h)
            return ss;
    return NULL;
}

/* True when the slot has sessions (only read-only ones when read_only_only). */
int st_slot_has_sessions(CK_SLOT_ID slot, int read_only_only)
{
    for (st_session *ss = g_st.sessions; ss; ss = ss->next)
        if (ss->slot == slot && (!read_only_only || !(ss->flags & CKF_RW_SESSION)))
            return 1;
    return 0;
}

static EVP_CIPHER *aes_gcm_cipher;

/* AES-256-GCM, fetched once per C_Initialize (called with the lock held): the implicit fetch
 * of EVP_aes_256_gcm() in every cipher init was most of the time of one unseal. */
const EVP_CIPHER *st_aes_gcm(void)
{
    if (!aes_gcm_cipher)
        aes_gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    return aes_gcm_cipher ? aes_gcm_cipher : EVP_aes_256_gcm();
}

/* C_Finalize: gives the fetched cipher back. */
void st_crypto_release(void)
{
    EVP_CIPHER_free(aes_gcm_cipher);
    aes_gcm_cipher = NULL;
}
