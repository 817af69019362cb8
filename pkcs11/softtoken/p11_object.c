/*
 * PKCS#11 entry points, object chapter: create, destroy, attributes, find, and key-pair
 * generation. Each C_* checks its arguments, st_enter(), one st_* call, st_leave().
 */
#include "softtoken.h"

/* C_CreateObject: certificates, data objects and GOST public/private keys. */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_object_create(hSession, pTemplate, ulCount, phObject);
    st_leave();
    return rv;
}

/* C_DestroyObject: token objects are removed from the file. */
CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_object_destroy(hSession, hObject);
    st_leave();
    return rv;
}

/* C_GetAttributeValue: every attribute is processed; the last error is returned. */
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_attributes_get(hSession, hObject, pTemplate, ulCount);
    st_leave();
    return rv;
}

/* C_SetAttributeValue: the modifiable attributes (label, id, subject, dates, application). */
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_attributes_set(hSession, hObject, pTemplate, ulCount);
    st_leave();
    return rv;
}

/* C_FindObjectsInit: snapshot of the matching visible handles. */
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_find_init(hSession, pTemplate, ulCount);
    st_leave();
    return rv;
}

/* C_FindObjects: hands out the next handles of the snapshot. */
CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_find_next(hSession, phObject, ulMaxObjectCount, pulObjectCount);
    st_leave();
    return rv;
}

/* C_FindObjectsFinal: ends the search. */
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_find_final(hSession);
    st_leave();
    return rv;
}

/* C_GenerateKeyPair: GOST R 34.10-2012 256 or 512; both halves saved in one file write. */
CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_generate_key_pair(hSession, pMechanism, pPublicKeyTemplate, ulPublicKeyAttributeCount,
                              pPrivateKeyTemplate, ulPrivateKeyAttributeCount, phPublicKey,
                              phPrivateKey);
    st_leave();
    return rv;
}
