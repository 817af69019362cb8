/*
 * bench-token: GOST R 34.10-2012 sign and verify operations per second, 256 and 512 bits,
 * through the software token (dlopen of the module, C_SignInit + C_Sign with the raw mechanism
 * over a digest) against the OpenSSL + GOST engine EVP path (EVP_PKEY_sign / EVP_PKEY_verify)
 * measured in the same run, plus the cost of one C_Login (the PIN key derivation), and the
 * agent-shaped sequence (C_Login, find the key, C_SignInit + C_Sign, C_Logout per request),
 * whose C_SignInit + C_Sign is compared with the plain one of a session that stays logged in.
 *
 * usage: bench-token MODULE [SECONDS_PER_ROUND]
 *        bench-token --ecdsa-peer MODULE [SECONDS_PER_ROUND]
 * GOSTSIGN_SOFTTOKEN_DIR must name an empty directory: a token is created there.
 * --ecdsa-peer measures a peer module (SoftHSM2, with SOFTHSM2_CONF naming an empty token
 * directory) the same way: C_SignInit + C_Sign with CKM_ECDSA over a 32-byte digest on a P-256
 * key, each signature checked by the module's own C_Verify, beside OpenSSL's EVP ECDSA.
 * Prints "RESULT <name> <value> <unit>" lines for tests/bench/bench.py. Exits non-zero only on a
 * functional failure (a call fails or a signature does not verify), never because of speed.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gost.h"

#define SO_PIN   "87654321"
#define USER_PIN "12345678"
#define ROUNDS   3

static CK_FUNCTION_LIST_PTR F;

/* Reports a functional failure and exits: the figures would be meaningless. */
static void die(const char *what, unsigned long rv)
{
    fprintf(stderr, "bench-token: %s failed (0x%lx)\n", what, rv);
    exit(1);
}

/* Checks a PKCS#11 call. */
static void ck(const char *what, CK_RV rv)
{
    if (rv != CKR_OK)
        die(what, rv);
}

/* Monotonic seconds, for rates and durations. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads the module with dlopen, as a PKCS#11 application does. */
static void load_module(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList gfl = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
    if (!gfl || gfl(&F) != CKR_OK)
        die("loading the module", 0);
    ck("C_Initialize", F->C_Initialize(NULL));
}

/* Initialises the spare slot as a new token with a user PIN; returns a logged-in RW session. */
static CK_SESSION_HANDLE new_token_session(double *login_seconds)
{
    CK_SLOT_ID ids[16];
    CK_ULONG n = 16;
    ck("C_GetSlotList", F->C_GetSlotList(CK_FALSE, ids, &n));
    if (n == 0)
        die("finding the spare slot", 0);
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof label);
    memcpy(label, "bench", 5);
    ck("C_InitToken", F->C_InitToken(ids[n - 1], (CK_UTF8CHAR_PTR)SO_PIN, 8, label));
    CK_SESSION_HANDLE s;
    CK_FLAGS rw = CKF_SERIAL_SESSION | CKF_RW_SESSION;
    ck("C_OpenSession", F->C_OpenSession(ids[n - 1], rw, NULL, NULL, &s));
    ck("C_Login(SO)", F->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, 8));
    ck("C_InitPIN", F->C_InitPIN(s, (CK_UTF8CHAR_PTR)USER_PIN, 8));
    ck("C_Logout", F->C_Logout(s));
    double t0 = now_s();
    ck("C_Login(user)", F->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, 8));
    *login_seconds = now_s() - t0;
    return s;
}

/* A key pair on the token (TC26 set A of the size) and its public key as an EVP_PKEY. */
static EVP_PKEY *token_key_pair(CK_SESSION_HANDLE s, int bits, CK_OBJECT_HANDLE *priv,
                                CK_OBJECT_HANDLE *pub)
{
    const gost_paramset *ps = gost_paramset_find(bits == 512 ? "512:A" : "256:A");
    uint8_t par[32], val[GOST_MAX_PUBKEY];
    size_t plen = 0;
    gs_status st;
    if (!ps || gost_oid_to_der(ps->oid, par, sizeof par, &plen, &st) != GS_ERR_OK)
        die("parameter set", 0);
    CK_BBOOL yes = CK_TRUE;
    CK_MECHANISM m = { bits == 512 ? CKM_GOSTR3410_512_KEY_PAIR_GEN : CKM_GOSTR3410_KEY_PAIR_GEN,
                       NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_TOKEN, &yes, sizeof yes }, { CKA_GOSTR3410_PARAMS, par, plen } };
    CK_ATTRIBUTE kt[] = { { CKA_TOKEN, &yes, sizeof yes }, { CKA_PRIVATE, &yes, sizeof yes } };
    ck("C_GenerateKeyPair", F->C_GenerateKeyPair(s, &m, pt, 2, kt, 2, pub, priv));
    CK_ATTRIBUTE get = { CKA_VALUE, val, sizeof val };
    ck("C_GetAttributeValue", F->C_GetAttributeValue(s, *pub, &get, 1));
    EVP_PKEY *k = gost_pubkey_from_raw(ps, val, get.ulValueLen, &st);
    if (!k)
        die("public key import", 0);
    return k;
}

