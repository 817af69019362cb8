/*
 * Objects: attribute storage, the attribute policy per class, templates, and the object
 * management calls (create, destroy, find, get/set attributes).
 *
 * Token objects live in the token file and their handle is their persistent id there; session
 * objects live in the slot's memory with handles that have ST_SESSION_OBJ_BIT set. A private
 * key's CKA_VALUE is never kept: only ST_CKA_SEALED_VALUE (AES-GCM under the master key).
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gost.h"

/* ---- attribute storage ---- */

/* Attribute of an object, or NULL. */
st_attr *st_obj_attr(const st_object *o, CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < o->nattr; i++)
        if (o->attrs[i].type == t)
            return &o->attrs[i];
    return NULL;
}

/* Boolean attribute value, or dflt when absent or malformed. */
int st_obj_bool(const st_object *o, CK_ATTRIBUTE_TYPE t, int dflt)
{
    st_attr *a = st_obj_attr(o, t);
    return a && a->len == sizeof(CK_BBOOL) ? *a->val != CK_FALSE : dflt;
}

/* CK_ULONG attribute value, or dflt. */
CK_ULONG st_obj_ulong(const st_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG dflt)
{
    st_attr *a = st_obj_attr(o, t);
    CK_ULONG v = dflt;
    if (a && a->len == sizeof v)
        memcpy(&v, a->val, sizeof v);
    return v;
}

/* Sets (adds or replaces) an attribute with a copy of the value. */
CK_RV st_obj_set(st_object *o, CK_ATTRIBUTE_TYPE t, const void *v, CK_ULONG len)
{
    uint8_t *copy = OPENSSL_malloc(len ? len : 1);
    if (!copy)
        return CKR_HOST_MEMORY;
    if (len)
        memcpy(copy, v, len);
    st_attr *a = st_obj_attr(o, t);
    if (!a) {
        st_attr *na = realloc(o->attrs, (o->nattr + 1) * sizeof *na);
        if (!na) {
            OPENSSL_free(copy);
            return CKR_HOST_MEMORY;
        }
        o->attrs = na;
        a = &o->attrs[o->nattr++];
        a->type = t;
    } else {
        OPENSSL_clear_free(a->val, a->len ? a->len : 1);
    }
    a->val = copy;
    a->len = len;
    return CKR_OK;
}

/* Removes an attribute (wiping it). */
static void obj_unset(st_object *o, CK_ATTRIBUTE_TYPE t)
{
    st_attr *a = st_obj_attr(o, t);
    if (!a)
        return;
    OPENSSL_clear_free(a->val, a->len ? a->len : 1);
    *a = o->attrs[--o->nattr];
}

/* Frees an object's attributes (wiping them). */
void st_obj_free(st_object *o)
{
    for (size_t i = 0; i < o->nattr; i++)
        OPENSSL_clear_free(o->attrs[i].val, o->attrs[i].len ? o->attrs[i].len : 1);
    free(o->attrs);
    EVP_PKEY_free(o->key_cache);
    memset(o, 0, sizeof *o);
}

/* Sets a CK_BBOOL attribute unless already present. */
static CK_RV default_bool(st_object *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL v)
{
    return st_obj_attr(o, t) ? CKR_OK : st_obj_set(o, t, &v, sizeof v);
}

/* Sets a CK_ULONG attribute unless already present. */
static CK_RV default_ulong(st_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
    return st_obj_attr(o, t) ? CKR_OK : st_obj_set(o, t, &v, sizeof v);
}

/* Sets an empty byte-string attribute unless already present. */
static CK_RV default_empty(st_object *o, CK_ATTRIBUTE_TYPE t)
{
    return st_obj_attr(o, t) ? CKR_OK : st_obj_set(o, t, "", 0);
}

/* ---- attribute policy ---- */

enum { A_BOOL = 1, A_ULONG = 2, A_RO = 4, A_MOD = 8 };
enum { C_DATA = 1, C_CERT = 2, C_PUB = 4, C_PRIV = 8, C_KEY = C_PUB | C_PRIV, C_ALL = 15 };

typedef struct {
    CK_ATTRIBUTE_TYPE type;
    int classes;
    int flags;
} attr_rule;

