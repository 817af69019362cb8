/*
 * PINs and protection at rest.
 *
 * Each token has a random 256-bit master key; private key values are sealed under it with
 * AES-256-GCM (OpenSSL's, chosen because it is in every libcrypto build; the GOST engine's MGM
 * modes are not in the Debian engine's EVP cipher table). The master key is stored twice,
 * sealed under keys derived from the user PIN and the SO PIN with PBKDF2-HMAC-Streebog-512
 * (per-PIN random salt, iteration count in the file), so C_SetPIN/C_InitPIN only rewrap it.
 *
 * Retry counters: each attempt is journaled (store.c's attempt journal, one fdatasync) BEFORE
 * the PIN is checked and cleared only after a successful check, so killing the process
 * mid-login never refunds an attempt; a correct PIN with no earlier failure leaves the token
 * file itself untouched.
 */
#include "softtoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gost.h"

/* AES-256-GCM seal: out = nonce || ciphertext || tag (len + 28 bytes). */
CK_RV st_seal(const uint8_t key[ST_KEY_LEN], const uint8_t *aad, size_t aad_len, const uint8_t *in,
              size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && RAND_bytes(out, ST_NONCE_LEN) == 1 &&
                    EVP_EncryptInit_ex(c, st_aes_gcm(), NULL, key, out) == 1 &&
                    EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1 &&
                    EVP_EncryptUpdate(c, out + ST_NONCE_LEN, &n, in, (int)len) == 1 &&
                    EVP_EncryptFinal_ex(c, out + ST_NONCE_LEN + n, &n) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, ST_TAG_LEN,
                                        out + ST_NONCE_LEN + len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? CKR_OK : CKR_DEVICE_ERROR;
}

/* AES-256-GCM open of st_seal output; CKR_ENCRYPTED_DATA_INVALID when the tag is wrong. */
CK_RV st_unseal(const uint8_t key[ST_KEY_LEN], const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < ST_NONCE_LEN + ST_TAG_LEN)
        return CKR_ENCRYPTED_DATA_INVALID;
    size_t plen = len - ST_NONCE_LEN - ST_TAG_LEN;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_DecryptInit_ex(c, st_aes_gcm(), NULL, key, in) == 1 &&
                    EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1 &&
                    EVP_DecryptUpdate(c, out, &n, in + ST_NONCE_LEN, (int)plen) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ST_TAG_LEN,
                                        (void *)(in + ST_NONCE_LEN + plen)) == 1 &&
                    EVP_DecryptFinal_ex(c, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        OPENSSL_cleanse(out, plen);
    return ok ? CKR_OK : CKR_ENCRYPTED_DATA_INVALID;
}

/* AAD binding a PIN wrap to its role and to this token generation. */
static size_t wrap_aad(const st_token *t, int is_so, uint8_t *aad)
{
    memcpy(aad, is_so ? "gostsign-so-pin" : "gostsign-usrpin", 15);
    memcpy(aad + 15, t->epoch, ST_EPOCH_LEN);
    return 15 + ST_EPOCH_LEN;
}

/* PBKDF2-HMAC-Streebog-512 of the PIN with the wrap's salt. */
static CK_RV derive_kek(const st_token *t, const uint8_t *salt, const uint8_t *pin, size_t pin_len,
                        uint8_t kek[ST_KEY_LEN])
{
    const EVP_MD *md = gost_digest_md(512);
    if (!md || PKCS5_PBKDF2_HMAC((const char *)pin, (int)pin_len, salt, ST_SALT_LEN,
                                 (int)t->kdf_iter, md, ST_KEY_LEN, kek) != 1)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}

/* Seals the master key under a PIN into wrap (salt || nonce || ct || tag). */
static CK_RV wrap_master(const st_token *t, int is_so, const uint8_t *pin, size_t pin_len,
                         const uint8_t master[ST_KEY_LEN], uint8_t wrap[ST_WRAP_LEN])
{
    uint8_t kek[ST_KEY_LEN], aad[64];
    if (RAND_bytes(wrap, ST_SALT_LEN) != 1)
        return CKR_DEVICE_ERROR;
    CK_RV rv = derive_kek(t, wrap, pin, pin_len, kek);
    if (rv == CKR_OK)
        rv = st_seal(kek, aad, wrap_aad(t, is_so, aad), master, ST_KEY_LEN, wrap + ST_SALT_LEN);
    OPENSSL_cleanse(kek, sizeof kek);
    return rv;
}

