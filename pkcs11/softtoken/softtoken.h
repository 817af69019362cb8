/*
 * gostsign-softtoken: internal interfaces shared by the module's files (private to this folder).
 *
 * The module keeps one global state (g_st, state.c) guarded by one pthread mutex; every C_
 * entry point (p11_*.c) takes the lock through st_enter()/st_leave(). Tokens are files in a
 * directory (store.c), one file per slot (slots.c); sessions (session_table.c, session.c),
 * objects (attrs.c, templates.c, objects.c), mechanisms (mech.c, keygen.c) and PINs (pin.c)
 * work on the in-memory copy, which is reloaded whenever the file changes.
 */
#ifndef GOSTSIGN_SOFTTOKEN_H
#define GOSTSIGN_SOFTTOKEN_H

#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

/* PKCS#11 3.0 interface discovery (C_GetInterfaceList, C_GetInterface), which Debian 12's
 * p11-kit headers (0.24) predate: the layout and flag value of the 3.0 specification. */
#ifndef CKF_INTERFACE_FORK_SAFE
typedef struct CK_INTERFACE {
    CK_CHAR *pInterfaceName;
    CK_VOID_PTR pFunctionList;
    CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL
#endif

/* The vendor interface "gostsign softtoken" (C_GetInterface), for gostsign's own tools. Like a
 * PKCS#11 function list it starts with its version (1.0). */
#define ST_VENDOR_INTERFACE "gostsign softtoken"
typedef struct {
    CK_VERSION version;
    /* Restores the slot's damaged token file from its previous good copy (README). */
    CK_RV (*repair_token)(CK_SLOT_ID slot);
} st_vendor_functions;

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount);
CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags);

#include <openssl/evp.h>

#include "gost.h"

/* ---- limits and constants ---- */
#define ST_MIN_PIN         4
#define ST_MAX_PIN         64
#define ST_MAX_TRIES       10
#define ST_KEY_LEN         32 /* token master key and PIN-derived key: AES-256 */
#define ST_SALT_LEN        16
#define ST_NONCE_LEN       12
#define ST_TAG_LEN         16
#define ST_WRAP_LEN        (ST_SALT_LEN + ST_NONCE_LEN + ST_KEY_LEN + ST_TAG_LEN)
#define ST_DEFAULT_ITER    200000
#define ST_EPOCH_LEN       16
#define ST_SESSION_OBJ_BIT 0x80000000UL
#define ST_PRIVATE_OBJ_BIT 0x40000000UL /* a private token object's handle for one login */
#define ST_HANDLE_BITS     (ST_SESSION_OBJ_BIT | ST_PRIVATE_OBJ_BIT)
#define ST_TOKEN_SUFFIX    ".token"

/* Vendor-internal attribute that never leaves the module: the encrypted private value. */
#define ST_CKA_SEALED_VALUE (CKA_VENDOR_DEFINED | 0x6773UL)

/* ---- objects ---- */
typedef struct {
    CK_ATTRIBUTE_TYPE type;
    CK_ULONG len;
    uint8_t *val;
} st_attr;

typedef struct st_object {
    CK_OBJECT_HANDLE handle;
    CK_SESSION_HANDLE owner; /* 0 for token objects */
    size_t nattr;
    st_attr *attrs;
    EVP_PKEY *key_cache; /* the key rebuilt for signing/verifying; memory only, dropped at
                            logout (private keys) and when the object is freed or reloaded */
} st_object;

/* ---- a token, as loaded from its file ---- */
typedef struct {
    char label[32]; /* blank padded, as CK_TOKEN_INFO */
    char serial[16];
    uint8_t epoch[ST_EPOCH_LEN]; /* changes on C_InitToken: cached logins become invalid */
    uint32_t user_pin_set;
    uint32_t user_tries, so_tries;
    uint32_t kdf_iter;
    uint8_t user_wrap[ST_WRAP_LEN];
    uint8_t so_wrap[ST_WRAP_LEN];
    uint32_t next_uid;
    size_t nobj;
    st_object *objs;
} st_token;

