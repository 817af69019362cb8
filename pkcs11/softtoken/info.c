/*
 * What the module says about itself, its slots and their tokens: C_GetInfo, C_GetSlotList,
 * C_GetSlotInfo and C_GetTokenInfo (the PIN counter flags included).
 */
#include "softtoken.h"

#include <stdio.h>
#include <string.h>

/* C_GetInfo: the library's identity and the PKCS#11 version it implements. */
void st_library_info(CK_INFO *info)
{
    memset(info, 0, sizeof *info);
    info->cryptokiVersion.major = 2;
    info->cryptokiVersion.minor = 40;
    st_pad((char *)info->manufacturerID, sizeof info->manufacturerID, "gostsign");
    st_pad((char *)info->libraryDescription, sizeof info->libraryDescription,
           "gostsign GOST-2012 soft token");
    info->libraryVersion.major = 0;
    info->libraryVersion.minor = 1;
}

/* C_GetSlotList: file slots first (stable order), then the spare slot. */
CK_RV st_slot_list(CK_BBOOL token_present, CK_SLOT_ID *list, CK_ULONG *count)
{
    st_slots_rescan();
    CK_ULONG n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < g_st.nslots; i++) {
            st_slot *s = g_st.slots[i];
            if ((s->kind == SLOT_EMPTY_SPARE) != pass || (token_present && !s->present))
                continue;
            if (list && n < *count)
                list[n] = s->id;
            n++;
        }
    CK_RV rv = list && n > *count ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    *count = n;
    return rv;
}

/* C_GetSlotInfo: a removable slot, with or without a token. */
CK_RV st_slot_info(CK_SLOT_ID id, CK_SLOT_INFO *info)
{
    st_slots_rescan();
    st_slot *s = st_slot_get(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    char desc[64];
    snprintf(desc, sizeof desc, "gostsign softtoken %s", s->name ? s->name : "(new token)");
    st_pad((char *)info->slotDescription, sizeof info->slotDescription, desc);
    st_pad((char *)info->manufacturerID, sizeof info->manufacturerID, "gostsign");
    info->flags = CKF_REMOVABLE_DEVICE | (s->present ? CKF_TOKEN_PRESENT : 0);
    info->hardwareVersion.major = 0;
    info->hardwareVersion.minor = 1;
    info->firmwareVersion = info->hardwareVersion;
    return CKR_OK;
}

/* Flags of one role's counter: LOCKED at 0, FINAL_TRY (and COUNT_LOW) at 1, COUNT_LOW below
 * the maximum. */
static CK_FLAGS counter_flags(uint32_t left, CK_FLAGS locked, CK_FLAGS final_try, CK_FLAGS low)
{
    if (left == 0)
        return locked;
    if (left == 1)
        return final_try | low;
    return left < ST_MAX_TRIES ? low : 0;
}

/* Token flags derived from the retry counters, the attempt journal's attempts included. */
static CK_FLAGS pin_flags(const st_slot *s)
{
    uint32_t pending[2];
    if (st_attempts_read(s, pending) != CKR_OK)
        pending[0] = pending[1] = 1; /* unreadable journal: show the counter as used */
    CK_FLAGS f = 0;
    if (s->tok.user_pin_set)
        f |= CKF_USER_PIN_INITIALIZED | counter_flags(st_tries_left(s, 0, pending),
                                                      CKF_USER_PIN_LOCKED, CKF_USER_PIN_FINAL_TRY,
                                                      CKF_USER_PIN_COUNT_LOW);
    return f | counter_flags(st_tries_left(s, 1, pending), CKF_SO_PIN_LOCKED, CKF_SO_PIN_FINAL_TRY,
                             CKF_SO_PIN_COUNT_LOW);
}

/* Fills CK_TOKEN_INFO for a present, readable token (or the spare, uninitialised one). */
static void fill_token_info(const st_slot *s, CK_TOKEN_INFO *ti)
{
    memset(ti, 0, sizeof *ti);
    st_pad((char *)ti->manufacturerID, sizeof ti->manufacturerID, "gostsign");
    st_pad((char *)ti->model, sizeof ti->model, "softtoken GOST");
    st_pad((char *)ti->label, sizeof ti->label, "");
    st_pad((char *)ti->serialNumber, sizeof ti->serialNumber, "");
    st_pad((char *)ti->utcTime, sizeof ti->utcTime, "");
    ti->flags = CKF_RNG;
    if (s->kind == SLOT_FILE) {
        memcpy(ti->label, s->tok.label, sizeof ti->label);
        memcpy(ti->serialNumber, s->tok.serial, sizeof ti->serialNumber);
        ti->flags |= CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | pin_flags(s);
    }
    ti->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    ti->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    ti->ulSessionCount = ti->ulRwSessionCount = CK_UNAVAILABLE_INFORMATION;
    ti->ulMaxPinLen = ST_MAX_PIN;
    ti->ulMinPinLen = ST_MIN_PIN;
    ti->ulTotalPublicMemory = ti->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    ti->ulTotalPrivateMemory = ti->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    ti->hardwareVersion.minor = 1;
    ti->firmwareVersion.minor = 1;
}

/* C_GetTokenInfo: a damaged file gives CKR_TOKEN_NOT_RECOGNIZED. */
CK_RV st_token_info(CK_SLOT_ID id, CK_TOKEN_INFO *info)
{
    st_slots_rescan();
    st_slot *s = st_slot_get(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    if (!s->present)
        return CKR_TOKEN_NOT_PRESENT;
    CK_RV rv = st_slot_sync(s);
    if (rv == CKR_OK)
        fill_token_info(s, info);
    return rv;
}