/* One token signature with the raw mechanism over a digest. */
static void token_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int bits, const uint8_t *dg,
                       uint8_t *sig, CK_ULONG *sig_len)
{
    CK_MECHANISM m = { bits == 512 ? CKM_GOSTR3410_512 : CKM_GOSTR3410, NULL, 0 };
    *sig_len = GOST_MAX_SIGNATURE;
    ck("C_SignInit", F->C_SignInit(s, &m, key));
    ck("C_Sign", F->C_Sign(s, (CK_BYTE_PTR)dg, (CK_ULONG)bits / 8, sig, sig_len));
}

/* One token verification; returns the PKCS#11 result. */
static CK_RV token_verify(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, int bits, const uint8_t *dg,
                          const uint8_t *sig, CK_ULONG sig_len)
{
    CK_MECHANISM m = { bits == 512 ? CKM_GOSTR3410_512 : CKM_GOSTR3410, NULL, 0 };
    ck("C_VerifyInit", F->C_VerifyInit(s, &m, key));
    return F->C_Verify(s, (CK_BYTE_PTR)dg, (CK_ULONG)bits / 8, (CK_BYTE_PTR)sig, sig_len);
}

/* One EVP signature, as an application on OpenSSL + the engine makes it (context per call). */
static void evp_sign(EVP_PKEY *key, const uint8_t *dg, size_t dlen, uint8_t *sig, size_t *len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    *len = GOST_MAX_SIGNATURE;
    if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_sign(ctx, sig, len, dg, dlen) <= 0)
        die("EVP_PKEY_sign", 0);
    EVP_PKEY_CTX_free(ctx);
}