/* Opens a PIN wrap; CKR_PIN_INCORRECT when the PIN does not fit. */
static CK_RV unwrap_master(const st_token *t, int is_so, const uint8_t *pin, size_t pin_len,
                           uint8_t master[ST_KEY_LEN])
{
    uint8_t kek[ST_KEY_LEN], aad[64];
    const uint8_t *wrap = is_so ? t->so_wrap : t->user_wrap;
    CK_RV rv = derive_kek(t, wrap, pin, pin_len, kek);
    if (rv == CKR_OK && st_unseal(kek, aad, wrap_aad(t, is_so, aad), wrap + ST_SALT_LEN,
                                  ST_WRAP_LEN - ST_SALT_LEN, master) != CKR_OK)
        rv = CKR_PIN_INCORRECT;
    OPENSSL_cleanse(kek, sizeof kek);
    return rv;
}

/* Test hook: lets a test SIGKILL the process right after the decrement reached the disk. */
static void test_pause_after_decrement(void)
{
    const char *v = getenv("GOSTSIGN_SOFTTOKEN_TEST_PAUSE_AFTER_DECREMENT");
    if (v && *v) {
        st_log("test hook: PIN counter decrement is on disk, pausing %s s", v);
        sleep((unsigned)atoi(v));
    }
}

/*
 * Journals one attempt of the role before the PIN is checked (the directory lock held around
 * the read and the write, so concurrent logins add up): CKR_PIN_LOCKED when none is left.
 */
static CK_RV begin_attempt(st_slot *s, int is_so)
{
    if (st_dir_lock(1) != 0)
        return CKR_DEVICE_ERROR;
    uint32_t pending[2];
    CK_RV rv = st_slot_sync(s);
    if (rv == CKR_OK)
        rv = st_attempts_read(s, pending);
    if (rv == CKR_OK && st_tries_left(s, is_so, pending) == 0)
        rv = CKR_PIN_LOCKED;
    if (rv == CKR_OK) {
        pending[is_so ? 1 : 0]++;
        rv = st_attempts_write(s, pending, 1);
    }
    st_dir_unlock();
    return rv;
}

/*
 * After a correct PIN: clears the role's journaled attempts, and rewrites the token file only
 * when its own counter is below the maximum (a file written before the journal existed).
 */
static CK_RV end_attempt_success(st_slot *s, int is_so)
{
    CK_RV rv = st_slot_begin_write(s);
    if (rv != CKR_OK)
        return rv;
    uint32_t pending[2];
    rv = st_attempts_read(s, pending);
    if (rv == CKR_OK && pending[is_so ? 1 : 0] != 0) {
        pending[is_so ? 1 : 0] = 0;
        rv = st_attempts_write(s, pending, 0);
    }
    uint32_t *tries = is_so ? &s->tok.so_tries : &s->tok.user_tries;
    if (rv == CKR_OK && *tries != ST_MAX_TRIES) {
        *tries = ST_MAX_TRIES;
        return st_slot_end_write(s, CKR_OK);
    }
    st_dir_unlock();
    return rv;
}

/*
 * Checks a PIN against the token with the persistent retry counter: the attempt is journaled
 * first, then the (slow) PBKDF2, then the journal cleared on success. Leaves the master key in
 * master on success.
 */
static CK_RV verify_pin(st_slot *s, int is_so, const uint8_t *pin, size_t pin_len,
                        uint8_t master[ST_KEY_LEN])
{
    CK_RV rv = begin_attempt(s, is_so);
    if (rv != CKR_OK)
        return rv;
    test_pause_after_decrement();
    rv = unwrap_master(&s->tok, is_so, pin, pin_len, master);
    if (rv != CKR_OK)
        return rv;
    rv = end_attempt_success(s, is_so);
    if (rv != CKR_OK)
        OPENSSL_cleanse(master, ST_KEY_LEN);
    return rv;
}

/* PIN length check shared by the PIN-setting calls. */
static CK_RV pin_len_ok(const CK_UTF8CHAR *pin, CK_ULONG len)
{
    if (!pin)
        return CKR_ARGUMENTS_BAD;
    return len < ST_MIN_PIN || len > ST_MAX_PIN ? CKR_PIN_LEN_RANGE : CKR_OK;
}

