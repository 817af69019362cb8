/*
 * gostsign-softtoken through its PKCS#11 function list (dlopen, as applications load it):
 * token life cycle, PIN counter flags, session-state and template errors, attribute size
 * queries, digests against the RFC 6986 vectors, sign/verify (checked independently with the
 * engine), removal, corruption, C_WaitForSlotEvent and multi-threaded use.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#include "gost.h"

static CK_FUNCTION_LIST_PTR F;
static void *module; /* the dlopen handle */
static char dir[256];
static CK_SLOT_ID slot;
static CK_UTF8CHAR SO_PIN[] = "87654321";
static CK_UTF8CHAR USER_PIN[] = "12345678";
static CK_UTF8CHAR BAD_PIN[] = "00000000";
#define PLEN(p) (sizeof(p) - 1)

/* RFC 6986 M1 and its Streebog-256 / -512 digests (output byte order). */
static const char M1[] = "012345678901234567890123456789012345678901234567890123456789012";
static const char M1_256[] = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500";
static const char M1_512[] = "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
                             "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48";

/* Loads the module named by $SOFTTOKEN_MODULE once for all tests. */
static int load_module(void **state)
{
    (void)state;
    const char *path = getenv("SOFTTOKEN_MODULE");
    void *h = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    module = h;
    CK_C_GetFunctionList gfl = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
    if (!gfl || gfl(&F) != CKR_OK)
        return -1;
    gs_status st;
    return gost_init(&st) == GS_ERR_OK ? 0 : -1;
}

/* Returns the ID of the spare (uninitialised) slot: the last one listed. */
static CK_SLOT_ID spare_slot(void)
{
    CK_SLOT_ID ids[16];
    CK_ULONG n = 16;
    assert_int_equal(F->C_GetSlotList(CK_FALSE, ids, &n), CKR_OK);
    assert_true(n >= 1);
    return ids[n - 1];
}

/* Path of the only token file of the test directory. */
static void token_path(char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.token", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    out[strcspn(out, "\n")] = 0;
    pclose(p);
}