static const attr_rule rules[] = {
    { CKA_CLASS, C_ALL, A_ULONG },
    { CKA_TOKEN, C_ALL, A_BOOL },
    { CKA_PRIVATE, C_ALL, A_BOOL },
    { CKA_MODIFIABLE, C_ALL, A_BOOL },
    { CKA_COPYABLE, C_ALL, A_BOOL },
    { CKA_DESTROYABLE, C_ALL, A_BOOL },
    { CKA_LABEL, C_ALL, A_MOD },
    { CKA_APPLICATION, C_DATA, A_MOD },
    { CKA_OBJECT_ID, C_DATA, 0 },
    { CKA_VALUE, C_DATA | C_CERT | C_KEY, 0 },
    { CKA_CERTIFICATE_TYPE, C_CERT, A_ULONG },
    { CKA_TRUSTED, C_CERT | C_PUB, A_BOOL },
    { CKA_CERTIFICATE_CATEGORY, C_CERT, A_ULONG },
    { CKA_CHECK_VALUE, C_CERT, 0 },
    { CKA_ISSUER, C_CERT, A_MOD },
    { CKA_SERIAL_NUMBER, C_CERT, A_MOD },
    { CKA_URL, C_CERT, 0 },
    { CKA_HASH_OF_SUBJECT_PUBLIC_KEY, C_CERT, 0 },
    { CKA_HASH_OF_ISSUER_PUBLIC_KEY, C_CERT, 0 },
    { CKA_JAVA_MIDP_SECURITY_DOMAIN, C_CERT, A_ULONG },
    { CKA_SUBJECT, C_CERT | C_KEY, A_MOD },
    { CKA_ID, C_CERT | C_KEY, A_MOD },
    { CKA_START_DATE, C_CERT | C_KEY, A_MOD },
    { CKA_END_DATE, C_CERT | C_KEY, A_MOD },
    { CKA_PUBLIC_KEY_INFO, C_CERT | C_KEY, 0 },
    { CKA_KEY_TYPE, C_KEY, A_ULONG },
    { CKA_DERIVE, C_KEY, A_BOOL },
    { CKA_LOCAL, C_KEY, A_BOOL | A_RO },
    { CKA_KEY_GEN_MECHANISM, C_KEY, A_ULONG | A_RO },
    { CKA_ALLOWED_MECHANISMS, C_KEY, 0 },
    { CKA_GOSTR3410_PARAMS, C_KEY, 0 },
    { CKA_GOSTR3411_PARAMS, C_KEY, 0 },
    { CKA_ENCRYPT, C_PUB, A_BOOL },
    { CKA_VERIFY, C_PUB, A_BOOL },
    { CKA_VERIFY_RECOVER, C_PUB, A_BOOL },
    { CKA_WRAP, C_PUB, A_BOOL },
    { CKA_SENSITIVE, C_PRIV, A_BOOL },
    { CKA_DECRYPT, C_PRIV, A_BOOL },
    { CKA_SIGN, C_PRIV, A_BOOL },
    { CKA_SIGN_RECOVER, C_PRIV, A_BOOL },
    { CKA_UNWRAP, C_PRIV, A_BOOL },
    { CKA_EXTRACTABLE, C_PRIV, A_BOOL },
    { CKA_ALWAYS_SENSITIVE, C_PRIV, A_BOOL | A_RO },
    { CKA_NEVER_EXTRACTABLE, C_PRIV, A_BOOL | A_RO },
    { CKA_WRAP_WITH_TRUSTED, C_PRIV, A_BOOL },
    { CKA_ALWAYS_AUTHENTICATE, C_PRIV, A_BOOL },
};

/* Class bit of a CKO_ value, 0 for classes this token does not hold. */
static int class_bit(CK_OBJECT_CLASS c)
{
    switch (c) {
    case CKO_DATA:
        return C_DATA;
    case CKO_CERTIFICATE:
        return C_CERT;
    case CKO_PUBLIC_KEY:
        return C_PUB;
    case CKO_PRIVATE_KEY:
        return C_PRIV;
    default:
        return 0;
    }
}

/* Rule for an attribute type, or NULL when the module does not know it. */
static const attr_rule *rule_for(CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].type == t)
            return &rules[i];
    return NULL;
}

