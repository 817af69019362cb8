/*
 * Mechanisms: GOST R 34.10-2012 key-pair generation (256 and 512), raw signing over a digest
 * (CKM_GOSTR3410, CKM_GOSTR3410_512; signature s || r), sign-with-Streebog (single and
 * multi-part), verification, Streebog digests, and the RNG.
 */
#include "softtoken.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gost.h"

typedef struct {
    CK_MECHANISM_TYPE type;
    CK_ULONG bits; /* key size (0 for digests) */
    CK_FLAGS flags;
    int digest_bits; /* Streebog size hashed by the mechanism itself, 0 for raw */
} mech_desc;

static const mech_desc mechs[] = {
    { CKM_GOSTR3410_KEY_PAIR_GEN, 256, CKF_GENERATE_KEY_PAIR, 0 },
    { CKM_GOSTR3410_512_KEY_PAIR_GEN, 512, CKF_GENERATE_KEY_PAIR, 0 },
    { CKM_GOSTR3410, 256, CKF_SIGN | CKF_VERIFY, 0 },
    { CKM_GOSTR3410_512, 512, CKF_SIGN | CKF_VERIFY, 0 },
    { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, 256, CKF_SIGN | CKF_VERIFY, 256 },
    { CKM_GOSTR3410_WITH_GOSTR3411_2012_512, 512, CKF_SIGN | CKF_VERIFY, 512 },
    { CKM_GOSTR3411_2012_256, 0, CKF_DIGEST, 256 },
    { CKM_GOSTR3411_2012_512, 0, CKF_DIGEST, 512 },
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

/* Mechanism description, or NULL. */
static const mech_desc *mech_find(CK_MECHANISM_TYPE t)
{
    for (size_t i = 0; i < NMECHS; i++)
        if (mechs[i].type == t)
            return &mechs[i];
    return NULL;
}

/* Checks that a slot ID exists (mechanism queries need no token). */
static CK_RV slot_exists(CK_SLOT_ID id)
{
    st_slots_rescan();
    return st_slot_get(id) ? CKR_OK : CKR_SLOT_ID_INVALID;
}

/* C_GetMechanismList with the usual size query. */
CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pList, CK_ULONG_PTR pulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = slot_exists(slotID);
    if (rv == CKR_OK && !pulCount)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && pList && *pulCount < NMECHS)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (rv == CKR_OK && pList)
        for (size_t i = 0; i < NMECHS; i++)
            pList[i] = mechs[i].type;
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
        *pulCount = NMECHS;
    st_leave();
    return rv;
}

/* C_GetMechanismInfo: key sizes in bits and the operations each mechanism offers. */
CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = slot_exists(slotID);
    const mech_desc *m = mech_find(type);
    if (rv == CKR_OK && !pInfo)
        rv = CKR_ARGUMENTS_BAD;
    else if (rv == CKR_OK && !m)
        rv = CKR_MECHANISM_INVALID;
    else if (rv == CKR_OK) {
        pInfo->ulMinKeySize = pInfo->ulMaxKeySize = m->bits;
        pInfo->flags = m->flags;
    }
    st_leave();
    return rv;
}