/* Fresh directory, initialised token with SO and user PINs; leaves no session open. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/st-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    setenv("GOSTSIGN_SOFTTOKEN_DIR", dir, 1);
    setenv("GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS", "1000", 1);
    CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
    if (F->C_Initialize(&args) != CKR_OK)
        return -1;
    slot = spare_slot();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof label);
    memcpy(label, "unit", 4);
    if (F->C_InitToken(slot, SO_PIN, PLEN(SO_PIN), label) != CKR_OK)
        return -1;
    CK_SESSION_HANDLE s;
    if (F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK ||
        F->C_Login(s, CKU_SO, SO_PIN, PLEN(SO_PIN)) != CKR_OK ||
        F->C_InitPIN(s, USER_PIN, PLEN(USER_PIN)) != CKR_OK || F->C_CloseSession(s) != CKR_OK)
        return -1;
    return 0;
}

/* Finalises and removes the directory. */
static int teardown(void **state)
{
    (void)state;
    F->C_Finalize(NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Opens an R/W session, optionally logged in as the user. */
static CK_SESSION_HANDLE open_rw(int login)
{
    CK_SESSION_HANDLE s;
    assert_int_equal(F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
                     CKR_OK);
    if (login)
        assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    return s;
}

/* Token flags of the test slot. */
static CK_FLAGS token_flags(void)
{
    CK_TOKEN_INFO ti;
    assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_OK);
    return ti.flags;
}

/* Generates a key pair on the token; bits 256 (paramset CryptoPro-A, as pkcs11-tool "256:B"). */
static void gen_pair(CK_SESSION_HANDLE s, int bits, CK_BBOOL token, CK_OBJECT_HANDLE *pub,
                     CK_OBJECT_HANDLE *priv)
{
    static const uint8_t p256[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    static const uint8_t p512[] = {
        0x06, 0x09, 0x2a, 0x85, 0x03, 0x07, 0x01, 0x02, 0x01, 0x02, 0x01
    };
    CK_MECHANISM m = { bits == 512 ? CKM_GOSTR3410_512_KEY_PAIR_GEN : CKM_GOSTR3410_KEY_PAIR_GEN,
                       NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_GOSTR3410_PARAMS, (void *)(bits == 512 ? p512 : p256),
                            bits == 512 ? sizeof p512 : sizeof p256 },
                          { CKA_TOKEN, &token, sizeof token } };
    CK_ATTRIBUTE kt[] = { { CKA_TOKEN, &token, sizeof token } };
    assert_int_equal(F->C_GenerateKeyPair(s, &m, pt, 2, kt, 1, pub, priv), CKR_OK);
}

/* Library life cycle errors. */
static void test_init_errors(void **state)
{
    (void)state;
    CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
    assert_int_equal(F->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    CK_INFO info;
    assert_int_equal(F->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_ULONG n = 0;
    assert_int_equal(F->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
    assert_int_equal(F->C_GetInfo(&info), CKR_OK);
    assert_int_equal(info.cryptokiVersion.major, 2);
    assert_int_equal(info.cryptokiVersion.minor, 40);
}

/* Session state errors: login twice, not logged in, read-only session, SO with RO session. */
static void test_session_state(void **state)
{
    (void)state;
    CK_SESSION_HANDLE ro, rw;
    assert_int_equal(F->C_OpenSession(slot, 0, NULL, NULL, &ro),
                     CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    assert_int_equal(F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    assert_int_equal(F->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(F->C_Login(ro, CKU_SO, SO_PIN, PLEN(SO_PIN)), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(F->C_Login(ro, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    assert_int_equal(F->C_Login(ro, CKU_USER, USER_PIN, PLEN(USER_PIN)),
                     CKR_USER_ALREADY_LOGGED_IN);
    CK_SESSION_INFO si;
    assert_int_equal(F->C_GetSessionInfo(ro, &si), CKR_OK);
    assert_int_equal(si.state, CKS_RO_USER_FUNCTIONS);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM m = { CKM_GOSTR3410_KEY_PAIR_GEN, NULL, 0 };
    CK_BBOOL t = CK_TRUE;
    CK_ATTRIBUTE tok = { CKA_TOKEN, &t, sizeof t };
    assert_int_equal(F->C_GenerateKeyPair(ro, &m, &tok, 1, &tok, 1, &pub, &priv),
                     CKR_SESSION_READ_ONLY);
    assert_int_equal(F->C_Logout(ro), CKR_OK);
    rw = open_rw(0);
    assert_int_equal(F->C_GenerateKeyPair(rw, &m, &tok, 1, &tok, 1, &pub, &priv),
                     CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(F->C_CloseSession(rw), CKR_OK);
    assert_int_equal(F->C_CloseSession(rw), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(F->C_Login(ro, CKU_CONTEXT_SPECIFIC + 7, USER_PIN, PLEN(USER_PIN)),
                     CKR_USER_TYPE_INVALID);
    assert_int_equal(F->C_CloseAllSessions(slot), CKR_OK);
    assert_int_equal(F->C_GetSessionInfo(ro, &si), CKR_SESSION_HANDLE_INVALID);
}

/* Wrong PINs: COUNT_LOW after one, FINAL_TRY at one left, LOCKED at zero; the SO unblocks. */
static void test_pin_counter(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(0);
    assert_false(token_flags() & CKF_USER_PIN_COUNT_LOW);
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(F->C_Login(s, CKU_USER, BAD_PIN, PLEN(BAD_PIN)), CKR_PIN_INCORRECT);
        CK_FLAGS f = token_flags();
        assert_true(f & CKF_USER_PIN_COUNT_LOW || i == 10);
        assert_int_equal(!!(f & CKF_USER_PIN_FINAL_TRY), i == 9);
        assert_int_equal(!!(f & CKF_USER_PIN_LOCKED), i == 10);
    }
    assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_PIN_LOCKED);
    assert_int_equal(F->C_Login(s, CKU_SO, SO_PIN, PLEN(SO_PIN)), CKR_OK);
    assert_int_equal(F->C_InitPIN(s, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_false(token_flags() & (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW));
    /* A success restores the counter. */
    assert_int_equal(F->C_Login(s, CKU_USER, BAD_PIN, PLEN(BAD_PIN)), CKR_PIN_INCORRECT);
    assert_true(token_flags() & CKF_USER_PIN_COUNT_LOW);
    assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    assert_false(token_flags() & CKF_USER_PIN_COUNT_LOW);
    /* C_SetPIN rewraps: the old PIN stops working, the new one works. */
    static CK_UTF8CHAR NEW_PIN[] = "11112222";
    assert_int_equal(F->C_SetPIN(s, USER_PIN, PLEN(USER_PIN), NEW_PIN, 3), CKR_PIN_LEN_RANGE);
    assert_int_equal(F->C_SetPIN(s, USER_PIN, PLEN(USER_PIN), NEW_PIN, PLEN(NEW_PIN)), CKR_OK);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_PIN_INCORRECT);
    assert_int_equal(F->C_Login(s, CKU_USER, NEW_PIN, PLEN(NEW_PIN)), CKR_OK);
    F->C_CloseSession(s);
}

/* Template errors for C_CreateObject. */
static void test_template_errors(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE, bogus = 0x7777;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_BBOOL t = CK_TRUE;
    uint32_t small = 1;
    CK_OBJECT_HANDLE h;
    CK_ATTRIBUTE no_class[] = { { CKA_LABEL, "x", 1 } };
    assert_int_equal(F->C_CreateObject(s, no_class, 1, &h), CKR_TEMPLATE_INCOMPLETE);
    CK_ATTRIBUTE bad_class[] = { { CKA_CLASS, &bogus, sizeof bogus } };
    assert_int_equal(F->C_CreateObject(s, bad_class, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE bad_type[] = { { CKA_CLASS, &data, sizeof data }, { CKA_MODULUS, "x", 1 } };
    assert_int_equal(F->C_CreateObject(s, bad_type, 2, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    CK_ATTRIBUTE bad_bool[] = { { CKA_CLASS, &data, sizeof data }, { CKA_TOKEN, &small, 4 } };
    assert_int_equal(F->C_CreateObject(s, bad_bool, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE two_classes[] = { { CKA_CLASS, &data, sizeof data },
                                   { CKA_CLASS, &cert, sizeof cert } };
    assert_int_equal(F->C_CreateObject(s, two_classes, 2, &h), CKR_TEMPLATE_INCONSISTENT);
    CK_ATTRIBUTE cert_no_value[] = { { CKA_CLASS, &cert, sizeof cert },
                                     { CKA_CERTIFICATE_TYPE, &x509, sizeof x509 } };
    assert_int_equal(F->C_CreateObject(s, cert_no_value, 2, &h), CKR_TEMPLATE_INCOMPLETE);
    CK_ATTRIBUTE cert_bad_der[] = { { CKA_CLASS, &cert, sizeof cert },
                                    { CKA_CERTIFICATE_TYPE, &x509, sizeof x509 },
                                    { CKA_VALUE, "notder", 6 } };
    assert_int_equal(F->C_CreateObject(s, cert_bad_der, 3, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE local[] = { { CKA_CLASS, &data, sizeof data }, { CKA_LOCAL, &t, sizeof t } };
    assert_int_equal(F->C_CreateObject(s, local, 2, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    /* 512-bit key type with a 256-bit curve */
    static const uint8_t p256[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    CK_MECHANISM m = { CKM_GOSTR3410_512_KEY_PAIR_GEN, NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_GOSTR3410_PARAMS, (void *)p256, sizeof p256 } };
    CK_OBJECT_HANDLE pub, priv;
    assert_int_equal(F->C_GenerateKeyPair(s, &m, pt, 1, NULL, 0, &pub, &priv),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(F->C_GenerateKeyPair(s, &m, NULL, 0, NULL, 0, &pub, &priv),
                     CKR_TEMPLATE_INCOMPLETE);
    F->C_CloseSession(s);
}

/* Attributes: size query, too small, sensitive, unknown; private objects hidden when logged out. */
static void test_attributes_and_visibility(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_TRUE, &pub, &priv);
    CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
    assert_int_equal(F->C_GetAttributeValue(s, pub, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 64);
    uint8_t buf[128];
    a.pValue = buf;
    a.ulValueLen = 10;
    assert_int_equal(F->C_GetAttributeValue(s, pub, &a, 1), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    CK_ATTRIBUTE two[] = { { CKA_VALUE, buf, sizeof buf }, { CKA_LABEL, NULL, 0 } };
    assert_int_equal(F->C_GetAttributeValue(s, priv, two, 2), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(two[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(two[1].ulValueLen, 0);
    CK_ATTRIBUTE mod = { CKA_MODULUS, buf, sizeof buf };
    assert_int_equal(F->C_GetAttributeValue(s, pub, &mod, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    CK_ATTRIBUTE lab = { CKA_LABEL, "renamed", 7 };
    assert_int_equal(F->C_SetAttributeValue(s, priv, &lab, 1), CKR_OK);
    CK_ATTRIBUTE kt = { CKA_KEY_TYPE, buf, sizeof buf };
    assert_int_equal(F->C_SetAttributeValue(s, priv, &kt, 1), CKR_ATTRIBUTE_READ_ONLY);

    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE find[] = { { CKA_CLASS, &cls, sizeof cls }, { CKA_LABEL, "renamed", 7 } };
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 0;
    assert_int_equal(F->C_FindObjects(s, found, 4, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_FindObjectsInit(s, find, 2), CKR_OK);
    assert_int_equal(F->C_FindObjectsInit(s, find, 2), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_FindObjects(s, found, 4, &n), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(found[0], priv);
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OK);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(F->C_FindObjectsInit(s, find, 1), CKR_OK);
    assert_int_equal(F->C_FindObjects(s, found, 4, &n), CKR_OK);
    assert_int_equal(n, 0); /* private key hidden */
    assert_int_equal(F->C_FindObjectsFinal(s), CKR_OK);
    assert_int_equal(F->C_GetAttributeValue(s, priv, &lab, 1), CKR_OBJECT_HANDLE_INVALID);
    a.pValue = NULL;
    assert_int_equal(F->C_GetAttributeValue(s, pub, &a, 1), CKR_OK); /* public stays visible */
    F->C_CloseSession(s);
}

/* Session objects disappear with their session; token objects survive a restart. */
static void test_session_vs_token_objects(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_CLASS data = CKO_DATA;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE sess[] = { { CKA_CLASS, &data, sizeof data },
                            { CKA_TOKEN, &no, sizeof no },
                            { CKA_VALUE, "s", 1 } };
    CK_ATTRIBUTE tok[] = { { CKA_CLASS, &data, sizeof data },
                           { CKA_TOKEN, &yes, sizeof yes },
                           { CKA_VALUE, "t", 1 },
                           { CKA_LABEL, "keep", 4 } };
    CK_OBJECT_HANDLE hs, ht;
    assert_int_equal(F->C_CreateObject(s, sess, 3, &hs), CKR_OK);
    assert_int_equal(F->C_CreateObject(s, tok, 4, &ht), CKR_OK);
    CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
    assert_int_equal(F->C_GetAttributeValue(s, hs, &v, 1), CKR_OK);
    assert_int_equal(F->C_CloseSession(s), CKR_OK);
    F->C_Finalize(NULL);
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
    s = open_rw(0);
    assert_int_equal(F->C_GetAttributeValue(s, hs, &v, 1), CKR_OBJECT_HANDLE_INVALID);
    uint8_t buf[8];
    CK_ATTRIBUTE lab = { CKA_LABEL, buf, sizeof buf };
    assert_int_equal(F->C_GetAttributeValue(s, ht, &lab, 1), CKR_OK);
    assert_memory_equal(buf, "keep", 4);
    assert_int_equal(F->C_DestroyObject(s, ht), CKR_OK);
    assert_int_equal(F->C_GetAttributeValue(s, ht, &lab, 1), CKR_OBJECT_HANDLE_INVALID);
    F->C_CloseSession(s);
}

/* Hex of a buffer, for comparisons with the standard's vectors. */
static void hex(const uint8_t *b, size_t n, char *out)
{
    gost_hex(b, n, out);
}

/* Streebog digests against RFC 6986 M1, single- and multi-part, with size queries. */
static void test_digest(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(0);
    uint8_t out[64];
    char h[129];
    CK_ULONG n = 0;
    CK_MECHANISM m256 = { CKM_GOSTR3411_2012_256, NULL, 0 };
    CK_MECHANISM m512 = { CKM_GOSTR3411_2012_512, NULL, 0 };
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_DigestInit(s, &m256), CKR_OK);
    assert_int_equal(F->C_DigestInit(s, &m256), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, NULL, &n), CKR_OK);
    assert_int_equal(n, 32);
    n = 5;
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 32);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_OK);
    hex(out, n, h);
    assert_string_equal(h, M1_256);
    assert_int_equal(F->C_DigestInit(s, &m512), CKR_OK);
    assert_int_equal(F->C_DigestUpdate(s, (CK_BYTE_PTR)M1, 10), CKR_OK);
    assert_int_equal(F->C_DigestUpdate(s, (CK_BYTE_PTR)M1 + 10, 53), CKR_OK);
    n = sizeof out;
    assert_int_equal(F->C_DigestFinal(s, out, &n), CKR_OK);
    hex(out, n, h);
    assert_string_equal(h, M1_512);
    CK_MECHANISM bad = { CKM_SHA256, NULL, 0 };
    assert_int_equal(F->C_DigestInit(s, &bad), CKR_MECHANISM_INVALID);
    F->C_CloseSession(s);
}

/* Reads a public key object as an EVP_PKEY through CKA_VALUE and the curve OID. */
static EVP_PKEY *pubkey_of(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub)
{
    uint8_t val[128], par[32];
    char dotted[64];
    CK_ATTRIBUTE a[] = { { CKA_VALUE, val, sizeof val },
                         { CKA_GOSTR3410_PARAMS, par, sizeof par } };
    assert_int_equal(F->C_GetAttributeValue(s, pub, a, 2), CKR_OK);
    gs_status st;
    assert_int_equal(gost_oid_from_der(par, a[1].ulValueLen, dotted, sizeof dotted, &st),
                     GS_ERR_OK);
    EVP_PKEY *k = gost_pubkey_from_raw(gost_paramset_find(dotted), val, a[0].ulValueLen, &st);
    assert_non_null(k);
    return k;
}

/* Signs with every mechanism; signatures verify in the module and independently. */
static void sign_checks(int bits)
{
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, bits, CK_FALSE, &pub, &priv);
    EVP_PKEY *k = pubkey_of(s, pub);
    CK_MECHANISM with = { bits == 512 ? CKM_GOSTR3410_WITH_GOSTR3411_2012_512
                                      : CKM_GOSTR3410_WITH_GOSTR3411_2012_256,
                          NULL, 0 };
    CK_MECHANISM raw = { bits == 512 ? CKM_GOSTR3410_512 : CKM_GOSTR3410, NULL, 0 };
    uint8_t sig[128], dg[64];
    CK_ULONG n = 0, want = (CK_ULONG)bits / 4;
    gs_status st;
    /* independent digest: OpenSSL EVP + engine, not the module */
    unsigned int dl = 0;
    assert_int_equal(EVP_Digest(M1, 63, dg, &dl, gost_digest_md(bits), NULL), 1);

    assert_int_equal(F->C_SignInit(s, &with, priv), CKR_OK);
    assert_int_equal(F->C_SignInit(s, &with, priv), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)M1, 63, NULL, &n), CKR_OK);
    assert_int_equal(n, want);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)M1, 63, sig, &n), CKR_OK);
    assert_int_equal(gost_verify_digest(k, dg, dl, sig, n, &st), GS_ERR_OK);
    assert_int_equal(F->C_VerifyInit(s, &with, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)M1, 63, sig, n), CKR_OK);
    sig[3] ^= 1;
    assert_int_equal(F->C_VerifyInit(s, &with, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)M1, 63, sig, n), CKR_SIGNATURE_INVALID);
    assert_int_equal(F->C_VerifyInit(s, &with, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)M1, 63, sig, n - 1), CKR_SIGNATURE_LEN_RANGE);

    /* multi-part */
    assert_int_equal(F->C_SignInit(s, &with, priv), CKR_OK);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)M1, 20), CKR_OK);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)M1 + 20, 43), CKR_OK);
    n = sizeof sig;
    assert_int_equal(F->C_SignFinal(s, sig, &n), CKR_OK);
    assert_int_equal(gost_verify_digest(k, dg, dl, sig, n, &st), GS_ERR_OK);
    assert_int_equal(F->C_VerifyInit(s, &with, pub), CKR_OK);
    assert_int_equal(F->C_VerifyUpdate(s, (CK_BYTE_PTR)M1, 30), CKR_OK);
    assert_int_equal(F->C_VerifyUpdate(s, (CK_BYTE_PTR)M1 + 30, 33), CKR_OK);
    assert_int_equal(F->C_VerifyFinal(s, sig, n), CKR_OK);

    /* raw over the digest */
    assert_int_equal(F->C_SignInit(s, &raw, priv), CKR_OK);
    n = sizeof sig;
    assert_int_equal(F->C_Sign(s, dg, dl - 1, sig, &n), CKR_DATA_LEN_RANGE);
    assert_int_equal(F->C_SignFinal(s, sig, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_SignInit(s, &raw, priv), CKR_OK);
    assert_int_equal(F->C_Sign(s, dg, dl, sig, &n), CKR_OK);
    assert_int_equal(gost_verify_digest(k, dg, dl, sig, n, &st), GS_ERR_OK);
    assert_int_equal(F->C_VerifyInit(s, &raw, pub), CKR_OK);
    assert_int_equal(F->C_Verify(s, dg, dl, sig, n), CKR_OK);

    /* misuse */
    CK_MECHANISM other = { bits == 512 ? CKM_GOSTR3410 : CKM_GOSTR3410_512, NULL, 0 };
    assert_int_equal(F->C_SignInit(s, &other, priv), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(F->C_SignInit(s, &with, pub), CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(F->C_SignInit(s, &with, priv),
                     CKR_KEY_HANDLE_INVALID); /* session keys die with the login */
    EVP_PKEY_free(k);
    F->C_CloseSession(s);
}

/* 256-bit signing. */
static void test_sign_256(void **state)
{
    (void)state;
    sign_checks(256);
}

/* 512-bit signing. */
static void test_sign_512(void **state)
{
    (void)state;
    sign_checks(512);
}

/* Reads a whole file for before/after comparisons. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Writes a whole file. */
static void spit(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

/* A flipped byte or a truncation gives CKR_TOKEN_NOT_RECOGNIZED and leaves the file alone. */
static void test_corrupt_file(void **state)
{
    (void)state;
    char path[512];
    token_path(path, sizeof path);
    static uint8_t good[65536], bad[65536], after[65536];
    size_t n = slurp(path, good, sizeof good);
    CK_SESSION_HANDLE s = open_rw(0);
    for (int variant = 0; variant < 2; variant++) {
        memcpy(bad, good, n);
        size_t bn = n;
        if (variant == 0)
            bad[n / 2] ^= 0x40;
        else
            bn = n - 7;
        spit(path, bad, bn);
        CK_TOKEN_INFO ti;
        assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_RECOGNIZED);
        CK_SESSION_INFO si;
        assert_int_equal(F->C_GetSessionInfo(s, &si), CKR_DEVICE_ERROR);
        CK_SESSION_HANDLE s2;
        assert_int_equal(F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s2),
                         CKR_TOKEN_NOT_RECOGNIZED);
        CK_UTF8CHAR label[32];
        memset(label, ' ', 32);
        assert_int_equal(F->C_InitToken(slot, SO_PIN, PLEN(SO_PIN), label),
                         CKR_TOKEN_NOT_RECOGNIZED);
        assert_int_equal(slurp(path, after, sizeof after), bn);
        assert_memory_equal(after, bad, bn);
    }
    spit(path, good, n);
    CK_SESSION_INFO si;
    assert_int_equal(F->C_GetSessionInfo(s, &si), CKR_OK);
    F->C_CloseSession(s);
}

/* Removing the file: DEVICE_REMOVED, then SESSION_HANDLE_INVALID; slot events are reported. */
static void test_removal_and_events(void **state)
{
    (void)state;
    CK_SLOT_ID ev;
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_NO_EVENT);
    char path[512], saved[600];
    token_path(path, sizeof path);
    snprintf(saved, sizeof saved, "%s/../%s.saved", dir, strrchr(path, '/') + 1);
    CK_SESSION_HANDLE s = open_rw(1);
    assert_int_equal(rename(path, saved), 0);
    CK_SESSION_INFO si;
    assert_int_equal(F->C_GetSessionInfo(s, &si), CKR_DEVICE_REMOVED);
    assert_int_equal(F->C_GetSessionInfo(s, &si), CKR_SESSION_HANDLE_INVALID);
    CK_TOKEN_INFO ti;
    assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_PRESENT);
    CK_SLOT_ID ids[8];
    CK_ULONG n = 8;
    assert_int_equal(F->C_GetSlotList(CK_TRUE, ids, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++)
        assert_true(ids[i] != slot);
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
    assert_int_equal(ev, slot);
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_NO_EVENT);
    assert_int_equal(rename(saved, path), 0);
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, NULL), CKR_OK);
    assert_int_equal(ev, slot);
    assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_OK);
}

/* Renames a file into place after a delay, from another thread. */
static void *delayed_rename(void *arg)
{
    char **p = arg;
    usleep(300000);
    rename(p[0], p[1]);
    return NULL;
}

/* A blocking C_WaitForSlotEvent wakes when a token file appears or disappears. */
static void test_wait_blocking(void **state)
{
    (void)state;
    char path[512], saved[600];
    token_path(path, sizeof path);
    snprintf(saved, sizeof saved, "%s/../%s.saved", dir, strrchr(path, '/') + 1);
    char *out[2] = { path, saved }, *in[2] = { saved, path };
    pthread_t t;
    CK_SLOT_ID ev = 999;
    assert_int_equal(pthread_create(&t, NULL, delayed_rename, out), 0);
    assert_int_equal(F->C_WaitForSlotEvent(0, &ev, NULL), CKR_OK);
    pthread_join(t, NULL);
    assert_int_equal(ev, slot);
    assert_int_equal(pthread_create(&t, NULL, delayed_rename, in), 0);
    assert_int_equal(F->C_WaitForSlotEvent(0, &ev, NULL), CKR_OK);
    pthread_join(t, NULL);
    assert_int_equal(ev, slot);
    CK_SLOT_INFO si;
    assert_int_equal(F->C_GetSlotInfo(slot, &si), CKR_OK);
    assert_true(si.flags & CKF_TOKEN_PRESENT);
    assert_true(si.flags & CKF_REMOVABLE_DEVICE);
}

/* Worker: signs and verifies repeatedly in its own session. */
static void *sign_worker(void *arg)
{
    CK_OBJECT_HANDLE *keys = arg;
    CK_SESSION_HANDLE s;
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    intptr_t bad = 0;
    if (F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
        return (void *)1;
    for (int i = 0; i < 20; i++) {
        uint8_t sig[64];
        CK_ULONG n = sizeof sig;
        bad |= F->C_SignInit(s, &m, keys[1]) != CKR_OK;
        bad |= F->C_Sign(s, (CK_BYTE_PTR)M1, 63, sig, &n) != CKR_OK;
        bad |= F->C_VerifyInit(s, &m, keys[0]) != CKR_OK;
        bad |= F->C_Verify(s, (CK_BYTE_PTR)M1, 63, sig, n) != CKR_OK;
    }
    F->C_CloseSession(s);
    return (void *)bad;
}

/* CKF_OS_LOCKING_OK: four threads sign at once on one login. */
static void test_threads(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE keys[2];
    gen_pair(s, 256, CK_TRUE, &keys[0], &keys[1]);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sign_worker, keys), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    F->C_CloseSession(s);
}

/* Mechanism list and info. */
static void test_mechanisms(void **state)
{
    (void)state;
    CK_ULONG n = 0;
    assert_int_equal(F->C_GetMechanismList(slot, NULL, &n), CKR_OK);
    assert_int_equal(n, 8);
    CK_MECHANISM_TYPE list[8];
    n = 2;
    assert_int_equal(F->C_GetMechanismList(slot, list, &n), CKR_BUFFER_TOO_SMALL);
    CK_MECHANISM_INFO mi;
    assert_int_equal(F->C_GetMechanismInfo(slot, CKM_GOSTR3410_WITH_GOSTR3411_2012_512, &mi),
                     CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 512);
    assert_true(mi.flags & CKF_SIGN && mi.flags & CKF_VERIFY);
    assert_int_equal(F->C_GetMechanismInfo(slot, CKM_GOSTR3410_KEY_PAIR_GEN, &mi), CKR_OK);
    assert_true(mi.flags & CKF_GENERATE_KEY_PAIR);
    assert_int_equal(F->C_GetMechanismInfo(slot, CKM_RSA_PKCS, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(F->C_GetMechanismInfo(4242, CKM_GOSTR3410, &mi), CKR_SLOT_ID_INVALID);
    CK_SESSION_HANDLE s = open_rw(0);
    uint8_t r1[32] = { 0 }, r2[32] = { 0 };
    assert_int_equal(F->C_GenerateRandom(s, r1, 32), CKR_OK);
    assert_int_equal(F->C_GenerateRandom(s, r2, 32), CKR_OK);
    assert_memory_not_equal(r1, r2, 32);
    F->C_CloseSession(s);
}

/* The file is 0600 and private key values never appear in it in clear. */
static void test_file_protection(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    static const uint8_t p256[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    uint8_t d[32];
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(0xA0 + i);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_GOSTR3410;
    CK_BBOOL t = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof cls },
                            { CKA_KEY_TYPE, &kt, sizeof kt },
                            { CKA_TOKEN, &t, sizeof t },
                            { CKA_GOSTR3410_PARAMS, (void *)p256, sizeof p256 },
                            { CKA_VALUE, d, sizeof d } };
    CK_OBJECT_HANDLE h;
    assert_int_equal(F->C_CreateObject(s, tmpl, 5, &h), CKR_OK);
    char path[512];
    token_path(path, sizeof path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    static uint8_t buf[65536];
    size_t n = slurp(path, buf, sizeof buf);
    assert_null(memmem(buf, n, d, sizeof d));
    assert_null(memmem(buf, n, USER_PIN, PLEN(USER_PIN)));
    F->C_CloseSession(s);
}

/* Issue 13.1: C_Sign, C_Verify and C_Digest after an Update answer CKR_OPERATION_ACTIVE and end
 * the operation, so the next Final finds none (PKCS#11 v2.40, 5.12, 5.13, 5.11). */
static void test_single_part_ends_operation(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_FALSE, &pub, &priv);
    CK_MECHANISM with = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    CK_MECHANISM dgm = { CKM_GOSTR3411_2012_256, NULL, 0 };
    uint8_t out[64] = { 0 };
    CK_ULONG n = sizeof out;
    assert_int_equal(F->C_SignInit(s, &with, priv), CKR_OK);
    assert_int_equal(F->C_SignUpdate(s, (CK_BYTE_PTR)M1, 10), CKR_OK);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_SignFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_VerifyInit(s, &with, pub), CKR_OK);
    assert_int_equal(F->C_VerifyUpdate(s, (CK_BYTE_PTR)M1, 10), CKR_OK);
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)M1, 63, out, 64), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_VerifyFinal(s, out, 64), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(F->C_DigestInit(s, &dgm), CKR_OK);
    assert_int_equal(F->C_DigestUpdate(s, (CK_BYTE_PTR)M1, 10), CKR_OK);
    n = sizeof out;
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_OPERATION_ACTIVE);
    assert_int_equal(F->C_DigestFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* a length query and CKR_BUFFER_TOO_SMALL keep the operation */
    assert_int_equal(F->C_DigestInit(s, &dgm), CKR_OK);
    n = 1;
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, NULL, &n), CKR_OK);
    assert_int_equal(F->C_Digest(s, (CK_BYTE_PTR)M1, 63, out, &n), CKR_OK);
    char h[65];
    hex(out, n, h);
    assert_string_equal(h, M1_256);
    F->C_CloseSession(s);
}

/* The first private key a session finds, or CK_INVALID_HANDLE (no cmocka asserts: fork-safe). */
static CK_OBJECT_HANDLE find_private_key(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof cls };
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    if (F->C_FindObjectsInit(s, &t, 1) == CKR_OK && F->C_FindObjects(s, &h, 1, &n) == CKR_OK)
        F->C_FindObjectsFinal(s);
    return n == 1 ? h : CK_INVALID_HANDLE;
}

/* What a fork child sees of the parent's module: nothing until its own C_Initialize, then a
 * fresh, logged-out module. Returns 0 when every check holds (it runs in the child). */
static int child_checks(CK_SESSION_HANDLE parent_session, CK_OBJECT_HANDLE parent_key)
{
    CK_SESSION_INFO si;
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    CK_SESSION_HANDLE s;
    if (F->C_GetSessionInfo(parent_session, &si) != CKR_CRYPTOKI_NOT_INITIALIZED)
        return 1;
    if (F->C_SignInit(parent_session, &m, parent_key) != CKR_CRYPTOKI_NOT_INITIALIZED)
        return 2;
    if (F->C_Initialize(NULL) != CKR_OK)
        return 3;
    if (F->C_GetSessionInfo(parent_session, &si) != CKR_SESSION_HANDLE_INVALID)
        return 4;
    if (F->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
        F->C_GetSessionInfo(s, &si) != CKR_OK || si.state != CKS_RO_PUBLIC_SESSION)
        return 5;
    if (F->C_SignInit(s, &m, parent_key) == CKR_OK)
        return 6;
    if (F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)) != CKR_OK ||
        F->C_SignInit(s, &m, parent_key) != CKR_KEY_HANDLE_INVALID)
        return 7;
    CK_OBJECT_HANDLE key = find_private_key(s);
    if (key == CK_INVALID_HANDLE || F->C_SignInit(s, &m, key) != CKR_OK)
        return 8;
    return F->C_Finalize(NULL) == CKR_OK ? 0 : 9;
}