/* Identity of a file version, to notice other processes' writes. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    long mtime_sec, mtime_nsec;
} st_file_id;

typedef enum { SLOT_EMPTY_SPARE, SLOT_FILE } st_slot_kind;

/* A handle given out for a private token object during the current login. */
typedef struct {
    CK_OBJECT_HANDLE handle;
    CK_OBJECT_HANDLE uid; /* the object's persistent id in the file */
} st_priv_handle;

typedef struct {
    CK_SLOT_ID id;
    st_slot_kind kind;
    char *name; /* file name inside the token directory (SLOT_FILE) */
    int present;
    int reported_present; /* presence last reported by C_WaitForSlotEvent */
    int corrupt;          /* file exists but could not be parsed */
    st_file_id fid;
    st_token tok;
    int loaded;
    CK_USER_TYPE login; /* (CK_ULONG)-1 when nobody is logged in */
    uint8_t master[ST_KEY_LEN];
    uint8_t login_epoch[ST_EPOCH_LEN];
    CK_ULONG next_session_obj;
    st_priv_handle *priv_handles; /* forgotten at logout: those handles never work again */
    size_t npriv_handles;
    CK_ULONG next_priv_handle;
    size_t nsobj; /* session objects of all sessions on this slot */
    st_object *sobjs;
} st_slot;

/* ---- sessions ---- */
typedef enum { OP_NONE, OP_FIND, OP_SIGN, OP_VERIFY, OP_DIGEST } st_op_kind;

typedef struct {
    st_op_kind kind;
    CK_MECHANISM_TYPE mech;
    EVP_PKEY *key;
    EVP_MD_CTX *md;
    int bits;                     /* key size, or digest size for digests */
    int multipart;                /* C_*Update has been called */
    uint8_t buf[GOST_MAX_DIGEST]; /* raw-mechanism input collected by C_*Update */
    size_t buflen;
    CK_OBJECT_HANDLE *found;
    size_t nfound, pos;
} st_op;

typedef struct st_session {
    CK_SESSION_HANDLE handle;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    st_op find, crypto; /* find can run alongside one crypto operation */
    struct st_session *next;
} st_session;

/* ---- global state ---- */
typedef struct {
    int initialized;
    int inherited; /* a fork child's copy of the parent's state, until its C_Initialize */
    pthread_mutex_t lock;
    char *dir;
    int dirfd;
    size_t nslots;
    st_slot **slots; /* pointers stay valid while slots are added */
    CK_SLOT_ID next_slot_id;
    st_session *sessions;
    CK_SESSION_HANDLE next_session;
    int inotify_fd;
    int wake_pipe[2];
    int waiters;
} st_state;

extern st_state g_st;

/*
 * ---- the internal layers, bottom to top; a file calls only files listed above it ----
 * The entry files p11_global.c, p11_session.c, p11_object.c and p11_crypto.c sit on top: each
 * C_* checks its arguments, st_enter(), one st_* call from below, st_leave(). Nothing below
 * them calls a C_* function or takes the lock.
 */

/* state.c: the global state, its lock, lookups, logging, the gs_code -> CKR_* mapping */
CK_RV st_enter(void);
void st_enter_any(void);
void st_leave(void);
void st_watch_forks(void);
void st_poll_unlocked(struct pollfd *fds, nfds_t n);
void st_wait_for_sleepers(void);
void st_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void st_pad(char *dst, size_t len, const char *src);
CK_RV st_rv_from(const gs_status *gst, const char *fn);
st_slot *st_slot_get(CK_SLOT_ID id);
st_session *st_session_get(CK_SESSION_HANDLE h);
int st_slot_has_sessions(CK_SLOT_ID slot, int read_only_only);
const EVP_CIPHER *st_aes_gcm(void); /* AES-256-GCM, fetched once; st_crypto_release at the end */
void st_crypto_release(void);

/* attrs.c: attribute storage of one object */
st_attr *st_obj_attr(const st_object *o, CK_ATTRIBUTE_TYPE t);
int st_obj_bool(const st_object *o, CK_ATTRIBUTE_TYPE t, int dflt);
CK_ULONG st_obj_ulong(const st_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG dflt);
CK_RV st_obj_set(st_object *o, CK_ATTRIBUTE_TYPE t, const void *v, CK_ULONG len);
void st_obj_unset(st_object *o, CK_ATTRIBUTE_TYPE t);
void st_obj_free(st_object *o);