/* Validates one template attribute for a class and operation. */
static CK_RV check_attr(const CK_ATTRIBUTE *a, int cbit, int creating)
{
    const attr_rule *r = rule_for(a->type);
    if (!r || !(r->classes & cbit))
        return CKR_ATTRIBUTE_TYPE_INVALID;
    if ((r->flags & A_RO) || (!creating && !(r->flags & A_MOD)))
        return CKR_ATTRIBUTE_READ_ONLY;
    if (!a->pValue && a->ulValueLen)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if ((r->flags & A_BOOL) &&
        (a->ulValueLen != sizeof(CK_BBOOL) || *(CK_BBOOL *)a->pValue > CK_TRUE))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if ((r->flags & A_ULONG) && a->ulValueLen != sizeof(CK_ULONG))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    return CKR_OK;
}

/* Applies a template to an object whose CKA_CLASS is already set. */
CK_RV st_template_apply(st_object *o, const CK_ATTRIBUTE *t, CK_ULONG n, int creating)
{
    CK_OBJECT_CLASS cls = st_obj_ulong(o, CKA_CLASS, (CK_ULONG)-1);
    int cbit = class_bit(cls);
    if (n && !t)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV rv = check_attr(&t[i], cbit, creating);
        if (rv != CKR_OK)
            return rv;
        if (t[i].type == CKA_CLASS) {
            if (*(CK_ULONG *)t[i].pValue != cls)
                return CKR_TEMPLATE_INCONSISTENT;
            continue;
        }
        rv = st_obj_set(o, t[i].type, t[i].pValue, t[i].ulValueLen);
        if (rv != CKR_OK)
            return rv;
    }
    return CKR_OK;
}

/* Reads CKA_CLASS, CKA_TOKEN and CKA_PRIVATE from a template (with defaults). */
CK_RV st_obj_template_wants_token(const CK_ATTRIBUTE *t, CK_ULONG n, int *is_token, int *is_private,
                                  CK_OBJECT_CLASS cls)
{
    *is_token = 0;
    *is_private = cls == CKO_PRIVATE_KEY;
    for (CK_ULONG i = 0; t && i < n; i++) {
        if (t[i].type != CKA_TOKEN && t[i].type != CKA_PRIVATE)
            continue;
        if (!t[i].pValue || t[i].ulValueLen != sizeof(CK_BBOOL))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        int v = *(CK_BBOOL *)t[i].pValue != CK_FALSE;
        if (t[i].type == CKA_TOKEN)
            *is_token = v;
        else
            *is_private = v;
    }
    return CKR_OK;
}

/* ---- GOST key attributes ---- */

/* The parameter set named by CKA_GOSTR3410_PARAMS, checked against the key type. */
CK_RV st_key_paramset(const st_object *o, const gost_paramset **out)
{
    CK_KEY_TYPE kt = st_obj_ulong(o, CKA_KEY_TYPE, (CK_ULONG)-1);
    st_attr *a = st_obj_attr(o, CKA_GOSTR3410_PARAMS);
    char dotted[128];
    gs_status gst;
    if (!a)
        return CKR_TEMPLATE_INCOMPLETE;
    if (gost_oid_from_der(a->val, a->len, dotted, sizeof dotted, &gst) != GS_ERR_OK)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    const gost_paramset *ps = gost_paramset_find(dotted);
    if (!ps)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if ((kt == CKK_GOSTR3410 && ps->key_bits != 256) ||
        (kt == CKK_GOSTR3410_512 && ps->key_bits != 512))
        return CKR_TEMPLATE_INCONSISTENT;
    *out = ps;
    return CKR_OK;
}