/* Issue 13.2: a fork child must call C_Initialize and log in again (PKCS#11 v2.40, 6.6.1);
 * the parent keeps its sessions and login. */
static void test_fork_child_starts_fresh(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_TRUE, &pub, &priv);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_checks(s, priv));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    uint8_t sig[64];
    CK_ULONG n = sizeof sig;
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_OK);
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)M1, 63, sig, &n), CKR_OK);
    F->C_CloseSession(s);
}

/* Issue 13.3: handles of private objects obtained before C_Logout are invalid afterwards, and
 * stay invalid after a new login (PKCS#11 v2.40, 5.6 C_Logout); public handles survive. */
static void test_private_handles_die_at_logout(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_TRUE, &pub, &priv);
    assert_int_equal(find_private_key(s), priv);
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    uint8_t buf[64];
    CK_ATTRIBUTE lab = { CKA_LABEL, buf, sizeof buf };
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_KEY_HANDLE_INVALID);
    assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    assert_int_equal(F->C_SignInit(s, &m, priv), CKR_KEY_HANDLE_INVALID);
    assert_int_equal(F->C_GetAttributeValue(s, priv, &lab, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(F->C_DestroyObject(s, priv), CKR_OBJECT_HANDLE_INVALID);
    CK_OBJECT_HANDLE again = find_private_key(s);
    assert_int_not_equal(again, CK_INVALID_HANDLE);
    assert_int_not_equal(again, priv);
    assert_int_equal(F->C_SignInit(s, &m, again), CKR_OK);
    CK_ULONG n = sizeof buf;
    assert_int_equal(F->C_Sign(s, (CK_BYTE_PTR)M1, 63, buf, &n), CKR_OK);
    assert_int_equal(F->C_VerifyInit(s, &m, pub), CKR_OK); /* the public key's handle lives on */
    assert_int_equal(F->C_Verify(s, (CK_BYTE_PTR)M1, 63, buf, n), CKR_OK);
    /* a public handle number never reaches a private object */
    for (CK_OBJECT_HANDLE h = 1; h < 8; h++)
        if (h != pub)
            assert_int_equal(F->C_SignInit(s, &m, h), CKR_KEY_HANDLE_INVALID);
    F->C_CloseSession(s);
}

/*
 * Issue 17, target 3: a key's pair outlives the login without its scalar. Per login, as the
 * agent does (login, find, sign, logout), every signature verifies independently with the
 * token's public key; between logins, and after a wrong PIN, the key signs nothing.
 */
static void test_sign_across_logins(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 512, CK_TRUE, &pub, &priv);
    EVP_PKEY *k = pubkey_of(s, pub);
    CK_MECHANISM raw = { CKM_GOSTR3410_512, NULL, 0 };
    uint8_t digest[64], sig[128];
    for (int round = 0; round < 3; round++) {
        CK_OBJECT_HANDLE key = find_private_key(s);
        assert_int_not_equal(key, CK_INVALID_HANDLE);
        memset(digest, 0x30 + round, sizeof digest);
        CK_ULONG n = sizeof sig;
        assert_int_equal(F->C_SignInit(s, &raw, key), CKR_OK);
        assert_int_equal(F->C_Sign(s, digest, sizeof digest, sig, &n), CKR_OK);
        gs_status st;
        assert_int_equal(gost_verify_digest(k, digest, sizeof digest, sig, n, &st), GS_ERR_OK);
        assert_int_equal(F->C_Logout(s), CKR_OK);
        assert_int_equal(F->C_Login(s, CKU_USER, BAD_PIN, PLEN(BAD_PIN)), CKR_PIN_INCORRECT);
        assert_int_equal(find_private_key(s), CK_INVALID_HANDLE); /* CKA_PRIVATE: not listed */
        assert_int_equal(F->C_SignInit(s, &raw, key), CKR_KEY_HANDLE_INVALID);
        assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    }
    EVP_PKEY_free(k);
    F->C_CloseSession(s);
}