/* format.c: the token file format */
CK_RV st_token_parse(const uint8_t *data, size_t len, st_token *tok);
CK_RV st_token_serialise(const st_token *t, uint8_t **out, size_t *len);
void st_token_free(st_token *tok);

/* store.c: token files: atomic writes, loading, the directory lock, recovery */
int st_dir_lock(int exclusive);
void st_dir_unlock(void);
typedef enum { ST_KEEP_PREVIOUS, ST_FORGET_PREVIOUS } st_previous;
CK_RV st_token_save(st_slot *s, st_previous keep);
CK_RV st_token_repair(const char *name);
void st_clean_stale_temps(void);
CK_RV st_token_load(st_slot *s);
int st_file_stat(const char *name, st_file_id *fid);
CK_RV st_attempts_read(const st_slot *s, uint32_t pending[2]);
CK_RV st_attempts_write(const st_slot *s, const uint32_t pending[2], int durable);
uint32_t st_tries_left(const st_slot *s, int is_so, const uint32_t pending[2]);

/* session_table.c: the session table and the login its sessions share */
void st_op_clear(st_op *op);
CK_RV st_session_new(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE *h);
void st_session_free(st_session *ss);
void st_session_close_all(CK_SLOT_ID slot);
CK_STATE st_session_state(const st_session *ss, const st_slot *s);
void st_logout_slot(st_slot *s);

/* slots.c: the token directory, slots, presence, the write bracket, start and end */
void st_slots_rescan(void);
CK_RV st_slot_sync(st_slot *s);
CK_RV st_slot_begin_write(st_slot *s);
CK_RV st_slot_end_write(st_slot *s, CK_RV rv);
CK_RV st_slot_end_pin_write(st_slot *s, CK_RV rv);
CK_RV st_slot_repair(CK_SLOT_ID id);
CK_RV st_initialize(void);
void st_finalize(void);
CK_RV st_slot_wait_event(CK_FLAGS flags, CK_SLOT_ID *slot);

/* info.c: library, slot and token information */
void st_library_info(CK_INFO *info);
CK_RV st_slot_list(CK_BBOOL token_present, CK_SLOT_ID *list, CK_ULONG *count);
CK_RV st_slot_info(CK_SLOT_ID id, CK_SLOT_INFO *info);
CK_RV st_token_info(CK_SLOT_ID id, CK_TOKEN_INFO *info);

/* session.c: sessions on their slot */
CK_RV st_session_check(CK_SESSION_HANDLE h, st_session **out, st_slot **slot);
CK_RV st_session_open(CK_SLOT_ID id, CK_FLAGS flags, CK_SESSION_HANDLE *h);
CK_RV st_session_close(CK_SESSION_HANDLE h);
CK_RV st_session_close_slot(CK_SLOT_ID id);
CK_RV st_session_info(CK_SESSION_HANDLE h, CK_SESSION_INFO *info);

/* pin.c: sealing, PIN wraps and retry counters, login, token and PIN initialisation */
CK_RV st_seal(const uint8_t key[ST_KEY_LEN], const uint8_t *aad, size_t aad_len, const uint8_t *in,
              size_t len, uint8_t *out);
CK_RV st_unseal(const uint8_t key[ST_KEY_LEN], const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, uint8_t *out);
CK_RV st_login(CK_SESSION_HANDLE h, CK_USER_TYPE who, const CK_UTF8CHAR *pin, CK_ULONG len);
CK_RV st_logout(CK_SESSION_HANDLE h);
CK_RV st_init_token(CK_SLOT_ID id, const CK_UTF8CHAR *pin, CK_ULONG len, const CK_UTF8CHAR *label);
CK_RV st_init_pin(CK_SESSION_HANDLE h, const CK_UTF8CHAR *pin, CK_ULONG len);
CK_RV st_set_pin(CK_SESSION_HANDLE h, const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                 const CK_UTF8CHAR *new_pin, CK_ULONG new_len);