/* Checks key type, curve and digest parameters; fills in the default Streebog OID. */
CK_RV st_obj_check_key(st_object *o, CK_KEY_TYPE kt, CK_OBJECT_CLASS cls)
{
    (void)cls;
    CK_KEY_TYPE have = st_obj_ulong(o, CKA_KEY_TYPE, (CK_ULONG)-1);
    if (have == (CK_ULONG)-1)
        return CKR_TEMPLATE_INCOMPLETE;
    if (have != CKK_GOSTR3410 && have != CKK_GOSTR3410_512)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (kt != (CK_ULONG)-1 && have != kt)
        return CKR_TEMPLATE_INCONSISTENT;
    const gost_paramset *ps;
    CK_RV rv = st_key_paramset(o, &ps);
    if (rv != CKR_OK)
        return rv;
    uint8_t der[32];
    size_t dlen;
    gs_status gst;
    const char *want = ps->key_bits == 512 ? GOST_OID_DIGEST_512 : GOST_OID_DIGEST_256;
    if (gost_oid_to_der(want, der, sizeof der, &dlen, &gst) != GS_ERR_OK)
        return CKR_GENERAL_ERROR;
    st_attr *h = st_obj_attr(o, CKA_GOSTR3411_PARAMS);
    if (h && (h->len != dlen || memcmp(h->val, der, dlen) != 0))
        return CKR_TEMPLATE_INCONSISTENT;
    return h ? CKR_OK : st_obj_set(o, CKA_GOSTR3411_PARAMS, der, dlen);
}

/* Seals a raw private value under the master key into ST_CKA_SEALED_VALUE. */
CK_RV st_obj_seal_private(st_slot *s, st_object *o, const uint8_t *raw, size_t len)
{
    uint8_t sealed[64 + ST_NONCE_LEN + ST_TAG_LEN];
    if (len > 64)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = st_seal(s->master, (const uint8_t *)"gostsign-privkey", 16, raw, len, sealed);
    if (rv == CKR_OK)
        rv = st_obj_set(o, ST_CKA_SEALED_VALUE, sealed, len + ST_NONCE_LEN + ST_TAG_LEN);
    return rv;
}

/* Common defaults every object gets. */
static CK_RV common_defaults(st_object *o, int is_private)
{
    CK_RV rv = default_bool(o, CKA_TOKEN, CK_FALSE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_PRIVATE, is_private ? CK_TRUE : CK_FALSE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_MODIFIABLE, CK_TRUE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_COPYABLE, CK_FALSE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_DESTROYABLE, CK_TRUE);
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_LABEL);
    return rv;
}

/* Defaults shared by public and private GOST keys. */
static CK_RV key_defaults(st_object *o, int local, CK_MECHANISM_TYPE gen)
{
    CK_RV rv = default_empty(o, CKA_ID);
    CK_BBOOL l = local ? CK_TRUE : CK_FALSE;
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_SUBJECT);
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_START_DATE);
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_END_DATE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_DERIVE, CK_FALSE);
    if (rv == CKR_OK)
        rv = st_obj_set(o, CKA_LOCAL, &l, sizeof l);
    if (rv == CKR_OK)
        rv = st_obj_set(o, CKA_KEY_GEN_MECHANISM, &gen, sizeof gen);
    return rv;
}

/* Defaults for a public key (generated: local, with its generation mechanism). */
CK_RV st_obj_pub_defaults(st_object *o, int local, CK_MECHANISM_TYPE gen)
{
    CK_RV rv = key_defaults(o, local, gen);
    static const CK_ATTRIBUTE_TYPE off[] = { CKA_ENCRYPT, CKA_VERIFY_RECOVER, CKA_WRAP,
                                             CKA_TRUSTED };
    for (size_t i = 0; rv == CKR_OK && i < sizeof off / sizeof off[0]; i++)
        rv = default_bool(o, off[i], CK_FALSE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_VERIFY, CK_TRUE);
    return rv == CKR_OK ? common_defaults(o, 0) : rv;
}

