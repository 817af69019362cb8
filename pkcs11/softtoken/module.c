/*
 * gostsign-softtoken entry points: C_Initialize/C_Finalize, C_GetInfo, the function list, the
 * global lock, and stubs for the PKCS#11 functions a signing token does not offer.
 */
#include "softtoken.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gost.h"

st_state g_st = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .dirfd = -1, .inotify_fd = -1, .wake_pipe = { -1, -1 }
};

/* Takes the global lock; fails (unlocked) when the library is not initialised. */
CK_RV st_enter(void)
{
    pthread_mutex_lock(&g_st.lock);
    if (!g_st.initialized) {
        pthread_mutex_unlock(&g_st.lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    return CKR_OK;
}

/* Releases the global lock. */
void st_leave(void)
{
    pthread_mutex_unlock(&g_st.lock);
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

/* Checks C_Initialize arguments: we lock with pthreads, so OS locking must be acceptable. */
static CK_RV check_init_args(CK_C_INITIALIZE_ARGS_PTR a)
{
    if (!a)
        return CKR_OK;
    if (a->pReserved)
        return CKR_ARGUMENTS_BAD;
    int given = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex + !!a->UnlockMutex;
    if (given != 0 && given != 4)
        return CKR_ARGUMENTS_BAD;
    if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
        return CKR_CANT_LOCK;
    return CKR_OK;
}

/* Loads the GOST engine and opens the token directory. */
CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_RV rv = check_init_args(pInitArgs);
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&g_st.lock);
    if (g_st.initialized) {
        pthread_mutex_unlock(&g_st.lock);
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    gs_status gst;
    if (gost_init(&gst) != GS_ERR_OK) {
        st_log("%s", gst.detail);
        pthread_mutex_unlock(&g_st.lock);
        return CKR_GENERAL_ERROR;
    }
    g_st.next_session = 1;
    rv = st_slots_open();
    if (rv == CKR_OK)
        g_st.initialized = 1;
    else
        st_slots_close();
    pthread_mutex_unlock(&g_st.lock);
    return rv;
}

/* Closes every session, wakes C_WaitForSlotEvent callers and frees all state. */
CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    if (pReserved)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < g_st.nslots; i++)
        st_session_close_all(g_st.slots[i]->id);
    g_st.initialized = 0;
    if (write(g_st.wake_pipe[1], "x", 1) < 0) {
        /* the pipe is non-blocking; a full pipe already wakes the waiters */
    }
    while (g_st.waiters > 0) {
        pthread_mutex_unlock(&g_st.lock);
        usleep(1000);
        pthread_mutex_lock(&g_st.lock);
    }
    st_slots_close();
    pthread_mutex_unlock(&g_st.lock);
    return CKR_OK;
}

/* Library information. */
CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    if (!pInfo) {
        st_leave();
        return CKR_ARGUMENTS_BAD;
    }
    memset(pInfo, 0, sizeof *pInfo);
    pInfo->cryptokiVersion.major = 2;
    pInfo->cryptokiVersion.minor = 40;
    st_pad((char *)pInfo->manufacturerID, sizeof pInfo->manufacturerID, "gostsign");
    st_pad((char *)pInfo->libraryDescription, sizeof pInfo->libraryDescription,
           "gostsign GOST-2012 soft token");
    pInfo->libraryVersion.major = 0;
    pInfo->libraryVersion.minor = 1;
    st_leave();
    return CKR_OK;
}

/* ---- functions a signing token does not offer ---- */

/* Legacy parallel-function calls: always "not parallel". */
static CK_RV st_GetFunctionStatus(CK_SESSION_HANDLE h)
{
    (void)h;
    return CKR_FUNCTION_NOT_PARALLEL;
}

/* Legacy parallel-function calls: always "not parallel". */
static CK_RV st_CancelFunction(CK_SESSION_HANDLE h)
{
    (void)h;
    return CKR_FUNCTION_NOT_PARALLEL;
}

/* The token's RNG is OpenSSL's DRBG; external seeding is refused. */
static CK_RV st_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG n)
{
    (void)h;
    (void)p;
    (void)n;
    return CKR_RANDOM_SEED_NOT_SUPPORTED;
}

