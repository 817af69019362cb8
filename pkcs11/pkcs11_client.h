/*
 * The PKCS#11 client layer: finds modules (p11-kit registry, configured paths, known vendor
 * modules), lists tokens and certificates, and signs GOST digests on a token.
 */
#ifndef GOSTSIGN_PKCS11_CLIENT_H
#define GOSTSIGN_PKCS11_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "gost.h"

/* A vendor module gostsign knows by name, with the places distributions install it. */
typedef struct {
    const char *vendor;    /* "Aktiv Rutoken", ... */
    const char *file_name; /* "librtpkcs11ecp.so" */
    int preference;        /* higher wins when one token shows through two modules */
} p11_known_module;

/* The built-in table of vendor modules (udev/ hwdb names the module per device). */
const p11_known_module *p11_known_modules(size_t *count);
/* Finds a known module file on this machine; writes its path and returns 1 when present. */
int p11_known_module_locate(const p11_known_module *m, char *path, size_t cap);

/* A module registered with p11-kit (a .module file), read without loading it. */
typedef struct {
    char name[128]; /* the registry name: the .module file's name without ".module" */
    char path[512]; /* the module file */
} p11_registered_module;

/*
 * The modules p11-kit would load, from its config directories (package, /etc/pkcs11/modules, the
 * user's unless root), minus remote ones and those enable-in/disable-in keep from the agent.
 */
size_t p11_registered_modules(p11_registered_module *out, size_t cap);
/* The same from the given directories, a later one replacing a module of the same name. */
size_t p11_registered_modules_in(const char *const *dirs, size_t dir_count,
                                 p11_registered_module *out, size_t cap);

typedef struct {
    size_t module_index;    /* which loaded module serves it */
    uint64_t module_serial; /* which load of that place: a later module there is another one */
    char module_name[256];  /* module file name */
    CK_SLOT_ID slot;
    char label[33], manufacturer[33], model[17], serial[17];
    CK_FLAGS flags;     /* CK_TOKEN_INFO flags: PIN counters, protected path, ... */
    int protected_auth; /* PIN pad: C_Login without a PIN */
    unsigned long min_pin_len, max_pin_len; /* CK_TOKEN_INFO ulMinPinLen / ulMaxPinLen */
} p11_token;

typedef struct {
    size_t token_index; /* index into the token list it came with */
    uint8_t id[64];     /* CKA_ID */
    size_t id_len;
    char label[128];
    uint8_t *der; /* CKA_VALUE of the certificate */
    size_t der_len;
    int has_private_key; /* a private key (or its public half) with the same CKA_ID exists */
} p11_cert;

typedef struct p11_client p11_client;

/*
 * Loads modules: those registered with p11-kit (when use_registry), then each extra path.
 * Modules that fail to load are skipped and reported by p11_client_load_errors(); a client
 * with no module at all is valid (it lists nothing). p11-kit's trust store is skipped.
 */
p11_client *p11_client_open(const char *const *extra_modules, size_t extra_count, int use_registry,
                            gs_status *st);
/*
 * Finalizes every module but keeps them loaded: threads blocked in C_WaitForSlotEvent wake up
 * and can leave the module's code before p11_client_close unloads it. Optional; once only.
 */
void p11_client_finalize(p11_client *c);
/* Finalizes (unless p11_client_finalize did) and unloads every module. */
void p11_client_close(p11_client *c);

/* Number of modules loaded, and a text of the ones that failed (for doctor). */
size_t p11_client_module_count(const p11_client *c);
const char *p11_client_load_errors(const p11_client *c);

/* Present tokens; one physical token seen through two modules is listed once (vendor first). */
gs_code p11_client_tokens(p11_client *c, p11_token **out, size_t *count, gs_status *st);

/* X.509 certificates on the given tokens. Free with p11_certs_free. */
gs_code p11_client_certificates(p11_client *c, const p11_token *tokens, size_t token_count,
                                p11_cert **out, size_t *count, gs_status *st);
void p11_certs_free(p11_cert *certs, size_t count);

/*
 * Signs on the token: logs in (pin == NULL for a PIN pad), finds the private key with the
 * certificate's CKA_ID and signs. With a raw mechanism (CKM_GOSTR3410 / _512) the host-computed
 * digest is signed; otherwise the combined mechanism signs `data`. The result is s||r.
 */
gs_code p11_client_sign(p11_client *c, const p11_token *token, const uint8_t *key_id,
                        size_t key_id_len, int key_bits, const char *pin, size_t pin_len,
                        const uint8_t *data, size_t data_len, const uint8_t *digest,
                        size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st);

/* The function list of loaded module i (for the agent's slot-event monitor); NULL when empty. */
CK_FUNCTION_LIST *p11_client_module(const p11_client *c, size_t i);

/*
 * Loading and unloading while the client runs (the agent loads a module when its device
 * appears). Modules sit in places 0 .. p11_client_module_places() - 1; a place may be empty.
 */
size_t p11_client_module_places(const p11_client *c);
/* Loads (dlopen, so it can be unmapped later) and initializes one module file; returns its
 * place, or -1 (see load errors). */
long p11_client_load_module(p11_client *c, const char *path);
/* The place of a loaded module by file name ("opensc-pkcs11.so"), or -1. */
long p11_client_find_module(p11_client *c, const char *file_name);
/* How many initialized tokens module i shows now (0 when the place is empty). */
size_t p11_client_module_token_count(p11_client *c, size_t i);
/*
 * Takes module i out of the client when no call or session runs on it and it was loaded with
 * p11_client_load_module (returns 0 otherwise). The caller then finalizes it, waits for the
 * threads it has inside the module, and releases it (unmaps it).
 */
typedef struct {
    CK_FUNCTION_LIST *fn;
    void *dl;
} p11_detached_module;
int p11_client_module_detach(p11_client *c, size_t i, p11_detached_module *out);
void p11_detached_finalize(p11_detached_module *d);
void p11_detached_release(p11_detached_module *d);

/*
 * A logged-in session for several signatures after one PIN (batch signing). Open logs in
 * (pin == NULL for a PIN pad); close logs out. Not shared between threads.
 */
typedef struct p11_session p11_session;
p11_session *p11_session_open(p11_client *c, const p11_token *token, const char *pin,
                              size_t pin_len, gs_status *st);
/* Signs one digest (raw mechanism) or, when the token only has it, data (combined mechanism). */
gs_code p11_session_sign(p11_session *s, const uint8_t *key_id, size_t key_id_len, int key_bits,
                         const uint8_t *data, size_t data_len, const uint8_t *digest,
                         size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st);
void p11_session_close(p11_session *s);

/* Maps a CKR_ value to the project's error table (PIN_INCORRECT, TOKEN_REMOVED, ...). */
gs_code p11_rv_to_code(CK_RV rv);

/*
 * PIN care. Change: C_SetPIN in a read-write session (old PIN checked by the token). Unblock:
 * C_Login as the security officer with the SO PIN (PUK), C_InitPIN with the new user PIN (which
 * also resets the user PIN's retry counter), C_Logout. A wrong SO PIN is PIN_INCORRECT.
 */
gs_code p11_client_change_pin(p11_client *c, const p11_token *token, const char *old_pin,
                              size_t old_len, const char *new_pin, size_t new_len, gs_status *st);
gs_code p11_client_unblock_pin(p11_client *c, const p11_token *token, const char *so_pin,
                               size_t so_len, const char *new_pin, size_t new_len, gs_status *st);

/* Reads the token's current flags again (PIN counters change after a failed login). */
gs_code p11_client_refresh_token(p11_client *c, p11_token *token, gs_status *st);

#endif