/* Checks that the user type can log in now, given the slot's state. */
static CK_RV login_allowed(st_slot *s, CK_USER_TYPE who)
{
    if (who == CKU_CONTEXT_SPECIFIC)
        return CKR_OPERATION_NOT_INITIALIZED;
    if (who != CKU_USER && who != CKU_SO)
        return CKR_USER_TYPE_INVALID;
    if (s->login == who)
        return CKR_USER_ALREADY_LOGGED_IN;
    if (s->login != (CK_USER_TYPE)-1)
        return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    if (who == CKU_USER && !s->tok.user_pin_set)
        return CKR_USER_PIN_NOT_INITIALIZED;
    if (who == CKU_SO && st_slot_has_sessions(s->id, 1))
        return CKR_SESSION_READ_ONLY_EXISTS;
    return CKR_OK;
}

/* C_Login for CKU_USER and CKU_SO, with the persistent retry counter. */
CK_RV st_login(CK_SESSION_HANDLE h, CK_USER_TYPE who, const CK_UTF8CHAR *pin, CK_ULONG len)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && !pin)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK)
        rv = login_allowed(s, who);
    if (rv == CKR_OK) /* no PIN of that length exists: refused before it costs a retry */
        rv = pin_len_ok(pin, len);
    if (rv != CKR_OK)
        return rv;
    uint8_t master[ST_KEY_LEN];
    rv = verify_pin(s, who == CKU_SO, pin, len, master);
    if (rv == CKR_OK) {
        memcpy(s->master, master, ST_KEY_LEN);
        memcpy(s->login_epoch, s->tok.epoch, ST_EPOCH_LEN);
        s->login = who;
    }
    OPENSSL_cleanse(master, sizeof master);
    return rv;
}

/* C_Logout: ends the login of the session's slot. */
CK_RV st_logout(CK_SESSION_HANDLE h)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && s->login == (CK_USER_TYPE)-1)
        rv = CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK)
        st_logout_slot(s);
    return rv;
}

/* Iteration count for new tokens; GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS lowers it for tests. */
static uint32_t kdf_iterations(void)
{
    const char *v = getenv("GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS");
    long n = v ? atol(v) : 0;
    return n > 0 && n < 100000000 ? (uint32_t)n : ST_DEFAULT_ITER;
}

/* Fresh token contents: new master key and epoch, no objects, SO PIN wrap, no user PIN. */
static CK_RV fresh_token(st_token *t, const char *label32, const CK_UTF8CHAR *so_pin,
                         CK_ULONG so_len, const char *serial)
{
    uint8_t master[ST_KEY_LEN];
    memset(t, 0, sizeof *t);
    memcpy(t->label, label32, sizeof t->label);
    st_pad(t->serial, sizeof t->serial, serial);
    t->user_tries = t->so_tries = ST_MAX_TRIES;
    t->kdf_iter = kdf_iterations();
    t->next_uid = 1;
    CK_RV rv = RAND_bytes(t->epoch, ST_EPOCH_LEN) == 1 && RAND_bytes(master, ST_KEY_LEN) == 1
                   ? CKR_OK
                   : CKR_DEVICE_ERROR;
    if (rv == CKR_OK)
        rv = wrap_master(t, 1, so_pin, so_len, master, t->so_wrap);
    OPENSSL_cleanse(master, sizeof master);
    return rv;
}

/* C_InitToken on the spare slot: a new token file named after a random serial. */
static CK_RV init_new_token(st_slot *s, const CK_UTF8CHAR *pin, CK_ULONG len, const char *label)
{
    uint8_t rnd[8];
    char serial[17], name[64];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return CKR_DEVICE_ERROR;
    gost_hex(rnd, sizeof rnd, serial);
    snprintf(name, sizeof name, "%s%s", serial, ST_TOKEN_SUFFIX);
    st_token t;
    CK_RV rv = fresh_token(&t, label, pin, len, serial);
    if (rv != CKR_OK)
        return rv;
    s->kind = SLOT_FILE;
    s->name = strdup(name);
    s->tok = t;
    s->loaded = 1;
    if (!s->name || st_dir_lock(1) != 0) {
        st_token_free(&s->tok);
        s->kind = SLOT_EMPTY_SPARE;
        s->loaded = 0;
        return CKR_DEVICE_ERROR;
    }
    rv = st_slot_end_write(s, CKR_OK);
    st_slots_rescan(); /* adds the next spare slot */
    return rv;
}

