/*
 * PKCS#11 entry points, session chapter: open and close sessions, session information, login
 * and logout, token and PIN initialisation, C_SetPIN, and the legacy parallel-function calls.
 * Each C_* checks its arguments, st_enter(), one st_* call, st_leave().
 */
#include "softtoken.h"

/* Opens a session; uninitialised (spare) slots and damaged files are refused. */
CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    (void)pApplication, (void)Notify;
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_session_open(slotID, flags, phSession);
    st_leave();
    return rv;
}

/* Closes one session. */
CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_session_close(hSession);
    st_leave();
    return rv;
}

/* Closes all sessions of a slot. */
CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_session_close_slot(slotID);
    st_leave();
    return rv;
}

/* Session information: slot, state and flags. */
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_session_info(hSession, pInfo);
    st_leave();
    return rv;
}

/* C_Login for CKU_USER and CKU_SO, with the persistent retry counter. */
CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_login_with_keys(hSession, userType, pPin, ulPinLen);
    st_leave();
    return rv;
}

/* C_Logout: ends the login of the session's slot. */
CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_logout(hSession);
    st_leave();
    return rv;
}

/* C_InitToken: creates a token in the spare slot or re-initialises one (never a damaged one). */
CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_init_token(slotID, pPin, ulPinLen, pLabel);
    st_leave();
    return rv;
}

/* C_InitPIN: the SO sets (or resets, unblocking) the user PIN. */
CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_init_pin(hSession, pPin, ulPinLen);
    st_leave();
    return rv;
}

/* C_SetPIN: the logged-in SO changes the SO PIN, anyone else the user PIN (old PIN checked). */
CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_set_pin(hSession, pOldPin, ulOldLen, pNewPin, ulNewLen);
    st_leave();
    return rv;
}

/* A legacy call that PKCS#11 v2.40 says "should simply return" CKR_FUNCTION_NOT_PARALLEL. */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
    (void)hSession;
    return CKR_FUNCTION_NOT_PARALLEL;
}

/* A legacy call that PKCS#11 v2.40 says "should simply return" CKR_FUNCTION_NOT_PARALLEL. */
CK_RV C_CancelFunction(CK_SESSION_HANDLE hSession)
{
    (void)hSession;
    return CKR_FUNCTION_NOT_PARALLEL;
}
