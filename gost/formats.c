/*
 * Byte layouts of GOST keys and signatures: PKCS#11 attributes (little-endian X||Y and d),
 * X.509 SubjectPublicKeyInfo, DER OIDs, and the s||r versus r||s signature orders.
 */
#define OPENSSL_API_COMPAT 10101
#include "primitives.h"
#include "gost_internal.h"

#include <ctype.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* Byte length of one coordinate or scalar for a key size. */
static size_t coord_len(int bits)
{
    return (size_t)bits / 8;
}

/* Public point as PKCS#11 CKA_VALUE: X then Y, each little-endian. */
gs_code gost_pubkey_to_raw(const EVP_PKEY *key, uint8_t *out, size_t *out_len, gs_status *st)
{
    const EC_KEY *ec = gost_key_ec(key);
    const EC_POINT *pt = ec ? EC_KEY_get0_public_key(ec) : NULL;
    if (!pt || gost_key_bits(key) == 0)
        return gs_fail(st, GS_ERR_BAD_KEY, "not a GOST R 34.10-2012 public key");
    size_t n = coord_len(gost_key_bits(key));
    BIGNUM *x = BN_new(), *y = BN_new();
    gs_code rc = GS_ERR_OK;
    if (!x || !y || !EC_POINT_get_affine_coordinates(EC_KEY_get0_group(ec), pt, x, y, NULL) ||
        BN_bn2lebinpad(x, out, (int)n) != (int)n || BN_bn2lebinpad(y, out + n, (int)n) != (int)n)
        rc = gs_fail(st, GS_ERR_BAD_KEY, "cannot read the public point");
    BN_free(x);
    BN_free(y);
    if (rc == GS_ERR_OK)
        *out_len = 2 * n;
    return rc;
}

/* Builds a public key from CKA_VALUE bytes; the point must lie on the curve. */
EVP_PKEY *gost_pubkey_from_raw(const gost_paramset *ps, const uint8_t *raw, size_t len,
                               gs_status *st)
{
    size_t n = coord_len(ps->key_bits);
    if (len != 2 * n) {
        gs_fail(st, GS_ERR_BAD_KEY, "a %d-bit public key is %zu bytes, got %zu", ps->key_bits,
                2 * n, len);
        return NULL;
    }
    EVP_PKEY *pkey = gost_key_with_params(ps, st);
    EC_KEY *ec = pkey ? (EC_KEY *)gost_key_ec(pkey) : NULL;
    BIGNUM *x = BN_lebin2bn(raw, (int)n, NULL);
    BIGNUM *y = BN_lebin2bn(raw + n, (int)n, NULL);
    if (!ec || !x || !y || !EC_KEY_set_public_key_affine_coordinates(ec, x, y)) {
        if (pkey)
            gs_fail(st, GS_ERR_BAD_KEY, "public key is not a point of %s", ps->name);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    BN_free(x);
    BN_free(y);
    ERR_clear_error();
    return pkey;
}

/* Private scalar as PKCS#11 CKA_VALUE: d, little-endian. */
gs_code gost_privkey_to_raw(const EVP_PKEY *key, uint8_t *out, size_t *out_len, gs_status *st)
{
    const EC_KEY *ec = gost_key_ec(key);
    const BIGNUM *d = ec ? EC_KEY_get0_private_key(ec) : NULL;
    if (!d || gost_key_bits(key) == 0)
        return gs_fail(st, GS_ERR_BAD_KEY, "not a GOST R 34.10-2012 private key");
    size_t n = coord_len(gost_key_bits(key));
    if (BN_bn2lebinpad(d, out, (int)n) != (int)n)
        return gs_fail(st, GS_ERR_BAD_KEY, "private key does not fit %zu bytes", n);
    *out_len = n;
    return GS_ERR_OK;
}

/* Rebuilds a full key pair (the public point is derived) from d. */
EVP_PKEY *gost_privkey_from_raw(const gost_paramset *ps, const uint8_t *raw, size_t len,
                                gs_status *st)
{
    if (len != coord_len(ps->key_bits)) {
        gs_fail(st, GS_ERR_BAD_KEY, "a %d-bit private key is %zu bytes, got %zu", ps->key_bits,
                coord_len(ps->key_bits), len);
        return NULL;
    }
    EVP_PKEY *pkey = gost_key_with_params(ps, st);
    EC_KEY *ec = pkey ? (EC_KEY *)gost_key_ec(pkey) : NULL;
    const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
    BIGNUM *d = BN_lebin2bn(raw, (int)len, NULL);
    EC_POINT *pub = g ? EC_POINT_new(g) : NULL;
    int ok = ec && d && pub && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
             EC_POINT_mul(g, pub, d, NULL, NULL, NULL) && EC_KEY_set_private_key(ec, d) &&
             EC_KEY_set_public_key(ec, pub);
    if (!ok && pkey) {
        gs_fail(st, GS_ERR_BAD_KEY, "private key is out of range for %s", ps->name);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    BN_clear_free(d);
    EC_POINT_free(pub);
    ERR_clear_error();
    return pkey;
}

/*
 * Puts the private scalar d back into a key pair built once by gost_privkey_from_raw whose
 * scalar gost_privkey_wipe removed: the group and the public point are kept, so the costly
 * parameter set-up and d*G are not redone. The caller guarantees d is the key's own scalar.
 */
gs_code gost_privkey_set_raw(EVP_PKEY *key, const uint8_t *raw, size_t len, gs_status *st)
{
    EC_KEY *ec = (EC_KEY *)gost_key_ec(key);
    const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
    if (!g || !EC_KEY_get0_public_key(ec) || len != coord_len(gost_key_bits(key)))
        return gs_fail(st, GS_ERR_BAD_KEY, "not a GOST key pair of %zu-byte scalars", len);
    BIGNUM *d = BN_lebin2bn(raw, (int)len, NULL);
    int ok = d && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
             EC_KEY_set_private_key(ec, d);
    BN_clear_free(d);
    ERR_clear_error();
    return ok ? GS_ERR_OK : gs_fail(st, GS_ERR_BAD_KEY, "private key is out of range");
}

/*
 * Removes and wipes a key pair's private scalar, keeping its group and public point (they are
 * not secret). OpenSSL 3.0.6 and later clear the scalar's BIGNUM (BN_clear_free) when
 * EC_KEY_set_private_key is given NULL; that call reports 0 by design.
 */
void gost_privkey_wipe(EVP_PKEY *key)
{
    EC_KEY *ec = (EC_KEY *)gost_key_ec(key);
    if (ec && EC_KEY_get0_private_key(ec))
        EC_KEY_set_private_key(ec, NULL);
    ERR_clear_error();
}

/* True when the key holds a private scalar. */
int gost_privkey_present(const EVP_PKEY *key)
{
    const EC_KEY *ec = gost_key_ec(key);
    return ec && EC_KEY_get0_private_key(ec) != NULL;
}

/* DER SubjectPublicKeyInfo; the caller frees *der with OPENSSL_free. */
gs_code gost_pubkey_to_spki(const EVP_PKEY *key, uint8_t **der, size_t *der_len, gs_status *st)
{
    *der = NULL;
    int n = i2d_PUBKEY((EVP_PKEY *)key, der);
    if (n <= 0)
        return gs_fail(st, GS_ERR_BAD_KEY, "cannot encode SubjectPublicKeyInfo");
    *der_len = (size_t)n;
    return GS_ERR_OK;
}

/* Parses a DER SubjectPublicKeyInfo; refuses trailing bytes. */
EVP_PKEY *gost_pubkey_from_spki(const uint8_t *der, size_t der_len, gs_status *st)
{
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)der_len);
    if (!pkey || p != der + der_len) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        gs_fail(st, GS_ERR_BAD_KEY, "not a DER SubjectPublicKeyInfo");
        return NULL;
    }
    return pkey;
}