/* Every call that takes a session, given a bad handle and bad arguments. */
static void expect_session_invalid(CK_RV want)
{
    CK_SESSION_HANDLE b = 0xdead;
    CK_RV got[] = {
        F->C_CloseSession(b),
        F->C_GetSessionInfo(b, NULL),
        F->C_Login(b, 99, NULL, 0),
        F->C_Logout(b),
        F->C_InitPIN(b, NULL, 0),
        F->C_SetPIN(b, NULL, 0, NULL, 0),
        F->C_CreateObject(b, NULL, 1, NULL),
        F->C_DestroyObject(b, 0),
        F->C_GetAttributeValue(b, 0, NULL, 1),
        F->C_SetAttributeValue(b, 0, NULL, 1),
        F->C_FindObjectsInit(b, NULL, 1),
        F->C_FindObjects(b, NULL, 0, NULL),
        F->C_FindObjectsFinal(b),
        F->C_DigestInit(b, NULL),
        F->C_Digest(b, NULL, 1, NULL, NULL),
        F->C_DigestUpdate(b, NULL, 1),
        F->C_DigestFinal(b, NULL, NULL),
        F->C_SignInit(b, NULL, 0),
        F->C_Sign(b, NULL, 1, NULL, NULL),
        F->C_SignUpdate(b, NULL, 1),
        F->C_SignFinal(b, NULL, NULL),
        F->C_VerifyInit(b, NULL, 0),
        F->C_Verify(b, NULL, 1, NULL, 0),
        F->C_VerifyUpdate(b, NULL, 1),
        F->C_VerifyFinal(b, NULL, 0),
        F->C_GenerateKeyPair(b, NULL, NULL, 1, NULL, 1, NULL, NULL),
        F->C_GenerateRandom(b, NULL, 1),
        F->C_SeedRandom(b, NULL, 1),
    };
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++) {
        if (got[i] != want)
            print_error("session call %zu: 0x%lx\n", i, (unsigned long)got[i]);
        assert_int_equal(got[i], want);
    }
}