/* Defaults for a private key; generated keys are always-sensitive and never-extractable. */
CK_RV st_obj_priv_defaults(st_object *o, int local, CK_MECHANISM_TYPE gen)
{
    CK_RV rv = key_defaults(o, local, gen);
    static const CK_ATTRIBUTE_TYPE off[] = {
        CKA_DECRYPT,           CKA_SIGN_RECOVER,        CKA_UNWRAP,
        CKA_WRAP_WITH_TRUSTED, CKA_ALWAYS_AUTHENTICATE, CKA_EXTRACTABLE
    };
    for (size_t i = 0; rv == CKR_OK && i < sizeof off / sizeof off[0]; i++)
        rv = default_bool(o, off[i], CK_FALSE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_SIGN, CK_TRUE);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_SENSITIVE, CK_TRUE);
    CK_BBOOL sens = st_obj_bool(o, CKA_SENSITIVE, 1) && local ? CK_TRUE : CK_FALSE;
    CK_BBOOL never = !st_obj_bool(o, CKA_EXTRACTABLE, 0) && local ? CK_TRUE : CK_FALSE;
    if (rv == CKR_OK)
        rv = st_obj_set(o, CKA_ALWAYS_SENSITIVE, &sens, sizeof sens);
    if (rv == CKR_OK)
        rv = st_obj_set(o, CKA_NEVER_EXTRACTABLE, &never, sizeof never);
    return rv == CKR_OK ? common_defaults(o, 1) : rv;
}

/* ---- class-specific completion for C_CreateObject ---- */

/* Data object: value, application and object id default to empty. */
static CK_RV complete_data(st_object *o)
{
    CK_RV rv = default_empty(o, CKA_VALUE);
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_APPLICATION);
    return rv;
}

