/*
 * What objects may hold: the attribute policy per class, templates, default attributes, GOST
 * key checks, and completing a new object from a C_CreateObject template (a certificate's
 * names come from its DER; an imported private key is sealed under the master key and its
 * CKA_VALUE dropped). No object is stored here: objects.c does that.
 */
#include "softtoken.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "gost.h"

/* ---- defaults ---- */

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

/* A_ONLY_TRUE / A_ONLY_FALSE: booleans whose other value the token could not honour (a GOST
 * signing key that leaves the token, decrypts, derives, wraps, or asks for the PIN per use),
 * so a template asking for it is refused rather than accepted and ignored. */
enum { A_BOOL = 1, A_ULONG = 2, A_RO = 4, A_MOD = 8, A_ONLY_TRUE = 16, A_ONLY_FALSE = 32 };
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
    { CKA_DERIVE, C_KEY, A_BOOL | A_ONLY_FALSE },
    { CKA_LOCAL, C_KEY, A_BOOL | A_RO },
    { CKA_KEY_GEN_MECHANISM, C_KEY, A_ULONG | A_RO },
    { CKA_ALLOWED_MECHANISMS, C_KEY, 0 },
    { CKA_GOSTR3410_PARAMS, C_KEY, 0 },
    { CKA_GOSTR3411_PARAMS, C_KEY, 0 },
    { CKA_ENCRYPT, C_PUB, A_BOOL | A_ONLY_FALSE },
    { CKA_VERIFY, C_PUB, A_BOOL },
    { CKA_VERIFY_RECOVER, C_PUB, A_BOOL | A_ONLY_FALSE },
    { CKA_WRAP, C_PUB, A_BOOL | A_ONLY_FALSE },
    { CKA_SENSITIVE, C_PRIV, A_BOOL | A_ONLY_TRUE },
    { CKA_DECRYPT, C_PRIV, A_BOOL | A_ONLY_FALSE },
    { CKA_SIGN, C_PRIV, A_BOOL },
    { CKA_SIGN_RECOVER, C_PRIV, A_BOOL | A_ONLY_FALSE },
    { CKA_UNWRAP, C_PRIV, A_BOOL | A_ONLY_FALSE },
    { CKA_EXTRACTABLE, C_PRIV, A_BOOL | A_ONLY_FALSE },
    { CKA_ALWAYS_SENSITIVE, C_PRIV, A_BOOL | A_RO },
    { CKA_NEVER_EXTRACTABLE, C_PRIV, A_BOOL | A_RO },
    { CKA_WRAP_WITH_TRUSTED, C_PRIV, A_BOOL },
    { CKA_ALWAYS_AUTHENTICATE, C_PRIV, A_BOOL | A_ONLY_FALSE },
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

/* False when a template asks for the boolean value the token cannot honour. */
static int bool_value_honoured(const attr_rule *r, const CK_ATTRIBUTE *a)
{
    if (!(r->flags & (A_ONLY_TRUE | A_ONLY_FALSE)))
        return 1;
    if (!a->pValue || a->ulValueLen != sizeof(CK_BBOOL))
        return 0; /* check_attr refused such a boolean already; never read it */
    int v = *(const CK_BBOOL *)a->pValue != CK_FALSE;
    return (r->flags & A_ONLY_TRUE) ? v : !v;
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
    return bool_value_honoured(r, a) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
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

#define LEGACY_AAD     "gostsign-privkey" /* files written before the binding below */
#define LEGACY_AAD_LEN 16

/* Appends an attribute's bytes (or nothing) to the AAD being built. */
static size_t aad_add(const st_object *o, CK_ATTRIBUTE_TYPE t, uint8_t *aad, size_t at, size_t cap)
{
    st_attr *a = st_obj_attr(o, t);
    if (!a || a->len > cap - at - 1)
        return at;
    aad[at++] = (uint8_t)a->len;
    memcpy(aad + at, a->val, a->len);
    return at + a->len;
}

/*
 * The AAD a private value is sealed with: a tag, then the key's read-only identity (key type,
 * curve and digest parameters), so editing those in the file makes the value fail to open
 * instead of being used on another curve.
 */
static size_t bound_aad(const st_object *o, uint8_t *aad, size_t cap)
{
    static const char tag[] = "gostsign-privkey-v2";
    size_t at = sizeof tag - 1;
    memcpy(aad, tag, at);
    at = aad_add(o, CKA_KEY_TYPE, aad, at, cap);
    at = aad_add(o, CKA_GOSTR3410_PARAMS, aad, at, cap);
    return aad_add(o, CKA_GOSTR3411_PARAMS, aad, at, cap);
}

/* Seals a raw private value under the master key into ST_CKA_SEALED_VALUE. */
CK_RV st_obj_seal_private(st_slot *s, st_object *o, const uint8_t *raw, size_t len)
{
    uint8_t sealed[64 + ST_NONCE_LEN + ST_TAG_LEN], aad[256];
    if (len > 64)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = st_seal(s->master, aad, bound_aad(o, aad, sizeof aad), raw, len, sealed);
    if (rv == CKR_OK)
        rv = st_obj_set(o, ST_CKA_SEALED_VALUE, sealed, len + ST_NONCE_LEN + ST_TAG_LEN);
    return rv;
}

/* Opens a private value (len bytes into raw): the bound seal, or one from an older file. */
CK_RV st_obj_unseal_private(const st_slot *s, const st_object *o, uint8_t *raw, size_t len)
{
    st_attr *sealed = st_obj_attr(o, ST_CKA_SEALED_VALUE);
    uint8_t aad[256];
    if (!sealed || sealed->len != len + ST_NONCE_LEN + ST_TAG_LEN)
        return CKR_DEVICE_ERROR;
    if (st_unseal(s->master, aad, bound_aad(o, aad, sizeof aad), sealed->val, sealed->len, raw) ==
        CKR_OK)
        return CKR_OK;
    return st_unseal(s->master, (const uint8_t *)LEGACY_AAD, LEGACY_AAD_LEN, sealed->val,
                     sealed->len, raw) == CKR_OK
               ? CKR_OK
               : CKR_DEVICE_ERROR;
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
    st_obj_unset(o, CKA_VALUE);
    return rv == CKR_OK ? st_obj_priv_defaults(o, 0, CK_UNAVAILABLE_INFORMATION) : rv;
}

/* Finds CKA_CLASS in a template. */
CK_RV st_template_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS *cls)
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
CK_RV st_obj_build(st_slot *s, st_object *o, CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n)
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
