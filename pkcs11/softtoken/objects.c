/*
 * Objects: lookup and visibility, storing new objects (session objects in memory, token
 * objects in the file, a key pair in one write), and the object management calls (create,
 * destroy, find, get/set attributes). What an object may hold is templates.c's business.
 *
 * Token objects live in the token file and a public one's handle is its persistent id there;
 * private ones get handles valid for one login (ST_PRIVATE_OBJ_BIT). Session objects live in
 * the slot's memory with handles that have ST_SESSION_OBJ_BIT set. A private
 * key's CKA_VALUE is never kept: only ST_CKA_SEALED_VALUE (AES-GCM under the master key).
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

/* ---- handles ---- */

/* Token object by its persistent id in the file, or NULL. */
static st_object *token_object(st_slot *s, CK_OBJECT_HANDLE uid)
{
    for (size_t i = 0; s->loaded && i < s->tok.nobj; i++)
        if (s->tok.objs[i].handle == uid)
            return &s->tok.objs[i];
    return NULL;
}

/* True for token objects only the logged-in user may see. */
static int is_private_token_object(const st_object *o)
{
    return !(o->handle & ST_SESSION_OBJ_BIT) && st_obj_bool(o, CKA_PRIVATE, 1);
}

/*
 * The handle the application gets for an object. Public token objects are named by their id in
 * the file and session objects by their session handle; a private token object gets a handle
 * that lives only as long as this login (st_logout_slot forgets them), because PKCS#11 makes
 * handles to private objects invalid at logout, for good.
 */
CK_RV st_obj_handle(st_slot *s, const st_object *o, CK_OBJECT_HANDLE *out)
{
    if (!is_private_token_object(o)) {
        *out = o->handle;
        return CKR_OK;
    }
    for (size_t i = 0; i < s->npriv_handles; i++)
        if (s->priv_handles[i].uid == o->handle) {
            *out = s->priv_handles[i].handle;
            return CKR_OK;
        }
    st_priv_handle *n = realloc(s->priv_handles, (s->npriv_handles + 1) * sizeof *n);
    if (!n)
        return CKR_HOST_MEMORY;
    s->priv_handles = n;
    n[s->npriv_handles].uid = o->handle;
    n[s->npriv_handles].handle = ST_PRIVATE_OBJ_BIT | (s->next_priv_handle++ & ~ST_HANDLE_BITS);
    *out = n[s->npriv_handles++].handle;
    return CKR_OK;
}

/* The private token object a handle of this login names, or NULL. */
static st_object *private_token_object(st_slot *s, CK_OBJECT_HANDLE h)
{
    for (size_t i = 0; i < s->npriv_handles; i++)
        if (s->priv_handles[i].handle == h)
            return token_object(s, s->priv_handles[i].uid);
    return NULL;
}