/* Copies a DER-encoded name or integer from the certificate when the template lacks it. */
static CK_RV default_der(st_object *o, CK_ATTRIBUTE_TYPE t, int len, uint8_t *der)
{
    if (len <= 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    return st_obj_attr(o, t) ? CKR_OK : st_obj_set(o, t, der, (CK_ULONG)len);
}

/* X.509 certificate: the DER must parse; subject, issuer and serial come from it if absent. */
static CK_RV complete_cert(st_object *o)
{
    if (st_obj_ulong(o, CKA_CERTIFICATE_TYPE, (CK_ULONG)-1) == (CK_ULONG)-1 ||
        !st_obj_attr(o, CKA_VALUE))
        return CKR_TEMPLATE_INCOMPLETE;
    if (st_obj_ulong(o, CKA_CERTIFICATE_TYPE, 0) != CKC_X_509)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    st_attr *v = st_obj_attr(o, CKA_VALUE);
    const unsigned char *p = v->val;
    X509 *x = d2i_X509(NULL, &p, (long)v->len);
    if (!x || p != v->val + v->len) {
        X509_free(x);
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    uint8_t *der = NULL;
    int n = i2d_X509_NAME(X509_get_subject_name(x), &der);
    CK_RV rv = default_der(o, CKA_SUBJECT, n, der);
    OPENSSL_free(der), der = NULL;
    n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
    if (rv == CKR_OK)
        rv = default_der(o, CKA_ISSUER, n, der);
    OPENSSL_free(der), der = NULL;
    n = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &der);
    if (rv == CKR_OK)
        rv = default_der(o, CKA_SERIAL_NUMBER, n, der);
    OPENSSL_free(der);
    X509_free(x);
    CK_ULONG cat = 0;
    if (rv == CKR_OK)
        rv = default_empty(o, CKA_ID);
    if (rv == CKR_OK)
        rv = default_bool(o, CKA_TRUSTED, CK_FALSE);
    if (rv == CKR_OK)
        rv = default_ulong(o, CKA_CERTIFICATE_CATEGORY, cat);
    return rv;
}

/* Imported public key: the value must be a point on the named curve. */
static CK_RV complete_pub(st_object *o)
{
    CK_RV rv = st_obj_check_key(o, (CK_ULONG)-1, CKO_PUBLIC_KEY);
    const gost_paramset *ps = NULL;
    if (rv == CKR_OK)
        rv = st_key_paramset(o, &ps);
    st_attr *v = st_obj_attr(o, CKA_VALUE);
    if (rv == CKR_OK && !v)
        rv = CKR_TEMPLATE_INCOMPLETE;
    if (rv == CKR_OK) {
        gs_status gst;
        EVP_PKEY *k = v->len == (size_t)ps->key_bits / 4
                          ? gost_pubkey_from_raw(ps, v->val, v->len, &gst)
                          : NULL;
        if (!k)
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
        EVP_PKEY_free(k);
    }
    return rv == CKR_OK ? st_obj_pub_defaults(o, 0, CK_UNAVAILABLE_INFORMATION) : rv;
}

/* Imported private key: validated, then sealed under the master key; CKA_VALUE dropped. */
static CK_RV complete_priv(st_slot *s, st_object *o)
{
    CK_RV rv = st_obj_check_key(o, (CK_ULONG)-1, CKO_PRIVATE_KEY);
    const gost_paramset *ps = NULL;
    if (rv == CKR_OK)
        rv = st_key_paramset(o, &ps);
    st_attr *v = st_obj_attr(o, CKA_VALUE);
    if (rv == CKR_OK && !v)
        rv = CKR_TEMPLATE_INCOMPLETE;
    if (rv == CKR_OK) {
        gs_status gst;
        EVP_PKEY *k = v->len == (size_t)ps->key_bits / 8
                          ? gost_privkey_from_raw(ps, v->val, v->len, &gst)
                          : NULL;
        rv = k ? st_obj_seal_private(s, o, v->val, v->len) : CKR_ATTRIBUTE_VALUE_INVALID;
        EVP_PKEY_free(k);
    }
    obj_unset(o, CKA_VALUE);
    return rv == CKR_OK ? st_obj_priv_defaults(o, 0, CK_UNAVAILABLE_INFORMATION) : rv;
}

/* ---- lookup and visibility ---- */

/* Token or session object of the slot by handle (visible or not). */
st_object *st_obj_find(st_slot *s, CK_OBJECT_HANDLE h)
{
    if (h & ST_SESSION_OBJ_BIT) {
        for (size_t i = 0; i < s->nsobj; i++)
            if (s->sobjs[i].handle == h)
                return &s->sobjs[i];
        return NULL;
    }
    for (size_t i = 0; s->loaded && i < s->tok.nobj; i++)
        if (s->tok.objs[i].handle == h)
            return &s->tok.objs[i];
    return NULL;
}

/* Private objects are visible only while the normal user is logged in. */
int st_obj_visible(const st_slot *s, const st_object *o)
{
    return !st_obj_bool(o, CKA_PRIVATE, 1) || s->login == CKU_USER;
}

/* Adds a finished object to the slot's session objects. */
static CK_RV store_session_object(st_slot *s, st_session *ss, st_object *o, CK_OBJECT_HANDLE *h)
{
    st_object *n = realloc(s->sobjs, (s->nsobj + 1) * sizeof *n);
    if (!n)
        return CKR_HOST_MEMORY;
    s->sobjs = n;
    o->handle = ST_SESSION_OBJ_BIT | s->next_session_obj++;
    o->owner = ss->handle;
    s->sobjs[s->nsobj++] = *o;
    *h = o->handle;
    memset(o, 0, sizeof *o);
    return CKR_OK;
}

/*
 * Stores finished objects: session objects in memory, token objects in the file in ONE write
 * (a key pair is never half-saved). On success the objects are moved out (zeroed).
 */
CK_RV st_obj_store(st_slot *s, st_session *ss, st_object *o, const int *is_token, size_t n,
                   CK_OBJECT_HANDLE *h)
{
    size_t ntok = 0;
    for (size_t i = 0; i < n; i++)
        ntok += is_token[i] != 0;
    CK_RV rv = ntok ? st_slot_begin_write(s) : CKR_OK;
    if (rv != CKR_OK)
        return rv;
    st_object *arr = ntok ? realloc(s->tok.objs, (s->tok.nobj + ntok) * sizeof *arr) : NULL;
    if (ntok && !arr)
        return st_slot_end_write(s, CKR_HOST_MEMORY);
    if (ntok)
        s->tok.objs = arr;
    for (size_t i = 0; rv == CKR_OK && i < n; i++) {
        if (!is_token[i]) {
            rv = store_session_object(s, ss, &o[i], &h[i]);
            continue;
        }
        o[i].handle = s->tok.next_uid++;
        o[i].owner = 0;
        h[i] = o[i].handle;
        s->tok.objs[s->tok.nobj++] = o[i];
        memset(&o[i], 0, sizeof o[i]);
    }
    return ntok ? st_slot_end_write(s, rv) : rv;
}

/* Checks session state for creating or changing an object with these properties. */
static CK_RV may_write(const st_session *ss, const st_slot *s, int is_token, int is_private)
{
    if (is_token && !(ss->flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_ONLY;
    if (is_private && s->login != CKU_USER)
        return CKR_USER_NOT_LOGGED_IN;
    return CKR_OK;
}

/* Finds CKA_CLASS in a template. */
static CK_RV template_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS *cls)
{
    for (CK_ULONG i = 0; t && i < n; i++)
        if (t[i].type == CKA_CLASS) {
            if (!t[i].pValue || t[i].ulValueLen != sizeof(CK_ULONG))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            memcpy(cls, t[i].pValue, sizeof *cls);
            return class_bit(*cls) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
        }
    return CKR_TEMPLATE_INCOMPLETE;
}

/* Builds a new object from a template (class-specific completion included). */
static CK_RV build_object(st_slot *s, st_object *o, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_PTR t,
                          CK_ULONG n)
{
    CK_RV rv = st_obj_set(o, CKA_CLASS, &cls, sizeof cls);
    if (rv == CKR_OK)
        rv = st_template_apply(o, t, n, 1);
    if (rv != CKR_OK)
        return rv;
    switch (cls) {
    case CKO_DATA:
        rv = complete_data(o);
        break;
    case CKO_CERTIFICATE:
        rv = complete_cert(o);
        break;
    case CKO_PUBLIC_KEY:
        return complete_pub(o);
    default:
        return complete_priv(s, o);
    }
    return rv == CKR_OK ? common_defaults(o, 0) : rv;
}

/* C_CreateObject: certificates, data objects and GOST public/private keys. */
CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    CK_OBJECT_CLASS cls = 0;
    int is_token = 0, is_private = 0;
    st_object o = { 0 };
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && (!phObject || (ulCount && !pTemplate)))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = template_class(pTemplate, ulCount, &cls);
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(pTemplate, ulCount, &is_token, &is_private, cls);
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, is_private || cls == CKO_PRIVATE_KEY);
    if (rv == CKR_OK)
        rv = build_object(s, &o, cls, pTemplate, ulCount);
    if (rv == CKR_OK)
        rv = st_obj_store(s, ss, &o, &is_token, 1, phObject);
    st_obj_free(&o);
    st_leave();
    return rv;
}

