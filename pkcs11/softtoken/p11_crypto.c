/*
 * PKCS#11 entry points, crypto chapter: sign, verify, digest and random. Each C_* checks its
 * arguments, st_enter(), one st_* call, st_leave().
 */
#include "softtoken.h"

/* C_SignInit: GOST private key + one of the four signing mechanisms. */
CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_op_init(hSession, pMechanism, hKey, OP_SIGN);
    st_leave();
    return rv;
}

/* C_Sign: single-part signature (size query with a NULL buffer keeps the operation). */
CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_sign(hSession, pData, ulDataLen, pSignature, pulSignatureLen);
    st_leave();
    return rv;
}

/* C_SignUpdate: multi-part input. */
CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_op_feed(hSession, OP_SIGN, pPart, ulPartLen);
    st_leave();
    return rv;
}

/* C_SignFinal: the signature of everything given to C_SignUpdate. */
CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_sign_final(hSession, pSignature, pulSignatureLen);
    st_leave();
    return rv;
}

/* C_VerifyInit: GOST public key + one of the four mechanisms. */
CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_op_init(hSession, pMechanism, hKey, OP_VERIFY);
    st_leave();
    return rv;
}

/* C_Verify: single-part verification. */
CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_verify(hSession, pData, ulDataLen, pSignature, ulSignatureLen);
    st_leave();
    return rv;
}

/* C_VerifyUpdate: multi-part input. */
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_op_feed(hSession, OP_VERIFY, pPart, ulPartLen);
    st_leave();
    return rv;
}

/* C_VerifyFinal: checks the signature of everything given to C_VerifyUpdate. */
CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_verify_final(hSession, pSignature, ulSignatureLen);
    st_leave();
    return rv;
}

/* C_DigestInit: Streebog-256 or -512. */
CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_digest_init(hSession, pMechanism);
    st_leave();
    return rv;
}

/* C_Digest: single-part digest. */
CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_digest(hSession, pData, ulDataLen, pDigest, pulDigestLen);
    st_leave();
    return rv;
}

/* C_DigestUpdate: multi-part input. */
CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_op_feed(hSession, OP_DIGEST, pPart, ulPartLen);
    st_leave();
    return rv;
}

/* C_DigestFinal: the digest of everything given to C_DigestUpdate. */
CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_digest_final(hSession, pDigest, pulDigestLen);
    st_leave();
    return rv;
}

/* C_GenerateRandom: OpenSSL's DRBG. */
CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_generate_random(hSession, pRandomData, ulRandomLen);
    st_leave();
    return rv;
}

/* The token's RNG is OpenSSL's DRBG; external seeding is refused (after the session check). */
CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = st_seed_random(hSession, pSeed, ulSeedLen);
    st_leave();
    return rv;
}