/* One EVP verification; returns 1 when valid. */
static int evp_verify(EVP_PKEY *key, const uint8_t *dg, size_t dlen, const uint8_t *sig, size_t len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    int ok = ctx && EVP_PKEY_verify_init(ctx) > 0 && EVP_PKEY_verify(ctx, sig, len, dg, dlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Everything one size's measurements need. */
typedef struct {
    int bits;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE priv, pub;
    EVP_PKEY *token_pub; /* the token key's public half, for cross-checks */
    EVP_PKEY *evp_key;   /* the peer's own key on the same curve */
    uint8_t digest[GOST_MAX_DIGEST];
    uint8_t token_sig[GOST_MAX_SIGNATURE], evp_sig[GOST_MAX_SIGNATURE];
    size_t token_sig_len, evp_sig_len;
} bench_ctx;

typedef enum { OP_TOKEN_SIGN, OP_TOKEN_VERIFY, OP_EVP_SIGN, OP_EVP_VERIFY, OP_COUNT } op_kind;
static const char *const op_names[OP_COUNT] = { "token-sign", "token-verify", "evp-sign",
                                                "evp-verify" };

/* Runs one operation once; verification failures are functional failures. */
static void run_once(bench_ctx *b, op_kind op)
{
    CK_ULONG n;
    size_t dlen = (size_t)b->bits / 8;
    switch (op) {
    case OP_TOKEN_SIGN:
        token_sign(b->session, b->priv, b->bits, b->digest, b->token_sig, &n);
        b->token_sig_len = n;
        break;
    case OP_TOKEN_VERIFY:
        if (token_verify(b->session, b->pub, b->bits, b->digest, b->token_sig, b->token_sig_len) !=
            CKR_OK)
            die("C_Verify of the token's own signature", 0);
        break;
    case OP_EVP_SIGN:
        evp_sign(b->evp_key, b->digest, dlen, b->evp_sig, &b->evp_sig_len);
        break;
    default:
        if (!evp_verify(b->evp_key, b->digest, dlen, b->evp_sig, b->evp_sig_len))
            die("EVP_PKEY_verify of the peer's own signature", 0);
    }
}

/* Operations per second of one kind over about `seconds` of wall time. */
static double rate(bench_ctx *b, op_kind op, double seconds)
{
    long count = 0;
    double t0 = now_s(), t;
    do {
        run_once(b, op);
        count++;
    } while ((t = now_s() - t0) < seconds);
    return (double)count / t;
}

/* Middle of three values (the rounds are interleaved so drift hits both sides alike). */
static double median3(const double *v)
{
    double a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

/* Cross-checks before timing: each side's signature verifies on the other side. */
static void cross_check(bench_ctx *b)
{
    gs_status st;
    size_t dlen = (size_t)b->bits / 8;
    run_once(b, OP_TOKEN_SIGN);
    if (gost_verify_digest(b->token_pub, b->digest, dlen, b->token_sig, b->token_sig_len, &st) !=
        GS_ERR_OK)
        die("OpenSSL verification of a token signature", 0);
    uint8_t bad[GOST_MAX_SIGNATURE];
    memcpy(bad, b->token_sig, b->token_sig_len);
    bad[3] ^= 1;
    if (gost_verify_digest(b->token_pub, b->digest, dlen, bad, b->token_sig_len, &st) == GS_ERR_OK)
        die("a damaged signature was accepted", 0);
    run_once(b, OP_EVP_SIGN);
    run_once(b, OP_TOKEN_VERIFY);
    run_once(b, OP_EVP_VERIFY);
}

/*
 * Microseconds to rebuild an EVP_PKEY from a key object's raw value, as the token does at every
 * C_SignInit (private) and C_VerifyInit (public): the likely cost of the wrapper.
 */
static void rebuild_cost(EVP_PKEY *key, int bits)
{
    const gost_paramset *ps = gost_key_paramset(key);
    uint8_t raw[GOST_MAX_PUBKEY];
    size_t len;
    gs_status st;
    for (int priv = 1; priv >= 0; priv--) {
        if ((priv ? gost_privkey_to_raw(key, raw, &len, &st)
                  : gost_pubkey_to_raw(key, raw, &len, &st)) != GS_ERR_OK)
            die("raw key export", 0);
        long count = 0;
        double t0 = now_s(), t;
        do {
            EVP_PKEY *k = priv ? gost_privkey_from_raw(ps, raw, len, &st)
                               : gost_pubkey_from_raw(ps, raw, len, &st);
            if (!k)
                die("raw key import", 0);
            EVP_PKEY_free(k);
            count++;
        } while ((t = now_s() - t0) < 0.3);
        printf("RESULT rebuild-%s-%d-us %.1f us\n", priv ? "priv" : "pub", bits, t / count * 1e6);
    }
}

/* The private key of a key type after a fresh login: handles of private objects last one
 * login, so the agent finds its key again in every request. */
static CK_OBJECT_HANDLE find_private_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof cls }, { CKA_KEY_TYPE, &kt, sizeof kt } };
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;
    ck("C_FindObjectsInit", F->C_FindObjectsInit(s, t, 2));
    ck("C_FindObjects", F->C_FindObjects(s, &h, 1, &n));
    ck("C_FindObjectsFinal", F->C_FindObjectsFinal(s));
    if (n != 1)
        die("finding the private key after a login", 0);
    return h;
}

/* Median microseconds of the agent-shaped sequence's parts, per request (agent_path below):
 * a median, because a round holds few requests and one preemption would move a mean. */
typedef struct {
    double sign_init, sign, second, whole; /* C_SignInit; SignInit+Sign; a 2nd one; request */
} agent_path_us;

#define MAX_REQUESTS 4096

/* Orders doubles for qsort. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n samples (sorts them), in microseconds. */
static double median_us(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) * 1e6;
}

/* C_SignInit and C_Sign of one signature: the seconds of C_SignInit in *init, of both in *both. */
static void timed_token_sign(bench_ctx *b, CK_OBJECT_HANDLE key, double *init, double *both)
{
    CK_MECHANISM m = { b->bits == 512 ? CKM_GOSTR3410_512 : CKM_GOSTR3410, NULL, 0 };
    CK_ULONG n = GOST_MAX_SIGNATURE;
    double t0 = now_s();
    ck("C_SignInit", F->C_SignInit(b->session, &m, key));
    double t1 = now_s();
    ck("C_Sign",
       F->C_Sign(b->session, (CK_BYTE_PTR)b->digest, (CK_ULONG)b->bits / 8, b->token_sig, &n));
    *init = t1 - t0;
    *both = now_s() - t0;
    b->token_sig_len = n;
}