/* Removes an object from its array. */
static void remove_object(st_object *arr, size_t *n, st_object *o)
{
    st_obj_free(o);
    size_t i = (size_t)(o - arr);
    memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof *arr);
    (*n)--;
}

/* Looks up a visible object for a session call. */
static CK_RV visible_object(st_slot *s, CK_OBJECT_HANDLE h, st_object **o)
{
    *o = st_obj_find(s, h);
    return *o && st_obj_visible(s, *o) ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

/* C_DestroyObject: token objects are removed from the file under the directory lock. */
CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK)
        rv = visible_object(s, hObject, &o);
    int is_token = o && !(hObject & ST_SESSION_OBJ_BIT);
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, st_obj_bool(o, CKA_PRIVATE, 1));
    if (rv == CKR_OK && !st_obj_bool(o, CKA_DESTROYABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    if (rv == CKR_OK && !is_token)
        remove_object(s->sobjs, &s->nsobj, o);
    else if (rv == CKR_OK && (rv = st_slot_begin_write(s)) == CKR_OK) {
        o = st_obj_find(s, hObject);
        if (o)
            remove_object(s->tok.objs, &s->tok.nobj, o);
        rv = st_slot_end_write(s, o ? CKR_OK : CKR_OBJECT_HANDLE_INVALID);
    }
    st_leave();
    return rv;
}

/* Copies one attribute out following the PKCS#11 rules (size query, too small, sensitive). */
static CK_RV get_one(const st_object *o, CK_ATTRIBUTE *a)
{
    CK_OBJECT_CLASS cls = st_obj_ulong(o, CKA_CLASS, 0);
    if (cls == CKO_PRIVATE_KEY && a->type == CKA_VALUE) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_ATTRIBUTE_SENSITIVE;
    }
    st_attr *v = a->type == ST_CKA_SEALED_VALUE ? NULL : st_obj_attr(o, a->type);
    if (!v) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    if (!a->pValue) {
        a->ulValueLen = v->len;
        return CKR_OK;
    }
    if (a->ulValueLen < v->len) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(a->pValue, v->val, v->len);
    a->ulValueLen = v->len;
    return CKR_OK;
}