/* Accepts no parameter, or (for sign-with-hash) the DER OID of the matching Streebog. */
static CK_RV check_mech_param(const CK_MECHANISM *m, const mech_desc *d)
{
    if (!m->ulParameterLen)
        return CKR_OK;
    uint8_t der[32];
    size_t len;
    gs_status gst;
    if (d->digest_bits == 0 || !m->pParameter ||
        gost_oid_to_der(d->digest_bits == 512 ? GOST_OID_DIGEST_512 : GOST_OID_DIGEST_256, der,
                        sizeof der, &len, &gst) != GS_ERR_OK ||
        len != m->ulParameterLen || memcmp(der, m->pParameter, len) != 0)
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

/* Decrypts a private key object into an EVP_PKEY (needs the user's login). */
EVP_PKEY *st_private_key(st_slot *s, st_object *o, CK_RV *rv)
{
    const gost_paramset *ps;
    st_attr *sealed = st_obj_attr(o, ST_CKA_SEALED_VALUE);
    uint8_t raw[64];
    *rv = st_key_paramset(o, &ps);
    if (*rv != CKR_OK)
        return NULL;
    if (s->login != CKU_USER) {
        *rv = CKR_USER_NOT_LOGGED_IN;
        return NULL;
    }
    size_t n = sealed ? sealed->len - ST_NONCE_LEN - ST_TAG_LEN : 0;
    if (!sealed || sealed->len < ST_NONCE_LEN + ST_TAG_LEN || n != (size_t)ps->key_bits / 8 ||
        st_unseal(s->master, (const uint8_t *)"gostsign-privkey", 16, sealed->val, sealed->len,
                  raw) != CKR_OK) {
        *rv = CKR_DEVICE_ERROR;
        return NULL;
    }
    gs_status gst;
    EVP_PKEY *k = gost_privkey_from_raw(ps, raw, n, &gst);
    OPENSSL_cleanse(raw, sizeof raw);
    *rv = k ? CKR_OK : CKR_DEVICE_ERROR;
    return k;
}

/* Public key object into an EVP_PKEY. */
static EVP_PKEY *public_key(st_object *o, CK_RV *rv)
{
    const gost_paramset *ps;
    st_attr *v = st_obj_attr(o, CKA_VALUE);
    *rv = st_key_paramset(o, &ps);
    if (*rv != CKR_OK)
        return NULL;
    gs_status gst;
    EVP_PKEY *k = v ? gost_pubkey_from_raw(ps, v->val, v->len, &gst) : NULL;
    *rv = k ? CKR_OK : CKR_KEY_HANDLE_INVALID;
    return k;
}

/*
 * The object's EVP_PKEY, rebuilt once and kept on the object: rebuilding (unseal, curve set-up,
 * public point) cost ten times the signature itself. The caller owns the returned reference.
 */
static EVP_PKEY *cached_key(st_slot *s, st_object *o, int private_key, CK_RV *rv)
{
    if (private_key && s->login != CKU_USER) {
        *rv = CKR_USER_NOT_LOGGED_IN;
        return NULL;
    }
    if (!o->key_cache)
        o->key_cache = private_key ? st_private_key(s, o, rv) : public_key(o, rv);
    if (!o->key_cache || !EVP_PKEY_up_ref(o->key_cache))
        return NULL;
    *rv = CKR_OK;
    return o->key_cache;
}

/* Checks that a key object fits a sign/verify mechanism and allows the operation. */
static CK_RV key_fits(st_object *o, const mech_desc *d, CK_OBJECT_CLASS want,
                      CK_ATTRIBUTE_TYPE usage)
{
    if (st_obj_ulong(o, CKA_CLASS, 0) != want)
        return CKR_KEY_TYPE_INCONSISTENT;
    CK_KEY_TYPE kt = st_obj_ulong(o, CKA_KEY_TYPE, 0);
    if (kt != (d->bits == 512 ? CKK_GOSTR3410_512 : CKK_GOSTR3410))
        return CKR_KEY_TYPE_INCONSISTENT;
    if (!st_obj_bool(o, usage, 0))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    return CKR_OK;
}

/* Starts a Streebog context in op when the mechanism hashes by itself. */
static CK_RV start_digest(st_op *op, int bits)
{
    if (!bits)
        return CKR_OK;
    op->md = EVP_MD_CTX_new();
    if (!op->md || EVP_DigestInit_ex(op->md, gost_digest_md(bits), NULL) != 1)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

/* Shared C_SignInit / C_VerifyInit. */
static CK_RV crypto_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key,
                         st_op_kind kind)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv != CKR_OK)
        return rv;
    if (!m)
        return CKR_ARGUMENTS_BAD;
    if (ss->crypto.kind != OP_NONE)
        return CKR_OPERATION_ACTIVE;
    const mech_desc *d = mech_find(m->mechanism);
    if (!d || !(d->flags & CKF_SIGN))
        return CKR_MECHANISM_INVALID;
    if ((rv = check_mech_param(m, d)) != CKR_OK)
        return rv;
    st_object *o = st_obj_find(s, key);
    if (!o)
        return CKR_KEY_HANDLE_INVALID;
    if (!st_obj_visible(s, o))
        return CKR_USER_NOT_LOGGED_IN;
    int sign = kind == OP_SIGN;
    rv = key_fits(o, d, sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, sign ? CKA_SIGN : CKA_VERIFY);
    if (rv != CKR_OK)
        return rv;
    st_op *op = &ss->crypto;
    op->key = cached_key(s, o, sign, &rv);
    if (rv == CKR_OK)
        rv = start_digest(op, d->digest_bits);
    if (rv != CKR_OK) {
        st_op_clear(op);
        return rv;
    }
    op->kind = kind;
    op->mech = m->mechanism;
    op->bits = (int)d->bits;
    return CKR_OK;
}

