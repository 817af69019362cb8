/* GOST R 34.10-2012 key generation, signing and verification over a digest, via the engine. */
#define OPENSSL_API_COMPAT 10101
#include "primitives.h"
#include "gost_internal.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>

/* Engine algorithm NID for a key size. */
static int key_nid_for_bits(int bits)
{
    return bits == 512 ? NID_id_GostR3410_2012_512 : NID_id_GostR3410_2012_256;
}

/* Creates an empty key carrying only the curve of ps; keys.c and formats.c fill it in. */
EVP_PKEY *gost_key_with_params(const gost_paramset *ps, gs_status *st)
{
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(key_nid_for_bits(ps->key_bits), NULL);
    if (!ctx || EVP_PKEY_paramgen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_ctrl_str(ctx, "paramset", ps->engine_name) <= 0 ||
        EVP_PKEY_paramgen(ctx, &pkey) <= 0) {
        gs_fail(st, GS_ERR_UNKNOWN_PARAMSET, "the GOST engine rejected parameter set %s", ps->name);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey;
}

/* Key generation: the engine draws the private key from OpenSSL's DRBG. */
EVP_PKEY *gost_key_generate(const gost_paramset *ps, gs_status *st)
{
    if (!ps) {
        gs_fail(st, GS_ERR_UNKNOWN_PARAMSET, "no parameter set given");
        return NULL;
    }
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(key_nid_for_bits(ps->key_bits), NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_ctrl_str(ctx, "paramset", ps->engine_name) <= 0 ||
        EVP_PKEY_keygen(ctx, &pkey) <= 0) {
        gs_fail(st, GS_ERR_ENGINE_FAILED, "key generation failed on %s", ps->name);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return pkey;
}

/* Size of a 2012 key; 0 for anything else, including GOST 2001. */
int gost_key_bits(const EVP_PKEY *pkey)
{
    if (!pkey)
        return 0;
    switch (EVP_PKEY_get_base_id(pkey)) {
    case NID_id_GostR3410_2012_256:
        return 256;
    case NID_id_GostR3410_2012_512:
        return 512;
    default:
        return 0;
    }
}

/* GOST R 34.10-2001 keys are recognised only to be refused. */
int gost_key_is_2001(const EVP_PKEY *pkey)
{
    return pkey && EVP_PKEY_get_base_id(pkey) == NID_id_GostR3410_2001;
}

/* The engine keeps GOST keys as EC_KEYs whose curve name is the parameter set NID. */
const EC_KEY *gost_key_ec(const EVP_PKEY *pkey)
{
    if (!pkey || (gost_key_bits(pkey) == 0 && !gost_key_is_2001(pkey)))
        return NULL;
    return (const EC_KEY *)EVP_PKEY_get0(pkey);
}

/* Finds the table entry for a key's curve. */
const gost_paramset *gost_key_paramset(const EVP_PKEY *pkey)
{
    const EC_KEY *ec = gost_key_ec(pkey);
    const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
    if (!g)
        return NULL;
    int nid = EC_GROUP_get_curve_name(g);
    size_t n = 0;
    const gost_paramset *all = gost_paramset_list(&n);
    for (size_t i = 0; i < n; i++)
        if (all[i].nid == nid)
            return &all[i];
    return NULL;
}

/* Checks the digest length against the key size before handing it to the engine. */
static gs_code check_digest_len(const EVP_PKEY *key, size_t digest_len, gs_status *st)
{
    int bits = gost_key_bits(key);
    if (bits == 0)
        return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "not a GOST R 34.10-2012 key");
    if (digest_len != (size_t)bits / 8)
        return gs_fail(st, GS_ERR_BAD_KEY, "a %d-bit key signs a %d-byte digest, got %zu bytes",
                       bits, bits / 8, digest_len);
    return GS_ERR_OK;
}

/* Raw signature over a digest; the engine already emits the s || r layout. */
gs_code gost_sign_digest(EVP_PKEY *key, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                         size_t *sig_len, gs_status *st)
{
    gs_code rc = check_digest_len(key, digest_len, st);
    if (rc != GS_ERR_OK)
        return rc;
    size_t want = (size_t)gost_key_bits(key) / 4;
    size_t len = want;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
        EVP_PKEY_sign(ctx, sig, &len, digest, digest_len) <= 0 || len != want)
        rc = gs_fail(st, GS_ERR_SIGN_FAILED, "EVP_PKEY_sign failed");
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (rc == GS_ERR_OK)
        *sig_len = len;
    return rc;
}

/* Verification of an s || r signature; any failure is reported as an invalid signature. */
gs_code gost_verify_digest(EVP_PKEY *key, const uint8_t *digest, size_t digest_len,
                           const uint8_t *sig, size_t sig_len, gs_status *st)
{
    gs_code rc = check_digest_len(key, digest_len, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (sig_len != (size_t)gost_key_bits(key) / 4)
        return gs_fail(st, GS_ERR_BAD_SIGNATURE_FORMAT, "signature is %zu bytes, expected %d",
                       sig_len, gost_key_bits(key) / 4);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    int ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
             EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok ? GS_ERR_OK : gs_fail(st, GS_ERR_CMS_BAD_SIGNATURE, "signature does not verify");
}