/* Not offered by a signing token: operation state save. */
static CK_RV st_unsup_state(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG_PTR n)
{
    (void)h;
    (void)p;
    (void)n;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: operation state restore. */
static CK_RV st_unsup_setstate(CK_SESSION_HANDLE h, CK_BYTE_PTR p, CK_ULONG n, CK_OBJECT_HANDLE a,
                               CK_OBJECT_HANDLE b)
{
    (void)h;
    (void)p;
    (void)n;
    (void)a;
    (void)b;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: C_CopyObject. */
static CK_RV st_unsup_copy(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                           CK_OBJECT_HANDLE_PTR out)
{
    (void)h;
    (void)o;
    (void)t;
    (void)n;
    (void)out;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: C_GetObjectSize. */
static CK_RV st_unsup_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG_PTR n)
{
    (void)h;
    (void)o;
    (void)n;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: encrypt/decrypt/recover initialisation. */
static CK_RV st_unsup_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    (void)h;
    (void)m;
    (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: encryption, decryption, recovery and dual-function calls. */
static CK_RV st_unsup_oneshot(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                              CK_ULONG_PTR outl)
{
    (void)h;
    (void)in;
    (void)inl;
    (void)out;
    (void)outl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: C_EncryptFinal/C_DecryptFinal. */
static CK_RV st_unsup_final(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    (void)h;
    (void)out;
    (void)outl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: C_DigestKey. */
static CK_RV st_unsup_digestkey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
    (void)h;
    (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: secret-key generation. */
static CK_RV st_unsup_genkey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t,
                             CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
    (void)h;
    (void)m;
    (void)t;
    (void)n;
    (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: key wrapping. */
static CK_RV st_unsup_wrap(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
                           CK_OBJECT_HANDLE b, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    (void)h;
    (void)m;
    (void)a;
    (void)b;
    (void)out;
    (void)outl;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: key unwrapping. */
static CK_RV st_unsup_unwrap(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
                             CK_BYTE_PTR in, CK_ULONG inl, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                             CK_OBJECT_HANDLE_PTR k)
{
    (void)h;
    (void)m;
    (void)a;
    (void)in;
    (void)inl;
    (void)t;
    (void)n;
    (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
/* Not offered by a signing token: key derivation. */
static CK_RV st_unsup_derive(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE a,
                             CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
    (void)h;
    (void)m;
    (void)a;
    (void)t;
    (void)n;
    (void)k;
    return CKR_FUNCTION_NOT_SUPPORTED;
}
static CK_FUNCTION_LIST st_functions = {
    { 2, 40 },
    C_Initialize,
    C_Finalize,
    C_GetInfo,
    C_GetFunctionList,
    C_GetSlotList,
    C_GetSlotInfo,
    C_GetTokenInfo,
    C_GetMechanismList,
    C_GetMechanismInfo,
    C_InitToken,
    C_InitPIN,
    C_SetPIN,
    C_OpenSession,
    C_CloseSession,
    C_CloseAllSessions,
    C_GetSessionInfo,
    st_unsup_state,
    st_unsup_setstate,
    C_Login,
    C_Logout,
    C_CreateObject,
    st_unsup_copy,
    C_DestroyObject,
    st_unsup_size,
    C_GetAttributeValue,
    C_SetAttributeValue,
    C_FindObjectsInit,
    C_FindObjects,
    C_FindObjectsFinal,
    st_unsup_init,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_final,
    st_unsup_init,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_final,
    C_DigestInit,
    C_Digest,
    C_DigestUpdate,
    st_unsup_digestkey,
    C_DigestFinal,
    C_SignInit,
    C_Sign,
    C_SignUpdate,
    C_SignFinal,
    st_unsup_init,
    st_unsup_oneshot,
    C_VerifyInit,
    C_Verify,
    C_VerifyUpdate,
    C_VerifyFinal,
    st_unsup_init,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_oneshot,
    st_unsup_genkey,
    C_GenerateKeyPair,
    st_unsup_wrap,
    st_unsup_unwrap,
    st_unsup_derive,
    st_SeedRandom,
    C_GenerateRandom,
    st_GetFunctionStatus,
    st_CancelFunction,
    C_WaitForSlotEvent,
};

/* The one exported symbol applications look up (p11-kit, pkcs11-tool, dlopen users). */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (!ppFunctionList)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &st_functions;
    return CKR_OK;
}