/* Feeds data to a sign/verify/digest operation (hash context or the raw-digest buffer). */
static CK_RV op_update(st_op *op, const uint8_t *data, CK_ULONG len)
{
    if (len && !data)
        return CKR_ARGUMENTS_BAD;
    op->multipart = 1;
    if (op->md)
        return EVP_DigestUpdate(op->md, data, len) == 1 ? CKR_OK : CKR_DEVICE_ERROR;
    if (len > sizeof op->buf - op->buflen)
        return CKR_DATA_LEN_RANGE;
    memcpy(op->buf + op->buflen, data, len);
    op->buflen += len;
    return CKR_OK;
}

/* The digest to sign or verify: the hash result, or the raw input of the right length. */
static CK_RV op_digest(st_op *op, uint8_t *out, size_t *len)
{
    if (op->md) {
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(op->md, out, &n) != 1)
            return CKR_DEVICE_ERROR;
        *len = n;
        return CKR_OK;
    }
    if (op->buflen != (size_t)op->bits / 8)
        return CKR_DATA_LEN_RANGE;
    memcpy(out, op->buf, op->buflen);
    *len = op->buflen;
    return CKR_OK;
}

/* Checks the session and that its crypto operation is of the given kind. */
static CK_RV op_get(CK_SESSION_HANDLE h, st_op_kind kind, st_op **op)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv != CKR_OK)
        return rv;
    if (ss->crypto.kind != kind)
        return CKR_OPERATION_NOT_INITIALIZED;
    *op = &ss->crypto;
    return CKR_OK;
}

/* Size query / buffer check for outputs; returns CKR_OK only when out should be written. */
static CK_RV output_ready(uint8_t *out, CK_ULONG_PTR out_len, CK_ULONG need, int *done)
{
    *done = 1;
    if (!out_len)
        return CKR_ARGUMENTS_BAD;
    CK_ULONG have = *out_len;
    *out_len = need;
    if (!out)
        return CKR_OK;
    if (have < need)
        return CKR_BUFFER_TOO_SMALL;
    *done = 0;
    return CKR_OK;
}

/* Finishes a signature into out (s || r); the operation ends except for size queries. */
static CK_RV sign_finish(st_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    int query;
    CK_RV rv = output_ready(out, out_len, (CK_ULONG)op->bits / 4, &query);
    if (query && (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL))
        return rv;
    uint8_t dg[GOST_MAX_DIGEST];
    size_t dlen = 0, slen = GOST_MAX_SIGNATURE;
    gs_status gst;
    if (rv == CKR_OK)
        rv = op_digest(op, dg, &dlen);
    if (rv == CKR_OK && gost_sign_digest(op->key, dg, dlen, out, &slen, &gst) != GS_ERR_OK)
        rv = CKR_FUNCTION_FAILED;
    if (rv == CKR_OK)
        *out_len = slen;
    st_op_clear(op);
    return rv;
}

/* Checks a signature; the operation always ends. */
static CK_RV verify_finish(st_op *op, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
    uint8_t dg[GOST_MAX_DIGEST];
    size_t dlen = 0;
    gs_status gst;
    CK_RV rv = !sig                                ? CKR_ARGUMENTS_BAD
               : sig_len != (CK_ULONG)op->bits / 4 ? CKR_SIGNATURE_LEN_RANGE
                                                   : op_digest(op, dg, &dlen);
    if (rv == CKR_OK && gost_verify_digest(op->key, dg, dlen, sig, sig_len, &gst) != GS_ERR_OK)
        rv = CKR_SIGNATURE_INVALID;
    st_op_clear(op);
    return rv;
}