/*
 * The agent's path, one request at a time: C_Login, find the key, C_SignInit + C_Sign, C_Logout.
 * Measures C_SignInit + C_Sign (what the agent's timing shim calls "sign"), C_SignInit alone,
 * a second signature in the same login (outside the request's time) and the whole request.
 * The session is logged in on return.
 */
static agent_path_us agent_path(bench_ctx *b, double seconds)
{
    static double init[MAX_REQUESTS], sign[MAX_REQUESTS], second[MAX_REQUESTS], whole[MAX_REQUESTS];
    CK_KEY_TYPE kt = b->bits == 512 ? CKK_GOSTR3410_512 : CKK_GOSTR3410;
    double t0 = now_s(), spare;
    long count = 0;
    ck("C_Logout", F->C_Logout(b->session));
    do {
        double r0 = now_s();
        ck("C_Login(user)", F->C_Login(b->session, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, 8));
        CK_OBJECT_HANDLE key = find_private_key(b->session, kt);
        timed_token_sign(b, key, &init[count], &sign[count]);
        double r1 = now_s();
        timed_token_sign(b, key, &spare, &second[count]);
        double r2 = now_s();
        ck("C_Logout", F->C_Logout(b->session));
        whole[count] = (r1 - r0) + (now_s() - r2);
        count++;
    } while (now_s() - t0 < seconds && count < MAX_REQUESTS);
    ck("C_Login(user)", F->C_Login(b->session, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, 8));
    b->priv = find_private_key(b->session, kt);
    gs_status st;
    if (gost_verify_digest(b->token_pub, b->digest, (size_t)b->bits / 8, b->token_sig,
                           b->token_sig_len, &st) != GS_ERR_OK)
        die("OpenSSL verification of an agent-path signature", 0);
    agent_path_us med = { median_us(init, count), median_us(sign, count), median_us(second, count),
                          median_us(whole, count) };
    return med;
}

/* Measures one key size and prints its RESULT lines. */
static void bench_size(CK_SESSION_HANDLE s, int bits, double seconds)
{
    bench_ctx b = { .bits = bits, .session = s };
    gs_status st;
    b.token_pub = token_key_pair(s, bits, &b.priv, &b.pub);
    b.evp_key = gost_key_generate(gost_paramset_find(bits == 512 ? "512:A" : "256:A"), &st);
    if (!b.evp_key)
        die("EVP key generation", 0);
    RAND_bytes(b.digest, bits / 8);
    cross_check(&b);
    double r[OP_COUNT][ROUNDS];
    for (int round = 0; round < ROUNDS; round++)
        for (int op = 0; op < OP_COUNT; op++)
            r[op][round] = rate(&b, (op_kind)op, seconds);
    double agent[4][ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        agent_path_us a = agent_path(&b, seconds);
        agent[0][round] = a.sign;
        agent[1][round] = a.whole;
        agent[2][round] = a.sign_init;
        agent[3][round] = a.second;
    }
    for (int op = 0; op < OP_COUNT; op++)
        printf("RESULT %s-%d %.1f ops/s\n", op_names[op], bits, median3(r[op]));
    printf("RESULT agent-path-sign-%d-us %.2f us\n", bits, median3(agent[0]));
    printf("RESULT agent-path-request-%d-us %.2f us\n", bits, median3(agent[1]));
    printf("RESULT agent-path-signinit-%d-us %.2f us\n", bits, median3(agent[2]));
    printf("RESULT agent-path-second-sign-%d-us %.2f us\n", bits, median3(agent[3]));
    rebuild_cost(b.evp_key, bits);
    fflush(stdout);
    EVP_PKEY_free(b.token_pub);
    EVP_PKEY_free(b.evp_key);
}

/* A P-256 key pair on the peer's token (CKA_EC_PARAMS: the DER OID of prime256v1). */
static void ecdsa_key_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    static const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
    CK_BBOOL yes = CK_TRUE;
    CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
    CK_ATTRIBUTE pt[] = { { CKA_TOKEN, &yes, sizeof yes },
                          { CKA_EC_PARAMS, (void *)p256, sizeof p256 },
                          { CKA_VERIFY, &yes, sizeof yes } };
    CK_ATTRIBUTE kt[] = { { CKA_TOKEN, &yes, sizeof yes },
                          { CKA_PRIVATE, &yes, sizeof yes },
                          { CKA_SIGN, &yes, sizeof yes } };
    ck("C_GenerateKeyPair(EC)", F->C_GenerateKeyPair(s, &m, pt, 3, kt, 3, pub, priv));
}

