/*
 * Mechanisms: the mechanism table, raw GOST R 34.10-2012 signing over a digest (CKM_GOSTR3410,
 * CKM_GOSTR3410_512; signature s || r), sign-with-Streebog (single and multi-part),
 * verification, Streebog digests, and the RNG. Key-pair generation is in keygen.c.
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
/* C_GetMechanismList with the usual size query. */
CK_RV st_mechanism_list(CK_SLOT_ID id, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    CK_RV rv = slot_exists(id);
    if (rv != CKR_OK)
        return rv;
    if (!count)
        return CKR_ARGUMENTS_BAD;
    if (list && *count < NMECHS)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (list)
        for (size_t i = 0; i < NMECHS; i++)
            list[i] = mechs[i].type;
    *count = NMECHS;
    return rv;
}

/* C_GetMechanismInfo: key sizes in bits and the operations each mechanism offers. */
CK_RV st_mechanism_info(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    CK_RV rv = slot_exists(id);
    const mech_desc *m = mech_find(type);
    if (rv != CKR_OK)
        return rv;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    if (!m)
        return CKR_MECHANISM_INVALID;
    info->ulMinKeySize = info->ulMaxKeySize = m->bits;
    info->flags = m->flags;
    return CKR_OK;
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
static EVP_PKEY *unsealed_private_key(st_slot *s, st_object *o, CK_RV *rv)
{
    const gost_paramset *ps;
    uint8_t raw[64];
    *rv = st_key_paramset(o, &ps);
    if (*rv != CKR_OK)
        return NULL;
    if (s->login != CKU_USER) {
        *rv = CKR_USER_NOT_LOGGED_IN;
        return NULL;
    }
    size_t n = (size_t)ps->key_bits / 8;
    if ((*rv = st_obj_unseal_private(s, o, raw, n)) != CKR_OK)
        return NULL;
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

/* Unseals a private key object's scalar into its kept key pair (group and public point). */
static CK_RV unseal_scalar_into(st_slot *s, st_object *o, EVP_PKEY *k)
{
    const gost_paramset *ps;
    uint8_t raw[64];
    CK_RV rv = st_key_paramset(o, &ps);
    size_t n = rv == CKR_OK ? (size_t)ps->key_bits / 8 : 0;
    if (rv == CKR_OK)
        rv = st_obj_unseal_private(s, o, raw, n);
    gs_status gst;
    if (rv == CKR_OK && gost_privkey_set_raw(k, raw, n, &gst) != GS_ERR_OK)
        rv = CKR_DEVICE_ERROR;
    OPENSSL_cleanse(raw, sizeof raw);
    return rv;
}

/*
 * The object's EVP_PKEY, rebuilt once and kept on the object: rebuilding (unseal, curve set-up,
 * public point) cost ten times the signature itself. A private key's pair outlives the login
 * without its scalar (st_logout_slot wipes it): the next login unseals only the scalar.
 * The caller owns the returned reference.
 */
static EVP_PKEY *cached_key(st_slot *s, st_object *o, int private_key, CK_RV *rv)
{
    if (private_key && s->login != CKU_USER) {
        *rv = CKR_USER_NOT_LOGGED_IN;
        return NULL;
    }
    if (!o->key_cache)
        o->key_cache = private_key ? unsealed_private_key(s, o, rv) : public_key(o, rv);
    else if (private_key && !gost_privkey_present(o->key_cache) &&
             (*rv = unseal_scalar_into(s, o, o->key_cache)) != CKR_OK)
        return NULL;
    if (!o->key_cache || !EVP_PKEY_up_ref(o->key_cache))
        return NULL;
    *rv = CKR_OK;
    return o->key_cache;
}

/*
 * C_Login: the PIN check (pin.c), then, for the user, the scalars of the private keys whose pairs
 * outlived the last login are unsealed into them, so the first C_SignInit of this login does no
 * unseal. Keys not yet rebuilt in this process stay lazy (their first C_SignInit builds them).
 * An unseal failure here is left for C_SignInit to report.
 */
CK_RV st_login_with_keys(CK_SESSION_HANDLE h, CK_USER_TYPE who, const CK_UTF8CHAR *pin,
                         CK_ULONG len)
{
    CK_RV rv = st_login(h, who, pin, len);
    st_session *ss;
    st_slot *s;
    if (rv != CKR_OK || who != CKU_USER || st_session_check(h, &ss, &s) != CKR_OK)
        return rv;
    for (size_t i = 0; i < s->tok.nobj; i++) {
        st_object *o = &s->tok.objs[i];
        if (o->key_cache && st_obj_ulong(o, CKA_CLASS, 0) == CKO_PRIVATE_KEY &&
            !gost_privkey_present(o->key_cache) && unseal_scalar_into(s, o, o->key_cache) != CKR_OK)
            st_log("a private key's value could not be unsealed at login");
    }
    return rv;
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

/* C_SignInit (OP_SIGN, a private key) and C_VerifyInit (OP_VERIFY, a public key). */
CK_RV st_op_init(CK_SESSION_HANDLE h, const CK_MECHANISM *m, CK_OBJECT_HANDLE key, st_op_kind kind)
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
        rv = st_rv_from(&gst, "C_Sign");
    if (rv == CKR_OK)
        *out_len = slen;
    st_op_clear(op);
    return rv;
}

/* Checks a signature; the operation always ends. */
static CK_RV verify_finish(st_op *op, const CK_BYTE *sig, CK_ULONG sig_len)
{
    uint8_t dg[GOST_MAX_DIGEST];
    size_t dlen = 0;
    gs_status gst;
    CK_RV rv = !sig                                ? CKR_ARGUMENTS_BAD
               : sig_len != (CK_ULONG)op->bits / 4 ? CKR_SIGNATURE_LEN_RANGE
                                                   : op_digest(op, dg, &dlen);
    if (rv == CKR_OK && gost_verify_digest(op->key, dg, dlen, sig, sig_len, &gst) != GS_ERR_OK)
        rv = st_rv_from(&gst, "C_Verify");
    st_op_clear(op);
    return rv;
}

/*
 * C_Sign, C_Verify or C_Digest after an Update: refused, and the operation ends, because a
 * call to them ends the operation unless it is a length query or gets CKR_BUFFER_TOO_SMALL.
 */
static CK_RV refuse_single_part(st_op *op)
{
    st_op_clear(op);
    return CKR_OPERATION_ACTIVE;
}

/* C_Sign: single-part signature (size query with a NULL buffer keeps the operation). */
CK_RV st_sign(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, CK_BYTE *sig,
              CK_ULONG *sig_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_SIGN, &op);
    if (rv == CKR_OK && op->multipart)
        return refuse_single_part(op);
    if (rv == CKR_OK && sig && sig_len && *sig_len >= (CK_ULONG)op->bits / 4) {
        rv = op_update(op, data, len);
        if (rv != CKR_OK)
            st_op_clear(op);
    }
    return rv == CKR_OK ? sign_finish(op, sig, sig_len) : rv;
}

/* C_SignUpdate, C_VerifyUpdate and C_DigestUpdate: feed the active operation of that kind; a
 * failure ends the operation, as PKCS#11 requires. */
CK_RV st_op_feed(CK_SESSION_HANDLE h, st_op_kind kind, const CK_BYTE *part, CK_ULONG len)
{
    st_op *op;
    CK_RV rv = op_get(h, kind, &op);
    if (rv == CKR_OK && (rv = op_update(op, part, len)) != CKR_OK)
        st_op_clear(op);
    return rv;
}

/* C_SignFinal: the signature of everything given to C_SignUpdate. */
CK_RV st_sign_final(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *sig_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_SIGN, &op);
    return rv == CKR_OK ? sign_finish(op, sig, sig_len) : rv;
}

