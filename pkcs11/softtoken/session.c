/*
 * Sessions: open/close, state, and the check every session-taking call starts with (which also
 * notices a removed or rewritten token file).
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Frees whatever an operation holds and returns it to OP_NONE. */
void st_op_clear(st_op *op)
{
    EVP_PKEY_free(op->key);
    EVP_MD_CTX_free(op->md);
    free(op->found);
    memset(op, 0, sizeof *op);
}

/* Session by handle, or NULL. */
st_session *st_session_get(CK_SESSION_HANDLE h)
{
    for (st_session *ss = g_st.sessions; ss; ss = ss->next)
        if (ss->handle == h)
            return ss;
    return NULL;
}

/* Destroys the session objects a session created. */
static void drop_session_objects(st_slot *s, CK_SESSION_HANDLE h)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->nsobj; i++) {
        if (s->sobjs[i].owner == h)
            st_obj_free(&s->sobjs[i]);
        else
            s->sobjs[keep++] = s->sobjs[i];
    }
    s->nsobj = keep;
}

/* Unlinks and frees one session; the last session of a slot also logs the slot out. */
static void session_free(st_session *ss)
{
    for (st_session **pp = &g_st.sessions; *pp; pp = &(*pp)->next)
        if (*pp == ss) {
            *pp = ss->next;
            break;
        }
    st_slot *s = st_slot_get(ss->slot);
    if (s) {
        drop_session_objects(s, ss->handle);
        if (!st_slot_has_sessions(s->id, 0))
            st_logout_slot(s);
    }
    st_op_clear(&ss->find);
    st_op_clear(&ss->crypto);
    free(ss);
}

/* Closes every session on a slot (token removed, C_CloseAllSessions, C_Finalize). */
void st_session_close_all(CK_SLOT_ID slot)
{
    st_session *ss = g_st.sessions;
    while (ss) {
        st_session *next = ss->next;
        if (ss->slot == slot)
            session_free(ss);
        ss = next;
    }
}

/* True when the slot has sessions (only read-only ones when read_only_only). */
int st_slot_has_sessions(CK_SLOT_ID slot, int read_only_only)
{
    for (st_session *ss = g_st.sessions; ss; ss = ss->next)
        if (ss->slot == slot && (!read_only_only || !(ss->flags & CKF_RW_SESSION)))
            return 1;
    return 0;
}

/*
 * Common start of every session call: valid handle, token still there and readable.
 * A removed token closes the slot's sessions and gives CKR_DEVICE_REMOVED once; later calls
 * get CKR_SESSION_HANDLE_INVALID.
 */
CK_RV st_session_check(CK_SESSION_HANDLE h, st_session **out, st_slot **slot)
{
    st_session *ss = st_session_get(h);
    if (!ss)
        return CKR_SESSION_HANDLE_INVALID;
    st_slot *s = st_slot_get(ss->slot);
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    CK_RV rv = st_slot_sync(s);
    if (rv == CKR_TOKEN_NOT_PRESENT)
        return CKR_DEVICE_REMOVED;
    if (rv == CKR_TOKEN_NOT_RECOGNIZED)
        return CKR_DEVICE_ERROR;
    if (rv != CKR_OK)
        return rv;
    *out = ss;
    *slot = s;
    return CKR_OK;
}

/* The PKCS#11 session state from the session's flags and the slot's login. */
CK_STATE st_session_state(const st_session *ss, const st_slot *s)
{
    int rw = (ss->flags & CKF_RW_SESSION) != 0;
    if (s->login == CKU_SO)
        return CKS_RW_SO_FUNCTIONS;
    if (s->login == CKU_USER)
        return rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    return rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
}

/* Opens a session; uninitialised (spare) slots and damaged files are refused. */
CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    (void)pApplication, (void)Notify;
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_slots_rescan();
    st_slot *s = st_slot_get(slotID);
    if (!s)
        rv = CKR_SLOT_ID_INVALID;
    else if (!phSession)
        rv = CKR_ARGUMENTS_BAD;
    else if (!(flags & CKF_SERIAL_SESSION))
        rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    else if (!s->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    else if (s->kind == SLOT_EMPTY_SPARE)
        rv = CKR_TOKEN_NOT_RECOGNIZED;
    else if ((rv = st_slot_sync(s)) != CKR_OK)
        ;
    else if (s->login == CKU_SO && !(flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
    else {
        st_session *ss = calloc(1, sizeof *ss);
        if (!ss)
            rv = CKR_HOST_MEMORY;
        else {
            ss->handle = g_st.next_session++;
            ss->slot = slotID;
            ss->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
            ss->next = g_st.sessions;
            g_st.sessions = ss;
            *phSession = ss->handle;
        }
    }
    st_leave();
    return rv;
}

/* Closes one session. */
CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss = st_session_get(hSession);
    if (!ss)
        rv = CKR_SESSION_HANDLE_INVALID;
    else
        session_free(ss);
    st_leave();
    return rv;
}

/* Closes all sessions of a slot. */
CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    if (!st_slot_get(slotID))
        rv = CKR_SLOT_ID_INVALID;
    else
        st_session_close_all(slotID);
    st_leave();
    return rv;
}

/* Session information: slot, state and flags. */
CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && !pInfo)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK) {
        pInfo->slotID = ss->slot;
        pInfo->state = st_session_state(ss, s);
        pInfo->flags = ss->flags;
        pInfo->ulDeviceError = 0;
    }
    st_leave();
    return rv;
}