/* One peer signature (C_SignInit + C_Sign, CKM_ECDSA over a digest). */
static void ecdsa_sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, const uint8_t *dg, uint8_t *sig,
                       CK_ULONG *len)
{
    CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
    *len = GOST_MAX_SIGNATURE;
    ck("C_SignInit(ECDSA)", F->C_SignInit(s, &m, key));
    ck("C_Sign(ECDSA)", F->C_Sign(s, (CK_BYTE_PTR)dg, 32, sig, len));
}

/* Peer signatures per second over about `seconds`. */
static double ecdsa_rate(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, const uint8_t *dg,
                         double seconds)
{
    uint8_t sig[GOST_MAX_SIGNATURE];
    CK_ULONG len;
    long count = 0;
    double t0 = now_s(), t;
    do {
        ecdsa_sign(s, key, dg, sig, &len);
        count++;
    } while ((t = now_s() - t0) < seconds);
    return (double)count / t;
}

/* OpenSSL's own ECDSA P-256 signatures per second (the peer module's EVP floor). */
static double evp_ecdsa_rate(const uint8_t *dg, double seconds)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        die("EVP_EC_gen(P-256)", 0);
    uint8_t sig[GOST_MAX_SIGNATURE];
    size_t len;
    long count = 0;
    double t0 = now_s(), t;
    do {
        evp_sign(k, dg, 32, sig, &len);
        count++;
    } while ((t = now_s() - t0) < seconds);
    EVP_PKEY_free(k);
    return (double)count / t;
}

/* --ecdsa-peer: the peer module's P-256 sign rate beside OpenSSL's, interleaved rounds. */
static int ecdsa_peer(const char *module, double seconds)
{
    load_module(module);
    double login;
    CK_SESSION_HANDLE s = new_token_session(&login);
    CK_OBJECT_HANDLE pub, priv;
    ecdsa_key_pair(s, &pub, &priv);
    uint8_t dg[32], sig[GOST_MAX_SIGNATURE];
    RAND_bytes(dg, sizeof dg);
    CK_ULONG len;
    ecdsa_sign(s, priv, dg, sig, &len);
    CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
    ck("C_VerifyInit(ECDSA)", F->C_VerifyInit(s, &m, pub));
    ck("C_Verify(ECDSA)", F->C_Verify(s, dg, sizeof dg, sig, len));
    sig[len / 2] ^= 1;
    ck("C_VerifyInit(ECDSA)", F->C_VerifyInit(s, &m, pub));
    if (F->C_Verify(s, dg, sizeof dg, sig, len) == CKR_OK)
        die("the peer accepted a damaged signature", 0);
    double peer[ROUNDS], evp[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        peer[round] = ecdsa_rate(s, priv, dg, seconds);
        evp[round] = evp_ecdsa_rate(dg, seconds);
    }
    printf("RESULT peer-ecdsa-p256-sign %.1f ops/s\n", median3(peer));
    printf("RESULT evp-ecdsa-p256-sign %.1f ops/s\n", median3(evp));
    F->C_CloseSession(s);
    F->C_Finalize(NULL);
    return 0;
}

/* Creates a token, times one login, then measures both key sizes. */
int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "--ecdsa-peer") == 0 && argc < 3)) {
        fprintf(stderr, "usage: bench-token [--ecdsa-peer] MODULE [SECONDS_PER_ROUND]\n");
        return 2;
    }
    if (strcmp(argv[1], "--ecdsa-peer") == 0)
        return ecdsa_peer(argv[2], argc > 3 ? atof(argv[3]) : 1.0);
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    gs_status st;
    if (gost_init(&st) != GS_ERR_OK)
        die("gost_init", 0);
    load_module(argv[1]);
    double login = 0;
    CK_SESSION_HANDLE s = new_token_session(&login);
    const char *iters = getenv("GOSTSIGN_SOFTTOKEN_KDF_ITERATIONS");
    printf("RESULT login-ms %.3f ms\n", login * 1e3);
    printf("RESULT login-kdf-iterations %s count\n", iters ? iters : "default");
    bench_size(s, 256, seconds);
    bench_size(s, 512, seconds);
    F->C_CloseSession(s);
    F->C_Finalize(NULL);
    return 0;
}
