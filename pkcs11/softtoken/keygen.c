/*
 * GOST R 34.10-2012 key-pair generation (256 and 512 bit): both halves are built from their
 * templates, share parameters and CKA_ID, and are stored in one token file write.
 */
#include "softtoken.h"

#include <string.h>

#include <openssl/crypto.h>

#include "gost.h"

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
        rv = st_rv_from(&gst, "C_GenerateKeyPair");
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
static CK_RV keypair_build(st_slot *s, CK_MECHANISM_TYPE mech, st_object *o, const CK_ATTRIBUTE *pt,
                           CK_ULONG pn, const CK_ATTRIBUTE *kt, CK_ULONG kn)
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
/* The session checks before generating: token halves need R/W, every pair needs the user. */
static CK_RV keypair_allowed(const st_session *ss, const st_slot *s, const int *tok)
{
    if ((tok[0] || tok[1]) && !(ss->flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_ONLY;
    return s->login != CKU_USER ? CKR_USER_NOT_LOGGED_IN : CKR_OK;
}

/* C_GenerateKeyPair: GOST R 34.10-2012 256 or 512; both halves saved in one file write. */
CK_RV st_generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM *m, const CK_ATTRIBUTE *pt,
                           CK_ULONG pn, const CK_ATTRIBUTE *kt, CK_ULONG kn, CK_OBJECT_HANDLE *pub,
                           CK_OBJECT_HANDLE *priv)
{
    st_session *ss;
    st_slot *s;
    st_object o[2] = { { 0 }, { 0 } };
    int tok[2] = { 0, 0 }, is_priv[2] = { 0, 0 };
    CK_OBJECT_HANDLE out[2] = { 0, 0 };
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && (!m || !pub || !priv))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && m->mechanism != CKM_GOSTR3410_KEY_PAIR_GEN &&
        m->mechanism != CKM_GOSTR3410_512_KEY_PAIR_GEN)
        rv = CKR_MECHANISM_INVALID;
    if (rv == CKR_OK && m->ulParameterLen)
        rv = CKR_MECHANISM_PARAM_INVALID;
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(pt, pn, &tok[0], &is_priv[0], CKO_PUBLIC_KEY);
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(kt, kn, &tok[1], &is_priv[1], CKO_PRIVATE_KEY);
    if (rv == CKR_OK)
        rv = keypair_allowed(ss, s, tok);
    if (rv == CKR_OK)
        rv = keypair_build(s, m->mechanism, o, pt, pn, kt, kn);
    if (rv == CKR_OK)
        rv = st_obj_store(s, ss, o, tok, 2, out);
    if (rv == CKR_OK) {
        *pub = out[0];
        *priv = out[1];
    }
    st_obj_free(&o[0]);
    st_obj_free(&o[1]);
    return rv;
}