/* C_GetAttributeValue: every attribute is processed; the last error is returned. */
CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && ulCount && !pTemplate)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = visible_object(s, hObject, &o);
    CK_RV last = CKR_OK;
    for (CK_ULONG i = 0; rv == CKR_OK && i < ulCount; i++) {
        CK_RV one = get_one(o, &pTemplate[i]);
        last = one != CKR_OK ? one : last;
    }
    rv = rv == CKR_OK ? last : rv;
    st_leave();
    return rv;
}

/* C_SetAttributeValue: label, id, subject, dates, application (the A_MOD attributes). */
CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && ulCount && !pTemplate)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = visible_object(s, hObject, &o);
    int is_token = o && !(hObject & ST_SESSION_OBJ_BIT);
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, st_obj_bool(o, CKA_PRIVATE, 1));
    if (rv == CKR_OK && !st_obj_bool(o, CKA_MODIFIABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    if (rv == CKR_OK && !is_token)
        rv = st_template_apply(o, pTemplate, ulCount, 0);
    else if (rv == CKR_OK && (rv = st_slot_begin_write(s)) == CKR_OK) {
        o = st_obj_find(s, hObject);
        rv = o ? st_template_apply(o, pTemplate, ulCount, 0) : CKR_OBJECT_HANDLE_INVALID;
        rv = st_slot_end_write(s, rv);
    }
    st_leave();
    return rv;
}

/* True when an object has every attribute of the template with equal value. */
static int matches(const st_object *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type == ST_CKA_SEALED_VALUE)
            return 0;
        if (t[i].type == CKA_VALUE && st_obj_ulong(o, CKA_CLASS, 0) == CKO_PRIVATE_KEY)
            return 0;
        st_attr *a = st_obj_attr(o, t[i].type);
        if (!a || a->len != t[i].ulValueLen ||
            (a->len && (!t[i].pValue || memcmp(a->val, t[i].pValue, a->len) != 0)))
            return 0;
    }
    return 1;
}

/* Adds the handles of visible matching objects of one array to the result. */
static CK_RV collect(st_slot *s, st_op *op, st_object *arr, size_t n, const CK_ATTRIBUTE *t,
                     CK_ULONG tn)
{
    for (size_t i = 0; i < n; i++) {
        if (!st_obj_visible(s, &arr[i]) || !matches(&arr[i], t, tn))
            continue;
        CK_OBJECT_HANDLE *f = realloc(op->found, (op->nfound + 1) * sizeof *f);
        if (!f)
            return CKR_HOST_MEMORY;
        op->found = f;
        op->found[op->nfound++] = arr[i].handle;
    }
    return CKR_OK;
}

/* C_FindObjectsInit: snapshot of the matching visible handles. */
CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && ulCount && !pTemplate)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && ss->find.kind != OP_NONE)
        rv = CKR_OPERATION_ACTIVE;
    if (rv == CKR_OK) {
        ss->find.kind = OP_FIND;
        rv = collect(s, &ss->find, s->tok.objs, s->loaded ? s->tok.nobj : 0, pTemplate, ulCount);
        if (rv == CKR_OK)
            rv = collect(s, &ss->find, s->sobjs, s->nsobj, pTemplate, ulCount);
        if (rv != CKR_OK)
            st_op_clear(&ss->find);
    }
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
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && (!phObject || !pulObjectCount))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && ss->find.kind != OP_FIND)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    if (rv == CKR_OK) {
        CK_ULONG n = 0;
        while (n < ulMaxObjectCount && ss->find.pos < ss->find.nfound)
            phObject[n++] = ss->find.found[ss->find.pos++];
        *pulObjectCount = n;
    }
    st_leave();
    return rv;
}

/* C_FindObjectsFinal: ends the search. */
CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    CK_RV rv = st_enter();
    if (rv != CKR_OK)
        return rv;
    st_session *ss;
    st_slot *s;
    rv = st_session_check(hSession, &ss, &s);
    if (rv == CKR_OK && ss->find.kind != OP_FIND)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    if (rv == CKR_OK)
        st_op_clear(&ss->find);
    st_leave();
    return rv;
}
