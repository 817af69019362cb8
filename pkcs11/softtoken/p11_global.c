/*
 * PKCS#11 entry points, general chapter: C_Initialize, C_Finalize, C_GetInfo, the function
 * list, slot and token information, mechanisms and C_WaitForSlotEvent; plus the stubs for the
 * functions a signing token does not offer, and the PKCS#11 3.0 interface discovery. Like every
 * p11_*.c file this is the top layer: each C_* checks its arguments, st_enter(), one st_* call,
 * st_leave().
 */
#include "softtoken.h"

#include <string.h>

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
    st_enter_any();
    rv = st_initialize();
    st_leave();
    return rv;
}

/* Closes every session, wakes C_WaitForSlotEvent callers and frees all state (an
 * uninitialised module answers CKR_CRYPTOKI_NOT_INITIALIZED before pReserved is looked at). */
CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    if (!pReserved)
        st_finalize();
    st_leave();
    return pReserved ? CKR_ARGUMENTS_BAD : CKR_OK;
}

/* Library information. */
CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    if (pInfo)
        st_library_info(pInfo);
    st_leave();
    return pInfo ? CKR_OK : CKR_ARGUMENTS_BAD;
}

/* Lists file slots first (stable order), then the spare slot. */
CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = pulCount ? st_slot_list(tokenPresent, pSlotList, pulCount) : CKR_ARGUMENTS_BAD;
    st_leave();
    return rv;
}

/* Describes a slot: removable, with or without a token. */
CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_slot_info(slotID, pInfo);
    st_leave();
    return rv;
}

/* Token information; a damaged file gives CKR_TOKEN_NOT_RECOGNIZED. */
CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_token_info(slotID, pInfo);
    st_leave();
    return rv;
}

/* The mechanisms of a slot, with the usual size query. */
CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_mechanism_list(slotID, pList, pulCount);
    st_leave();
    return rv;
}

/* Key sizes and operations of one mechanism. */
CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_mechanism_info(slotID, type, pInfo);
    st_leave();
    return rv;
}

/* Token insertion/removal events, from inotify; CKF_DONT_BLOCK returns CKR_NO_EVENT at once. */
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = pSlot && !pReserved ? st_slot_wait_event(flags, pSlot) : CKR_ARGUMENTS_BAD;
    st_leave();
    return rv;
}

/* ---- functions a signing token does not offer ---- */

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
    C_SeedRandom,
    C_GenerateRandom,
    C_GetFunctionStatus,
    C_CancelFunction,
    C_WaitForSlotEvent,
};

/* The symbol PKCS#11 2.x applications look up (p11-kit, pkcs11-tool, dlopen users). */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (!ppFunctionList)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &st_functions;
    return CKR_OK;
}

/* ---- PKCS#11 3.0 interface discovery: "PKCS 11" (the 2.40 function list) and our own ---- */

static CK_CHAR pkcs11_name[] = "PKCS 11";
static CK_CHAR vendor_name[] = ST_VENDOR_INTERFACE;

/* The vendor repair call: restores a damaged token file from its previous good copy. */
static CK_RV repair_token(CK_SLOT_ID slotID)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_slot_repair(slotID);
    st_leave();
    return rv;
}

static st_vendor_functions st_vendor = { { 1, 0 }, repair_token };

/* Fork: a child calls C_Initialize again (not fork-safe in the 3.0 sense), so no flags. The
 * standard interface comes first: C_GetInterface(NULL, ...) gives it. */
static CK_INTERFACE st_interfaces[] = {
    { pkcs11_name, &st_functions, 0 },
    { vendor_name, &st_vendor, 0 },
};
#define NINTERFACES (sizeof st_interfaces / sizeof st_interfaces[0])

/* Lists the interfaces, with the usual size query; needs no C_Initialize. */
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
    if (!pulCount)
        return CKR_ARGUMENTS_BAD;
    CK_ULONG have = *pulCount;
    *pulCount = NINTERFACES;
    if (!pInterfacesList)
        return CKR_OK;
    if (have < NINTERFACES)
        return CKR_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < NINTERFACES; i++)
        pInterfacesList[i] = st_interfaces[i];
    return CKR_OK;
}

/* True when an interface matches the name, version and flags asked for (NULL: any). */
static int interface_matches(const CK_INTERFACE *in, const CK_UTF8CHAR *name,
                             const CK_VERSION *version, CK_FLAGS flags)
{
    const CK_VERSION *have = in->pFunctionList; /* every list starts with its version */
    if (name && strcmp((const char *)name, (const char *)in->pInterfaceName) != 0)
        return 0;
    if (version && (version->major != have->major || version->minor != have->minor))
        return 0;
    return (in->flags & flags) == flags;
}

/* One interface by name, version and flags; needs no C_Initialize. */
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
    if (!ppInterface)
        return CKR_ARGUMENTS_BAD;
    for (size_t i = 0; i < NINTERFACES; i++)
        if (interface_matches(&st_interfaces[i], pInterfaceName, pVersion, flags)) {
            *ppInterface = &st_interfaces[i];
            return CKR_OK;
        }
    return CKR_ARGUMENTS_BAD;
}