/* C_SignInit: GOST private key + one of the four signing mechanisms. */
CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = crypto_init(hSession, pMechanism, hKey, OP_SIGN);
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
    st_op *op;
    rv = op_get(hSession, OP_SIGN, &op);
    if (rv == CKR_OK && op->multipart)
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK && pSignature && pulSignatureLen &&
        *pulSignatureLen >= (CK_ULONG)op->bits / 4) {
        rv = op_update(op, pData, ulDataLen);
        if (rv != CKR_OK)
            st_op_clear(op);
    }
    if (rv == CKR_OK)
        rv = sign_finish(op, pSignature, pulSignatureLen);
    st_leave();
    return rv;
}

/* The shared body of C_SignUpdate, C_VerifyUpdate and C_DigestUpdate: feed the active
 * operation of that kind; a failure ends the operation, as PKCS#11 requires. */
static CK_RV update_active_op(CK_SESSION_HANDLE hSession, st_op_kind kind, CK_BYTE_PTR pPart,
                              CK_ULONG ulPartLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_op *op;
    rv = op_get(hSession, kind, &op);
    if (rv == CKR_OK && (rv = op_update(op, pPart, ulPartLen)) != CKR_OK)
        st_op_clear(op);
    st_leave();
    return rv;
}

/* C_SignUpdate: multi-part input. */
CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return update_active_op(hSession, OP_SIGN, pPart, ulPartLen);
}

/* C_SignFinal: the signature of everything given to C_SignUpdate. */
CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_op *op;
    rv = op_get(hSession, OP_SIGN, &op);
    if (rv == CKR_OK)
        rv = sign_finish(op, pSignature, pulSignatureLen);
    st_leave();
    return rv;
}

/* C_VerifyInit: GOST public key + one of the four mechanisms. */
CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    rv = crypto_init(hSession, pMechanism, hKey, OP_VERIFY);
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
    st_op *op;
    rv = op_get(hSession, OP_VERIFY, &op);
    if (rv == CKR_OK && op->multipart)
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK && (rv = op_update(op, pData, ulDataLen)) != CKR_OK)
        st_op_clear(op);
    if (rv == CKR_OK)
        rv = verify_finish(op, pSignature, ulSignatureLen);
    st_leave();
    return rv;
}

/* C_VerifyUpdate: multi-part input. */
CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return update_active_op(hSession, OP_VERIFY, pPart, ulPartLen);
}

/* C_VerifyFinal: checks the signature of everything given to C_VerifyUpdate. */
CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_op *op;
    rv = op_get(hSession, OP_VERIFY, &op);
    if (rv == CKR_OK)
        rv = verify_finish(op, pSignature, ulSignatureLen);
    st_leave();
    return rv;
}

/* C_DigestInit: Streebog-256 or -512. */
CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    const mech_desc *d = rv == CKR_OK && pMechanism ? mech_find(pMechanism->mechanism) : NULL;
    if (rv == CKR_OK && !pMechanism)
        rv = CKR_ARGUMENTS_BAD;
    else if (rv == CKR_OK && ss->crypto.kind != OP_NONE)
        rv = CKR_OPERATION_ACTIVE;
    else if (rv == CKR_OK && (!d || !(d->flags & CKF_DIGEST)))
        rv = CKR_MECHANISM_INVALID;
    else if (rv == CKR_OK && pMechanism->ulParameterLen)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if (rv == CKR_OK) {
        rv = start_digest(&ss->crypto, d->digest_bits);
        ss->crypto.kind = OP_DIGEST;
        ss->crypto.mech = d->type;
        ss->crypto.bits = d->digest_bits;
        if (rv != CKR_OK)
            st_op_clear(&ss->crypto);
    }
    st_leave();
    return rv;
}