/* OID to DER, as PKCS#11 stores CKA_GOSTR3410_PARAMS. */
gs_code gost_oid_to_der(const char *dotted, uint8_t *out, size_t out_cap, size_t *out_len,
                        gs_status *st)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(dotted, 1);
    int n = obj ? i2d_ASN1_OBJECT(obj, NULL) : -1;
    gs_code rc = GS_ERR_OK;
    if (n <= 0 || (size_t)n > out_cap) {
        rc = gs_fail(st, GS_ERR_UNKNOWN_PARAMSET, "cannot encode OID %s", dotted);
    } else {
        unsigned char *p = out;
        i2d_ASN1_OBJECT(obj, &p);
        *out_len = (size_t)n;
    }
    ASN1_OBJECT_free(obj);
    ERR_clear_error();
    return rc;
}

/* DER to dotted OID text. */
gs_code gost_oid_from_der(const uint8_t *der, size_t len, char *out, size_t out_cap, gs_status *st)
{
    const unsigned char *p = der;
    ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)len);
    gs_code rc = GS_ERR_OK;
    if (!obj || p != der + len || OBJ_obj2txt(out, (int)out_cap, obj, 1) <= 0)
        rc = gs_fail(st, GS_ERR_UNKNOWN_PARAMSET, "not a DER object identifier");
    ASN1_OBJECT_free(obj);
    ERR_clear_error();
    return rc;
}

/* Swaps the two halves: s||r and r||s differ only in which half comes first. */
gs_code gost_sig_convert(const uint8_t *in, size_t len, gost_sig_layout from, gost_sig_layout to,
                         uint8_t *out, gs_status *st)
{
    if (len != 64 && len != 128)
        return gs_fail(st, GS_ERR_BAD_SIGNATURE_FORMAT, "signature of %zu bytes", len);
    uint8_t tmp[GOST_MAX_SIGNATURE];
    size_t half = len / 2;
    if (from == to) {
        memmove(out, in, len);
        return GS_ERR_OK;
    }
    memcpy(tmp, in + half, half);
    memcpy(tmp + half, in, half);
    memcpy(out, tmp, len);
    return GS_ERR_OK;
}

/* Lower-case hex, as `openssl dgst` prints. */
void gost_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* Value of one hex digit, or -1. */
static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Tolerant hex parser for test vectors and protocol input (whitespace and ':' skipped). */
long gost_unhex(const char *hex, uint8_t *out, size_t out_cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p) || *p == ':')
            continue;
        int v = hex_value((unsigned char)*p);
        if (v < 0)
            return -1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= out_cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi < 0 ? (long)n : -1;
}

/* In-place byte reversal between big- and little-endian numbers. */
void gost_reverse(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len / 2; i++) {
        uint8_t t = buf[i];
        buf[i] = buf[len - 1 - i];
        buf[len - 1 - i] = t;
    }
}