/* templates.c: the attribute policy, templates, defaults, key checks */
CK_RV st_template_apply(st_object *o, const CK_ATTRIBUTE *t, CK_ULONG n, int creating);
CK_RV st_template_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS *cls);
CK_RV st_obj_template_wants_token(const CK_ATTRIBUTE *t, CK_ULONG n, int *is_token, int *is_private,
                                  CK_OBJECT_CLASS cls);
CK_RV st_key_paramset(const st_object *o, const gost_paramset **out);
CK_RV st_obj_check_key(st_object *o, CK_KEY_TYPE kt, CK_OBJECT_CLASS cls);
CK_RV st_obj_seal_private(st_slot *s, st_object *o, const uint8_t *raw, size_t len);
CK_RV st_obj_unseal_private(const st_slot *s, const st_object *o, uint8_t *raw, size_t len);
CK_RV st_obj_pub_defaults(st_object *o, int local, CK_MECHANISM_TYPE gen);
CK_RV st_obj_priv_defaults(st_object *o, int local, CK_MECHANISM_TYPE gen);
CK_RV st_obj_build(st_slot *s, st_object *o, CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t,
                   CK_ULONG n);

/* objects.c: lookup, visibility, storing, and the object management calls */
CK_RV st_obj_handle(st_slot *s, const st_object *o, CK_OBJECT_HANDLE *out);
st_object *st_obj_find(st_slot *s, CK_OBJECT_HANDLE h);
int st_obj_visible(const st_slot *s, const st_object *o);
CK_RV st_obj_store(st_slot *s, st_session *ss, st_object *o, const int *is_token, size_t n,
                   CK_OBJECT_HANDLE *h);
CK_RV st_object_create(CK_SESSION_HANDLE h, const CK_ATTRIBUTE *t, CK_ULONG n,
                       CK_OBJECT_HANDLE *out);
CK_RV st_object_destroy(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj);
CK_RV st_attributes_get(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *t, CK_ULONG n);
CK_RV st_attributes_set(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, const CK_ATTRIBUTE *t,
                        CK_ULONG n);
CK_RV st_find_init(CK_SESSION_HANDLE h, const CK_ATTRIBUTE *t, CK_ULONG n);
CK_RV st_find_next(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count);
CK_RV st_find_final(CK_SESSION_HANDLE h);

/* keygen.c: GOST key-pair generation */
CK_RV st_generate_key_pair(CK_SESSION_HANDLE h, const CK_MECHANISM *m, const CK_ATTRIBUTE *pt,
                           CK_ULONG pn, const CK_ATTRIBUTE *kt, CK_ULONG kn, CK_OBJECT_HANDLE *pub,
                           CK_OBJECT_HANDLE *priv);

/* mech.c: mechanisms, signing, verification, digests, random */
CK_RV st_mechanism_list(CK_SLOT_ID id, CK_MECHANISM_TYPE *list, CK_ULONG *count);
CK_RV st_mechanism_info(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info);
CK_RV st_login_with_keys(CK_SESSION_HANDLE h, CK_USER_TYPE who, const CK_UTF8CHAR *pin,
                         CK_ULONG len);
CK_RV st_op_init(CK_SESSION_HANDLE h, const CK_MECHANISM *m, CK_OBJECT_HANDLE key, st_op_kind kind);
CK_RV st_op_feed(CK_SESSION_HANDLE h, st_op_kind kind, const CK_BYTE *part, CK_ULONG len);
CK_RV st_sign(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, CK_BYTE *sig,
              CK_ULONG *sig_len);
CK_RV st_sign_final(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *sig_len);
CK_RV st_verify(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, const CK_BYTE *sig,
                CK_ULONG sig_len);
CK_RV st_verify_final(CK_SESSION_HANDLE h, const CK_BYTE *sig, CK_ULONG sig_len);
CK_RV st_digest_init(CK_SESSION_HANDLE h, const CK_MECHANISM *m);
CK_RV st_digest(CK_SESSION_HANDLE h, const CK_BYTE *data, CK_ULONG len, CK_BYTE *out,
                CK_ULONG *out_len);
CK_RV st_digest_final(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len);
CK_RV st_generate_random(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG len);
CK_RV st_seed_random(CK_SESSION_HANDLE h, const CK_BYTE *seed, CK_ULONG len);

#endif