/* Finishes a digest into out; size queries keep the operation. */
static CK_RV digest_finish(st_op *op, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    int query;
    CK_RV rv = output_ready(out, out_len, (CK_ULONG)op->bits / 8, &query);
    if (query && (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL))
        return rv;
    size_t n = 0;
    if (rv == CKR_OK)
        rv = op_digest(op, out, &n);
    st_op_clear(op);
    return rv;
}

/* C_Digest: single-part digest. */
CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_op *op;
    rv = op_get(hSession, OP_DIGEST, &op);
    if (rv == CKR_OK && op->multipart)
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK && pDigest && pulDigestLen && *pulDigestLen >= (CK_ULONG)op->bits / 8) {
        rv = op_update(op, pData, ulDataLen);
        if (rv != CKR_OK)
            st_op_clear(op);
    }
    if (rv == CKR_OK)
        rv = digest_finish(op, pDigest, pulDigestLen);
    st_leave();
    return rv;
}

/* C_DigestUpdate: multi-part input. */
CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return update_active_op(hSession, OP_DIGEST, pPart, ulPartLen);
}

/* C_DigestFinal: the digest of everything given to C_DigestUpdate. */
CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_op *op;
    rv = op_get(hSession, OP_DIGEST, &op);
    if (rv == CKR_OK)
        rv = digest_finish(op, pDigest, pulDigestLen);
    st_leave();
    return rv;
}

/* Copies an attribute between the two key templates so both halves carry it. */
static CK_RV share_attr(st_object *a, st_object *b, CK_ATTRIBUTE_TYPE t)
{
    st_attr *x = st_obj_attr(a, t), *y = st_obj_attr(b, t);
    if (x && y)
        return x->len == y->len && !memcmp(x->val, y->val, x->len) ? CKR_OK
                                                                   : CKR_TEMPLATE_INCONSISTENT;
    if (x)
        return st_obj_set(b, t, x->val, x->len);
    if (y)
        return st_obj_set(a, t, y->val, y->len);
    return CKR_OK;
}

/* Starts one half of a key pair: class, key type, then the caller's template. */
static CK_RV keypair_half(st_object *o, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const CK_ATTRIBUTE *t,
                          CK_ULONG n)
{
    CK_RV rv = st_obj_set(o, CKA_CLASS, &cls, sizeof cls);
    if (rv == CKR_OK)
        rv = st_obj_set(o, CKA_KEY_TYPE, &kt, sizeof kt);
    if (rv == CKR_OK)
        rv = st_template_apply(o, t, n, 1);
    if (rv == CKR_OK && st_obj_attr(o, CKA_VALUE))
        rv = CKR_TEMPLATE_INCONSISTENT;
    return rv;
}

/* Generates the key and fills CKA_VALUE (public), the sealed value (private) and a CKA_ID. */
static CK_RV keypair_fill(st_slot *s, st_object *pub, st_object *priv, CK_MECHANISM_TYPE mech)
{
    const gost_paramset *ps;
    CK_RV rv = st_key_paramset(pub, &ps);
    if (rv != CKR_OK)
        return rv;
    gs_status gst;
    EVP_PKEY *k = gost_key_generate(ps, &gst);
    uint8_t pubraw[GOST_MAX_PUBKEY], privraw[64], id[32];
    size_t plen = sizeof pubraw, dlen = sizeof privraw;
    if (!k || gost_pubkey_to_raw(k, pubraw, &plen, &gst) != GS_ERR_OK ||
        gost_privkey_to_raw(k, privraw, &dlen, &gst) != GS_ERR_OK ||
        gost_digest_buffer(256, pubraw, plen, id, &gst) != GS_ERR_OK)
        rv = CKR_FUNCTION_FAILED;
    EVP_PKEY_free(k);
    if (rv == CKR_OK)
        rv = st_obj_set(pub, CKA_VALUE, pubraw, plen);
    if (rv == CKR_OK)
        rv = st_obj_seal_private(s, priv, privraw, dlen);
    OPENSSL_cleanse(privraw, sizeof privraw);
    /* An absent or empty CKA_ID becomes the first 20 bytes of Streebog-256(public value). */
    st_attr *ia = st_obj_attr(pub, CKA_ID);
    if (rv == CKR_OK && (!ia || ia->len == 0)) {
        rv = st_obj_set(pub, CKA_ID, id, 20);
        if (rv == CKR_OK)
            rv = st_obj_set(priv, CKA_ID, id, 20);
    }
    if (rv == CKR_OK)
        rv = st_obj_pub_defaults(pub, 1, mech);
    if (rv == CKR_OK)
        rv = st_obj_priv_defaults(priv, 1, mech);
    return rv;
}