/* C_InitToken on an existing token: SO PIN checked (with counter), then everything erased. */
static CK_RV reinit_token(st_slot *s, const CK_UTF8CHAR *pin, CK_ULONG len, const char *label)
{
    if (st_slot_has_sessions(s->id, 0))
        return CKR_SESSION_EXISTS;
    uint8_t master[ST_KEY_LEN];
    CK_RV rv = verify_pin(s, 1, pin, len, master);
    OPENSSL_cleanse(master, sizeof master);
    if (rv != CKR_OK)
        return rv;
    rv = st_slot_begin_write(s);
    if (rv != CKR_OK)
        return rv;
    st_token t;
    char serial[17];
    memcpy(serial, s->tok.serial, 16);
    serial[16] = 0;
    rv = fresh_token(&t, label, pin, len, serial);
    if (rv == CKR_OK) {
        st_token_free(&s->tok);
        s->tok = t;
    }
    return st_slot_end_pin_write(s, rv);
}

/* C_InitToken: creates a token in the spare slot or re-initialises one (never a damaged one). */
CK_RV st_init_token(CK_SLOT_ID id, const CK_UTF8CHAR *pin, CK_ULONG len, const CK_UTF8CHAR *label)
{
    st_slots_rescan();
    st_slot *s = st_slot_get(id);
    if (!s)
        return CKR_SLOT_ID_INVALID;
    if (!label)
        return CKR_ARGUMENTS_BAD;
    if (!s->present)
        return CKR_TOKEN_NOT_PRESENT;
    CK_RV rv = pin_len_ok(pin, len);
    if (rv != CKR_OK)
        return rv;
    if (s->kind == SLOT_EMPTY_SPARE)
        return init_new_token(s, pin, len, (const char *)label);
    rv = st_slot_sync(s);
    return rv == CKR_OK ? reinit_token(s, pin, len, (const char *)label) : rv;
}

/* The SO's C_InitPIN unblocks the user PIN: its journaled attempts go too (lock held). */
static CK_RV clear_user_attempts(st_slot *s, CK_RV rv)
{
    uint32_t pending[2];
    if (rv == CKR_OK)
        rv = st_attempts_read(s, pending);
    if (rv == CKR_OK && pending[0] != 0) {
        pending[0] = 0;
        rv = st_attempts_write(s, pending, 1);
    }
    return rv;
}

/* C_InitPIN: the SO sets (or resets, unblocking) the user PIN. */
CK_RV st_init_pin(CK_SESSION_HANDLE h, const CK_UTF8CHAR *pin, CK_ULONG len)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && s->login != CKU_SO)
        rv = CKR_USER_NOT_LOGGED_IN;
    if (rv == CKR_OK && !(ss->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    if (rv == CKR_OK)
        rv = pin_len_ok(pin, len);
    if (rv == CKR_OK && (rv = st_slot_begin_write(s)) == CKR_OK) {
        rv = wrap_master(&s->tok, 0, pin, len, s->master, s->tok.user_wrap);
        s->tok.user_pin_set = 1;
        s->tok.user_tries = ST_MAX_TRIES;
        rv = clear_user_attempts(s, rv);
        rv = st_slot_end_pin_write(s, rv);
    }
    return rv;
}

/* C_SetPIN: the logged-in SO changes the SO PIN, anyone else the user PIN (old PIN checked). */
CK_RV st_set_pin(CK_SESSION_HANDLE h, const CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                 const CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
    st_session *ss;
    st_slot *s;
    CK_RV rv = st_session_check(h, &ss, &s);
    if (rv == CKR_OK && !(ss->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    if (rv == CKR_OK) /* before verify_pin counts a retry */
        rv = pin_len_ok(old_pin, old_len);
    if (rv == CKR_OK)
        rv = pin_len_ok(new_pin, new_len);
    int is_so = rv == CKR_OK && s->login == CKU_SO;
    if (rv == CKR_OK && !is_so && !s->tok.user_pin_set)
        rv = CKR_USER_PIN_NOT_INITIALIZED;
    uint8_t master[ST_KEY_LEN];
    if (rv == CKR_OK)
        rv = verify_pin(s, is_so, old_pin, old_len, master);
    if (rv == CKR_OK && (rv = st_slot_begin_write(s)) == CKR_OK) {
        rv = wrap_master(&s->tok, is_so, new_pin, new_len, master,
                         is_so ? s->tok.so_wrap : s->tok.user_wrap);
        rv = st_slot_end_pin_write(s, rv);
    }
    OPENSSL_cleanse(master, sizeof master);
    return rv;
}