/* C_Verify: single-part verification. */
CK_RV st_verify(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, const CK_BYTE *sig,
                CK_ULONG sig_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_VERIFY, &op);
    if (rv == CKR_OK && op->multipart)
        return refuse_single_part(op);
    if (rv == CKR_OK && (rv = op_update(op, data, len)) != CKR_OK)
        st_op_clear(op);
    return rv == CKR_OK ? verify_finish(op, sig, sig_len) : rv;
}

/* C_VerifyFinal: checks the signature of everything given to C_VerifyUpdate. */
CK_RV st_verify_final(CK_SESSION_HANDLE h, const CK_BYTE *sig, CK_ULONG sig_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_VERIFY, &op);
    return rv == CKR_OK ? verify_finish(op, sig, sig_len) : rv;
}

/* C_DigestInit: Streebog-256 or -512. */
CK_RV st_digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM *m)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv != CKR_OK)
        return rv;
    const mech_desc *d = m ? mech_find(m->mechanism) : NULL;
    if (!m)
        return CKR_ARGUMENTS_BAD;
    if (ss->crypto.kind != OP_NONE)
        return CKR_OPERATION_ACTIVE;
    if (!d || !(d->flags & CKF_DIGEST))
        return CKR_MECHANISM_INVALID;
    if (m->ulParameterLen)
        return CKR_MECHANISM_PARAM_INVALID;
    rv = start_digest(&ss->crypto, d->digest_bits);
    ss->crypto.kind = OP_DIGEST;
    ss->crypto.mech = d->type;
    ss->crypto.bits = d->digest_bits;
    if (rv != CKR_OK)
        st_op_clear(&ss->crypto);
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
CK_RV st_digest(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, CK_BYTE *out,
                CK_ULONG *out_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_DIGEST, &op);
    if (rv == CKR_OK && op->multipart)
        return refuse_single_part(op);
    if (rv == CKR_OK && out && out_len && *out_len >= (CK_ULONG)op->bits / 8) {
        rv = op_update(op, data, len);
        if (rv != CKR_OK)
            st_op_clear(op);
    }
    return rv == CKR_OK ? digest_finish(op, out, out_len) : rv;
}

/* C_DigestFinal: the digest of everything given to C_DigestUpdate. */
CK_RV st_digest_final(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len)
{
    st_op *op;
    CK_RV rv = op_get(h, OP_DIGEST, &op);
    return rv == CKR_OK ? digest_finish(op, out, out_len) : rv;
}

/* C_GenerateRandom: OpenSSL's DRBG. */
CK_RV st_generate_random(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG len)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && len && !out)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && len && RAND_bytes(out, (int)len) != 1)
        rv = CKR_FUNCTION_FAILED;
    return rv;
}

/* C_SeedRandom: session errors first, then CKR_RANDOM_SEED_NOT_SUPPORTED (the DRBG seeds itself).
 */
CK_RV st_seed_random(CK_SESSION_HANDLE h, const CK_BYTE *seed, CK_ULONG len)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && len && !seed)
        rv = CKR_ARGUMENTS_BAD;
    return rv == CKR_OK ? CKR_RANDOM_SEED_NOT_SUPPORTED : rv;
}
