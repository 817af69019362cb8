/*
 * The session table and the login its sessions share: PKCS#11 logs in per token, for every
 * session of the application at once, and closing the last session logs the token out. This
 * sits below slots.c because a removed token file closes its slot's sessions; opening and
 * checking sessions, which need the slot's file, are in session.c above.
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Frees whatever an operation holds and returns it to OP_NONE. */
void st_op_clear(st_op *op)
{
    EVP_PKEY_free(op->key);
    EVP_MD_CTX_free(op->md);
    free(op->found);
    memset(op, 0, sizeof *op);
}

/* Adds a session on a slot to the table; its handle is never reused while loaded. */
CK_RV st_session_new(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *h)
{
    st_session *ss = calloc(1, sizeof *ss);
    if (!ss)
        return CKR_HOST_MEMORY;
    ss->handle = g_st.next_session++;
    ss->slot = slot;
    ss->flags = flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION);
    ss->next = g_st.sessions;
    g_st.sessions = ss;
    *h = ss->handle;
    return CKR_OK;
}

/* Destroys the session objects a session created. */
static void drop_session_objects(st_slot *s, CK_SESSION_HANDLE h)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->nsobj; i++) {
        if (s->sobjs[i].owner == h)
            st_obj_free(&s->sobjs[i]);
        else
            s->sobjs[keep++] = s->sobjs[i];
    }
    s->nsobj = keep;
}

/* Unlinks and frees one session; the last session of a slot also logs the slot out. */
void st_session_free(st_session *ss)
{
    for (st_session **pp = &g_st.sessions; *pp; pp = &(*pp)->next)
        if (*pp == ss) {
            *pp = ss->next;
            break;
        }
    st_slot *s = st_slot_get(ss->slot);
    if (s) {
        drop_session_objects(s, ss->handle);
        if (!st_slot_has_sessions(s->id, 0))
            st_logout_slot(s);
    }
    st_op_clear(&ss->find);
    st_op_clear(&ss->crypto);
    free(ss);
}

/* Closes every session on a slot (token removed, C_CloseAllSessions, C_Finalize). */
void st_session_close_all(CK_SLOT_ID slot)
{
    st_session *ss = g_st.sessions;
    while (ss) {
        st_session *next = ss->next;
        if (ss->slot == slot)
            st_session_free(ss);
        ss = next;
    }
}

/* The PKCS#11 session state from the session's flags and the slot's login. */
CK_STATE st_session_state(const st_session *ss, const st_slot *s)
{
    int rw = (ss->flags & CKF_RW_SESSION) != 0;
    if (s->login == CKU_SO)
        return CKS_RW_SO_FUNCTIONS;
    if (s->login == CKU_USER)
        return rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    return rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
}

/* Forgets the login: wipes the master key and the private scalars, invalidates the handles of
 * private objects, drops private session objects and key operations. */
void st_logout_slot(st_slot *s)
{
    OPENSSL_cleanse(s->master, sizeof s->master);
    s->login = (CK_USER_TYPE)-1;
    free(s->priv_handles); /* next_priv_handle goes on: old handles stay invalid */
    s->priv_handles = NULL;
    s->npriv_handles = 0;
    size_t keep = 0;
    for (size_t i = 0; i < s->nsobj; i++) {
        if (st_obj_bool(&s->sobjs[i], CKA_PRIVATE, 0))
            st_obj_free(&s->sobjs[i]);
        else
            s->sobjs[keep++] = s->sobjs[i];
    }
    s->nsobj = keep;
    for (st_session *ss = g_st.sessions; ss; ss = ss->next)
        if (ss->slot == s->id && (ss->crypto.kind == OP_SIGN))
            st_op_clear(&ss->crypto);
    /* Private scalars exist only while the user is logged in; the rebuilt key pairs keep their
     * group and public point (not secret) for the next login. */
    for (size_t i = 0; i < s->tok.nobj; i++)
        if (st_obj_ulong(&s->tok.objs[i], CKA_CLASS, 0) == CKO_PRIVATE_KEY &&
            s->tok.objs[i].key_cache)
            gost_privkey_wipe(s->tok.objs[i].key_cache);
}
