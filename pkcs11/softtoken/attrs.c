/*
 * The attributes of one object: lookup, typed reads, setting a copy and freeing (wiped). This
 * is plain storage with no policy, so the token file parser (store.c) and the session table
 * can use it; what an attribute may hold is templates.c's business.
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
void st_obj_unset(st_object *o, CK_ATTRIBUTE_TYPE t)
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