/* Builds both halves of a key pair from the templates. */
static CK_RV keypair_build(st_slot *s, CK_MECHANISM_TYPE mech, st_object *o, CK_ATTRIBUTE_PTR pt,
                           CK_ULONG pn, CK_ATTRIBUTE_PTR kt, CK_ULONG kn)
{
    CK_KEY_TYPE type = mech == CKM_GOSTR3410_512_KEY_PAIR_GEN ? CKK_GOSTR3410_512 : CKK_GOSTR3410;
    CK_RV rv = keypair_half(&o[0], CKO_PUBLIC_KEY, type, pt, pn);
    if (rv == CKR_OK)
        rv = keypair_half(&o[1], CKO_PRIVATE_KEY, type, kt, kn);
    static const CK_ATTRIBUTE_TYPE shared[] = { CKA_GOSTR3410_PARAMS, CKA_GOSTR3411_PARAMS,
                                                CKA_ID };
    for (size_t i = 0; rv == CKR_OK && i < sizeof shared / sizeof shared[0]; i++)
        rv = share_attr(&o[0], &o[1], shared[i]);
    if (rv == CKR_OK)
        rv = st_obj_check_key(&o[0], type, CKO_PUBLIC_KEY);
    if (rv == CKR_OK)
        rv = st_obj_check_key(&o[1], type, CKO_PRIVATE_KEY);
    if (rv == CKR_OK)
        rv = keypair_fill(s, &o[0], &o[1], mech);
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
    st_session *ss;
    st_slot *s;
    st_object o[2] = { { 0 }, { 0 } };
    int tok[2] = { 0, 0 }, priv[2] = { 0, 0 };
    CK_OBJECT_HANDLE h[2] = { 0, 0 };
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && (!pMechanism || !phPublicKey || !phPrivateKey))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && pMechanism->mechanism != CKM_GOSTR3410_KEY_PAIR_GEN &&
        pMechanism->mechanism != CKM_GOSTR3410_512_KEY_PAIR_GEN)
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK && pMechanism->ulParameterLen)
        rv = CKR_MECHANISM_PARAM_INVALID;
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(pPublicKeyTemplate, ulPublicKeyAttributeCount, &tok[0],
                                         &priv[0], CKO_PUBLIC_KEY);
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(pPrivateKeyTemplate, ulPrivateKeyAttributeCount, &tok[1],
                                         &priv[1], CKO_PRIVATE_KEY);
    if (rv == CKR_OK && (tok[0] || tok[1]) && !(ss->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    if (rv == CKR_OK && s->login != CKU_USER)
        rv = CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK)
        rv = keypair_build(s, pMechanism->mechanism, o, pPublicKeyTemplate,
                           ulPublicKeyAttributeCount, pPrivateKeyTemplate,
                           ulPrivateKeyAttributeCount);
    if (rv == CKR_OK)
        rv = st_obj_store(s, ss, o, tok, 2, h);
    if (rv == CKR_OK) {
        *phPublicKey = h[0];
        *phPrivateKey = h[1];
    }
    st_obj_free(&o[0]);
    st_obj_free(&o[1]);
    st_leave();
    return rv;
}

/* C_GenerateRandom: OpenSSL's DRBG. */
CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData, CK_ULONG ulRandomLen)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && ulRandomLen && !pRandomData)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && ulRandomLen && RAND_bytes(pRandomData, (int)ulRandomLen) != 1)
        rv = CKR_FUNCTION_FAILED;
    st_leave();
    return rv;
}