/* Every call that takes a slot, given a bad slot ID and bad arguments. */
static void expect_slot_invalid(CK_RV want)
{
    CK_SLOT_ID b = 4242;
    CK_RV got[] = {
        F->C_GetSlotInfo(b, NULL),
        F->C_GetTokenInfo(b, NULL),
        F->C_GetMechanismList(b, NULL, NULL),
        F->C_GetMechanismInfo(b, 0, NULL),
        F->C_InitToken(b, NULL, 0, NULL),
        F->C_OpenSession(b, 0, NULL, NULL, NULL),
        F->C_CloseAllSessions(b),
    };
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++) {
        if (got[i] != want)
            print_error("slot call %zu: 0x%lx\n", i, (unsigned long)got[i]);
        assert_int_equal(got[i], want);
    }
}

/* Issue 13.4: CKR_CRYPTOKI_NOT_INITIALIZED, then session and slot handle errors, come before
 * argument and feature errors in every entry point (C_SeedRandom used to say
 * CKR_RANDOM_SEED_NOT_SUPPORTED for a session that does not exist). */
static void test_return_code_precedence(void **state)
{
    (void)state;
    expect_session_invalid(CKR_SESSION_HANDLE_INVALID);
    expect_slot_invalid(CKR_SLOT_ID_INVALID);
    CK_SESSION_HANDLE s = open_rw(0);
    assert_int_equal(F->C_SeedRandom(s, (CK_BYTE_PTR) "seed", 4), CKR_RANDOM_SEED_NOT_SUPPORTED);
    CK_SLOT_ID ev;
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, &ev, &ev), CKR_ARGUMENTS_BAD);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    expect_session_invalid(CKR_CRYPTOKI_NOT_INITIALIZED);
    expect_slot_invalid(CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_Finalize(&ev), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_WaitForSlotEvent(CKF_DONT_BLOCK, NULL, NULL),
                     CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_ULONG n;
    assert_int_equal(F->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
}

/* C_GenerateKeyPair (256) with one extra attribute in the private half; returns the result. */
static CK_RV gen_with_private_attr(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
    static const uint8_t p256[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    CK_MECHANISM m = { CKM_GOSTR3410_KEY_PAIR_GEN, NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_GOSTR3410_PARAMS, (void *)p256, sizeof p256 } };
    CK_ATTRIBUTE kt[] = { { type, &v, sizeof v } };
    CK_OBJECT_HANDLE pub, priv;
    return F->C_GenerateKeyPair(s, &m, pt, 1, kt, 1, &pub, &priv);
}

/* C_CreateObject of a GOST-256 private key (test value), with CKA_PRIVATE as given. */
static CK_RV create_private_key(CK_SESSION_HANDLE s, CK_BBOOL is_private, CK_ATTRIBUTE *extra,
                                CK_OBJECT_HANDLE *h)
{
    static const uint8_t p256[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    uint8_t d[32];
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(0x11 + i);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_GOSTR3410;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof cls },
                         { CKA_KEY_TYPE, &kt, sizeof kt },
                         { CKA_PRIVATE, &is_private, sizeof is_private },
                         { CKA_GOSTR3410_PARAMS, (void *)p256, sizeof p256 },
                         { CKA_VALUE, d, sizeof d },
                         extra ? *extra : (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof yes } };
    return F->C_CreateObject(s, t, 6, h);
}

