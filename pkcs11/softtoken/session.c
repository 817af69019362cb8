/*
 * Sessions on their slot: opening one, the check every session-taking call starts with (which
 * also notices a removed or rewritten token file), session information and closing. The
 * table itself and the login the sessions share are in session_table.c.
 */
#include "softtoken.h"

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

/* C_OpenSession: uninitialised (spare) slots and damaged files are refused. */
CK_RV st_session_open(CK_SLOT_ID id, CK_FLAGS flags, CK_SESSION_HANDLE *h)
{
    st_slots_rescan();
    st_slot *s = st_slot_get(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!h)
        return CKR_ARGUMENTS_BAD;
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    if (!s->present)
        return CKR_TOKEN_NOT_PRESENT;
    if (s->kind == SLOT_EMPTY_SPARE)
        return CKR_TOKEN_NOT_RECOGNIZED;
    CK_RV rv = st_slot_sync(s);
    if (rv != CKR_OK)
        return rv;
    if (s->login == CKU_SO && !(flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_WRITE_SO_EXISTS;
    return st_session_new(id, flags, h);
}

/* C_CloseSession: closes one session. */
CK_RV st_session_close(CK_SESSION_HANDLE h)
{
    st_session *ss = st_session_get(h);
    if (!ss)
        return CKR_SESSION_HANDLE_INVALID;
    st_session_free(ss);
    return CKR_OK;
}

/* C_CloseAllSessions: closes all sessions of a slot. */
CK_RV st_session_close_slot(CK_SLOT_ID id)
{
    if (!st_slot_get(id))
        return CKR_SLOT_ID_INVALID;
    st_session_close_all(id);
    return CKR_OK;
}

/* C_GetSessionInfo: slot, state and flags. */
CK_RV st_session_info(CK_SESSION_HANDLE h, CK_SESSION_INFO *info)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv != CKR_OK)
        return rv;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    info->slotID = ss->slot;
    info->state = st_session_state(ss, s);
    info->flags = ss->flags;
    info->ulDeviceError = 0;
    return CKR_OK;
}