/* Token or session object of the slot by the handle the application holds (visible or not). */
st_object *st_obj_find(st_slot *s, CK_OBJECT_HANDLE h)
{
    if (h & ST_SESSION_OBJ_BIT) {
        for (size_t i = 0; i < s->nsobj; i++)
            if (s->sobjs[i].handle == h)
                return &s->sobjs[i];
        return NULL;
    }
    if (h & ST_PRIVATE_OBJ_BIT)
        return private_token_object(s, h);
    st_object *o = token_object(s, h);
    return o && !is_private_token_object(o) ? o : NULL;
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
    if (ntok && ((s->tok.next_uid + ntok) & ST_HANDLE_BITS))
        return st_slot_end_write(s, CKR_DEVICE_MEMORY); /* ids would collide with handle bits */
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
    if (ntok)
        rv = st_slot_end_write(s, rv);
    for (size_t i = 0; rv == CKR_OK && i < n; i++)
        if (is_token[i])
            rv = st_obj_handle(s, token_object(s, h[i]), &h[i]);
    return rv;
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

/* C_CreateObject: certificates, data objects and GOST public/private keys. */
CK_RV st_object_create(CK_SESSION_HANDLE h, const CK_ATTRIBUTE *t, CK_ULONG n,
                       CK_OBJECT_HANDLE *out)
{
    st_session *ss;
    st_slot *s;
    CK_OBJECT_CLASS cls = 0;
    int is_token = 0, is_private = 0;
    st_object o = { 0 };
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && (!out || (n && !t)))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = st_template_class(t, n, &cls);
    if (rv == CKR_OK)
        rv = st_obj_template_wants_token(t, n, &is_token, &is_private, cls);
    /* A private key needs the user's login even with CKA_PRIVATE false: its value is sealed
     * under the master key, which only the user PIN opens (README, "Keys and PINs"). */
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, is_private || cls == CKO_PRIVATE_KEY);
    if (rv == CKR_OK)
        rv = st_obj_build(s, &o, cls, t, n);
    if (rv == CKR_OK)
        rv = st_obj_store(s, ss, &o, &is_token, 1, out);
    st_obj_free(&o);
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
CK_RV st_object_destroy(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK)
        rv = visible_object(s, obj, &o);
    int is_token = o && !(obj & ST_SESSION_OBJ_BIT);
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, st_obj_bool(o, CKA_PRIVATE, 1));
    if (rv == CKR_OK && !st_obj_bool(o, CKA_DESTROYABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    if (rv != CKR_OK)
        return rv;
    if (!is_token) {
        remove_object(s->sobjs, &s->nsobj, o);
        return CKR_OK;
    }
    if ((rv = st_slot_begin_write(s)) != CKR_OK)
        return rv;
    o = st_obj_find(s, obj);
    if (o)
        remove_object(s->tok.objs, &s->tok.nobj, o);
    return st_slot_end_write(s, o ? CKR_OK : CKR_OBJECT_HANDLE_INVALID);
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
CK_RV st_attributes_get(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *t, CK_ULONG n)
{
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && n && !t)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = visible_object(s, obj, &o);
    CK_RV last = CKR_OK;
    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
        CK_RV one = get_one(o, &t[i]);
        last = one != CKR_OK ? one : last;
    }
    return rv == CKR_OK ? last : rv;
}

/* C_SetAttributeValue: label, id, subject, dates, application (the A_MOD attributes). */
CK_RV st_attributes_set(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, const CK_ATTRIBUTE *t,
                        CK_ULONG n)
{
    st_session *ss;
    st_slot *s;
    st_object *o = NULL;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && n && !t)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = visible_object(s, obj, &o);
    int is_token = o && !(obj & ST_SESSION_OBJ_BIT);
    if (rv == CKR_OK)
        rv = may_write(ss, s, is_token, st_obj_bool(o, CKA_PRIVATE, 1));
    if (rv == CKR_OK && !st_obj_bool(o, CKA_MODIFIABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    if (rv != CKR_OK)
        return rv;
    if (!is_token)
        return st_template_apply(o, t, n, 0);
    if ((rv = st_slot_begin_write(s)) != CKR_OK)
        return rv;
    o = st_obj_find(s, obj);
    rv = o ? st_template_apply(o, t, n, 0) : CKR_OBJECT_HANDLE_INVALID;
    return st_slot_end_write(s, rv);
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
        CK_RV rv = st_obj_handle(s, &arr[i], &op->found[op->nfound]);
        if (rv != CKR_OK)
            return rv;
        op->nfound++;
    }
    return CKR_OK;
}

/* C_FindObjectsInit: snapshot of the matching visible handles. */
CK_RV st_find_init(CK_SESSION_HANDLE h, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && n && !t)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && ss->find.kind != OP_NONE)
        rv = CKR_OPERATION_ACTIVE;
    if (rv != CKR_OK)
        return rv;
    ss->find.kind = OP_FIND;
    rv = collect(s, &ss->find, s->tok.objs, s->loaded ? s->tok.nobj : 0, t, n);
    if (rv == CKR_OK)
        rv = collect(s, &ss->find, s->sobjs, s->nsobj, t, n);
    if (rv != CKR_OK)
        st_op_clear(&ss->find);
    return rv;
}

/* C_FindObjects: hands out the next handles of the snapshot. */
CK_RV st_find_next(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && (!out || !count))
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && ss->find.kind != OP_FIND)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    if (rv != CKR_OK)
        return rv;
    CK_ULONG n = 0;
    while (n < max && ss->find.pos < ss->find.nfound)
        out[n++] = ss->find.found[ss->find.pos++];
    *count = n;
    return CKR_OK;
}

/* C_FindObjectsFinal: ends the search. */
CK_RV st_find_final(CK_SESSION_HANDLE h)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && ss->find.kind != OP_FIND)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    if (rv == CKR_OK)
        st_op_clear(&ss->find);
    return rv;
}