/* Issue 13.5: a template the token could not honour (a key that leaves the token, decrypts,
 * derives or asks for the PIN per use) is refused at creation; what is accepted is reported
 * and enforced. A private key with CKA_PRIVATE false still needs the login to be created and
 * used (its value is sealed under the PIN-protected master key), but is visible without it. */
static void test_templates_honoured_or_refused(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    assert_int_equal(gen_with_private_attr(s, CKA_SENSITIVE, CK_FALSE),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(gen_with_private_attr(s, CKA_EXTRACTABLE, CK_TRUE),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(gen_with_private_attr(s, CKA_ALWAYS_AUTHENTICATE, CK_TRUE),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(gen_with_private_attr(s, CKA_DECRYPT, CK_TRUE), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(gen_with_private_attr(s, CKA_DERIVE, CK_TRUE), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(gen_with_private_attr(s, CKA_SENSITIVE, CK_TRUE), CKR_OK);
    assert_int_equal(gen_with_private_attr(s, CKA_EXTRACTABLE, CK_FALSE), CKR_OK);
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE extractable = { CKA_EXTRACTABLE, &yes, sizeof yes };
    CK_OBJECT_HANDLE h;
    assert_int_equal(create_private_key(s, CK_TRUE, &extractable, &h), CKR_ATTRIBUTE_VALUE_INVALID);

    /* what is accepted is what is reported: sensitive, never extractable */
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_FALSE, &pub, &priv);
    CK_BBOOL sens = 0, extr = 1, always = 0, never = 0;
    uint8_t val[64];
    CK_ATTRIBUTE a[] = { { CKA_SENSITIVE, &sens, 1 },
                         { CKA_EXTRACTABLE, &extr, 1 },
                         { CKA_ALWAYS_SENSITIVE, &always, 1 },
                         { CKA_NEVER_EXTRACTABLE, &never, 1 } };
    assert_int_equal(F->C_GetAttributeValue(s, priv, a, 4), CKR_OK);
    assert_true(sens && !extr && always && never);
    CK_ATTRIBUTE v = { CKA_VALUE, val, sizeof val };
    assert_int_equal(F->C_GetAttributeValue(s, priv, &v, 1), CKR_ATTRIBUTE_SENSITIVE);
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE unsens = { CKA_SENSITIVE, &no, 1 };
    assert_int_equal(F->C_SetAttributeValue(s, priv, &unsens, 1), CKR_ATTRIBUTE_READ_ONLY);

    /* CKA_PRIVATE false private key: login to create and sign, visible without it */
    CK_SESSION_HANDLE pubs = open_rw(0);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    assert_int_equal(create_private_key(pubs, CK_FALSE, NULL, &h), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(F->C_Login(s, CKU_USER, USER_PIN, PLEN(USER_PIN)), CKR_OK);
    assert_int_equal(create_private_key(pubs, CK_FALSE, NULL, &h), CKR_OK);
    assert_int_equal(F->C_Logout(s), CKR_OK);
    CK_ATTRIBUTE lab = { CKA_LABEL, val, sizeof val };
    assert_int_equal(F->C_GetAttributeValue(pubs, h, &lab, 1), CKR_OK);
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    assert_int_equal(F->C_SignInit(pubs, &m, h), CKR_USER_NOT_LOGGED_IN);
    F->C_CloseSession(pubs);
    F->C_CloseSession(s);
}

/* The PKCS#11 3.0 discovery types (Debian 12's p11-kit headers predate them). */
typedef struct {
    CK_CHAR *name;
    CK_VOID_PTR functions;
    CK_FLAGS flags;
} interface_30;
typedef CK_RV (*get_interface_list_fn)(interface_30 *list, CK_ULONG *count);
typedef CK_RV (*get_interface_fn)(CK_UTF8CHAR *name, CK_VERSION *version, interface_30 **out,
                                  CK_FLAGS flags);

/* Issue 13.7: C_GetInterfaceList / C_GetInterface (PKCS#11 3.0, 5.2) beside C_GetFunctionList:
 * the "PKCS 11" interface with the same 2.40 function list; nothing else is exported. */
static void test_interfaces(void **state)
{
    (void)state;
    get_interface_list_fn list = (get_interface_list_fn)dlsym(module, "C_GetInterfaceList");
    get_interface_fn get = (get_interface_fn)dlsym(module, "C_GetInterface");
    assert_non_null(list);
    assert_non_null(get);
    assert_null(dlsym(module, "C_Sign")); /* reached through the list only */
    CK_ULONG n = 0;
    assert_int_equal(list(NULL, &n), CKR_OK);
    assert_true(n >= 1);
    interface_30 all[8];
    CK_ULONG small = 0;
    assert_int_equal(list(all, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, n);
    assert_int_equal(list(all, &n), CKR_OK);
    assert_string_equal((char *)all[0].name, "PKCS 11");
    assert_ptr_equal(all[0].functions, F);
    interface_30 *one = NULL;
    assert_int_equal(get(NULL, NULL, &one, 0), CKR_OK);
    assert_ptr_equal(one->functions, F);
    CK_VERSION v240 = { 2, 40 }, v30 = { 3, 0 };
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v240, &one, 0), CKR_OK);
    assert_ptr_equal(one->functions, F);
    assert_int_equal(((CK_FUNCTION_LIST *)one->functions)->version.minor, 40);
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v30, &one, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(get((CK_UTF8CHAR *)"Vendor X", NULL, &one, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(get(NULL, NULL, &one, 1 /* CKF_INTERFACE_FORK_SAFE */), CKR_ARGUMENTS_BAD);
    assert_int_equal(get(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
}

/* dir/.NAME.what for the only token file NAME of the test directory. */
static void side_path(const char *what, char *out, size_t cap)
{
    char path[512];
    token_path(path, sizeof path);
    const char *name = strrchr(path, '/') + 1;
    snprintf(out, cap, "%s/.%s.%s", dir, name, what);
}

/* True when a file exists. */
static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* The module's "gostsign softtoken" vendor interface functions. */
typedef struct {
    CK_VERSION version;
    CK_RV (*repair_token)(CK_SLOT_ID slot);
} vendor_functions;

/* Issue 13.6: every write keeps the previous good copy (".NAME.prev"), except PIN changes,
 * whose old wraps must not survive; a damaged file is still refused and left alone, and the
 * vendor repair call restores the copy, keeping the damaged file as ".NAME.damaged". */
static void test_token_file_recovery(void **state)
{
    (void)state;
    char path[512], prev[600], damaged[600];
    token_path(path, sizeof path);
    side_path("prev", prev, sizeof prev);
    side_path("damaged", damaged, sizeof damaged);
    assert_false(exists(prev)); /* C_InitPIN was the last write */
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_CLASS data = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = { { CKA_CLASS, &data, sizeof data }, { CKA_TOKEN, &yes, sizeof yes } };
    CK_OBJECT_HANDLE h;
    assert_int_equal(F->C_CreateObject(s, t, 2, &h), CKR_OK);
    assert_true(exists(prev));
    static uint8_t buf[65536];
    size_t n = slurp(path, buf, sizeof buf);
    buf[n / 2] ^= 0x01;
    spit(path, buf, n);
    CK_TOKEN_INFO ti;
    assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_TOKEN_NOT_RECOGNIZED);
    CK_RV(*get)
    (CK_UTF8CHAR *, CK_VERSION *, void **, CK_FLAGS) =
        (CK_RV(*)(CK_UTF8CHAR *, CK_VERSION *, void **, CK_FLAGS))dlsym(module, "C_GetInterface");
    struct {
        CK_CHAR *name;
        vendor_functions *fl;
        CK_FLAGS flags;
    } *in = NULL;
    assert_int_equal(get((CK_UTF8CHAR *)"gostsign softtoken", NULL, (void **)&in, 0), CKR_OK);
    assert_int_equal(in->fl->version.major, 1);
    assert_int_equal(in->fl->repair_token(slot), CKR_OK);
    assert_int_equal(F->C_GetTokenInfo(slot, &ti), CKR_OK);
    assert_true(exists(damaged));
    assert_int_equal(slurp(damaged, buf + 32768, 32768), n);
    /* the repaired token works; the object of the lost last write is gone */
    CK_SESSION_HANDLE s2 = open_rw(0); /* the login of s survives: same token generation */
    CK_ATTRIBUTE lab = { CKA_LABEL, buf, 8 };
    assert_int_equal(F->C_GetAttributeValue(s2, h, &lab, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(in->fl->repair_token(slot), CKR_OK); /* not damaged: nothing to do */
    CK_UTF8CHAR newpin[] = "87651234";
    assert_int_equal(F->C_CreateObject(s2, t, 2, &h), CKR_OK);
    assert_true(exists(prev));
    assert_int_equal(F->C_SetPIN(s2, USER_PIN, PLEN(USER_PIN), newpin, PLEN(newpin)), CKR_OK);
    assert_false(exists(prev)); /* it would still open with the old PIN */
    assert_int_equal(in->fl->repair_token(4242), CKR_SLOT_ID_INVALID);
    F->C_CloseSession(s2);
    F->C_CloseSession(s);
}

/* Issue 13.6: temporary files of writers killed mid-write are removed when the module starts
 * (only those whose process is gone), and a PIN of impossible length (empty, too short) is
 * refused with CKR_PIN_LEN_RANGE before the retry counter is touched. */
static void test_stale_temps_and_empty_pin(void **state)
{
    (void)state;
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    waitpid(dead, NULL, 0);
    char stale[600], alive[600];
    snprintf(stale, sizeof stale, "%s/.x.token.%ld.tmp", dir, (long)dead);
    snprintf(alive, sizeof alive, "%s/.x.token.%ld.tmp", dir, (long)getpid());
    spit(stale, (const uint8_t *)"partial", 7);
    spit(alive, (const uint8_t *)"partial", 7);
    assert_int_equal(F->C_Finalize(NULL), CKR_OK);
    assert_int_equal(F->C_Initialize(NULL), CKR_OK);
    assert_false(exists(stale));
    assert_true(exists(alive));
    unlink(alive);

    CK_SESSION_HANDLE s = open_rw(0);
    CK_UTF8CHAR three[] = "123";
    assert_int_equal(F->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "", 0), CKR_PIN_LEN_RANGE);
    assert_int_equal(F->C_Login(s, CKU_USER, three, 3), CKR_PIN_LEN_RANGE);
    assert_int_equal(F->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR) "", 0), CKR_PIN_LEN_RANGE);
    assert_int_equal(F->C_SetPIN(s, (CK_UTF8CHAR_PTR) "", 0, USER_PIN, PLEN(USER_PIN)),
                     CKR_PIN_LEN_RANGE);
    assert_false(token_flags() & (CKF_USER_PIN_COUNT_LOW | CKF_SO_PIN_COUNT_LOW));
    F->C_CloseSession(s);
}

/* Issue 13.6, "bind what can be bound": a private value opens only with the key type and
 * curve it was sealed for. Someone who can write the file switches both keys of a pair from
 * CryptoPro-A to CryptoPro-B and fixes the (unkeyed) checksum: the key no longer signs. */
static void test_private_value_bound_to_curve(void **state)
{
    (void)state;
    CK_SESSION_HANDLE s = open_rw(1);
    CK_OBJECT_HANDLE pub, priv;
    gen_pair(s, 256, CK_TRUE, &pub, &priv);
    F->C_CloseSession(s);
    char path[512];
    token_path(path, sizeof path);
    static uint8_t buf[65536];
    size_t n = slurp(path, buf, sizeof buf);
    static const uint8_t a[] = { 0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x23, 0x01 };
    int switched = 0;
    for (uint8_t *p = buf; (p = memmem(p, (size_t)(buf + n - p), a, sizeof a)) != NULL; p++) {
        p[sizeof a - 1] = 0x02; /* 1.2.643.2.2.35.2, CryptoPro-B */
        switched++;
    }
    assert_int_equal(switched, 2);
    unsigned int dl = 0;
    assert_int_equal(EVP_Digest(buf, n - 32, buf + n - 32, &dl, gost_digest_md(256), NULL), 1);
    spit(path, buf, n);
    s = open_rw(1);
    CK_MECHANISM m = { CKM_GOSTR3410_WITH_GOSTR3411_2012_256, NULL, 0 };
    CK_OBJECT_HANDLE key = find_private_key(s);
    assert_int_not_equal(key, CK_INVALID_HANDLE);
    assert_int_equal(F->C_SignInit(s, &m, key), CKR_DEVICE_ERROR);
    F->C_CloseSession(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attributes_and_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_vs_token_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_512, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_blocking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mechanisms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_protection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_part_ends_operation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_child_starts_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_handles_die_at_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_across_logins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_return_code_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_templates_honoured_or_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interfaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temps_and_empty_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_value_bound_to_curve, setup, teardown),
    };
    return cmocka_run_group_tests(tests, load_module, NULL);
}
