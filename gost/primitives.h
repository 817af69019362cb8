/*
 * gost/: GOST R 34.11-2012 digests and GOST R 34.10-2012 keys and signatures.
 *
 * OpenSSL with the GOST engine does the mathematics; this layer names parameter sets, converts
 * between the byte layouts that PKCS#11, CMS and X.509 use, and reports failures as gs_codes.
 * Call gost_init() once before anything else (it is idempotent and thread-safe).
 */
#ifndef GOSTSIGN_GOST_PRIMITIVES_H
#define GOSTSIGN_GOST_PRIMITIVES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "errors.h"

/* Largest digest (Streebog-512) and signature (512-bit key) sizes in bytes. */
#define GOST_MAX_DIGEST    64
#define GOST_MAX_SIGNATURE 128
#define GOST_MAX_PUBKEY    128

/* ---- backend (engine.c: the only file that knows how the GOST algorithms are loaded) ---- */

/* Loads the GOST engine without reading openssl.cnf. Safe to call many times. */
gs_code gost_init(gs_status *st);

/* Path of the loaded backend module, for `gostsign doctor` and diagnostics. */
const char *gost_backend_path(void);
/* The loaded backend's id and name ("gost: Reference implementation of GOST engine"), or "". */
const char *gost_backend_name(void);

/* ---- GOST R 34.11-2012 (Streebog) ---- */

/* Returns the Streebog EVP_MD for 256 or 512 bits, or NULL. Requires gost_init(). */
const EVP_MD *gost_digest_md(int bits);

typedef struct gost_digest gost_digest;

/* Starts a streaming digest; bits is 256 or 512. */
gost_digest *gost_digest_new(int bits, gs_status *st);
gs_code gost_digest_update(gost_digest *d, const void *data, size_t len, gs_status *st);
/* Writes bits/8 bytes to out (in the byte order `openssl dgst` prints). */
gs_code gost_digest_final(gost_digest *d, uint8_t *out, gs_status *st);
void gost_digest_free(gost_digest *d);

/* One-shot digest of a buffer. */
gs_code gost_digest_buffer(int bits, const void *data, size_t len, uint8_t *out, gs_status *st);

/* Digest of everything readable from fd, in constant memory (64 KiB buffer). */
gs_code gost_digest_fd(int bits, int fd, uint8_t *out, gs_status *st);

/* ---- parameter sets and OIDs (oids.c) ---- */

typedef struct {
    const char *name;          /* canonical short name: "256:A" ... "512:C", "256:test" */
    const char *oid;           /* dotted OID of the curve parameter set */
    const char *long_name;     /* e.g. "id-tc26-gost-3410-12-256-paramSetA" */
    const char *aliases;       /* space-separated aliases accepted by gost_paramset_find() */
    const char *engine_name;   /* the GOST engine's `paramset` control value */
    const char *same_curve_as; /* TC26 name of the identical curve, or NULL */
    int key_bits;              /* 256 or 512 */
    int test_only;             /* the standards' example curves: never for real keys */
    int nid;                   /* OpenSSL NID of the parameter set OID */
} gost_paramset;

/* Accepts "256:A", "A" (256 assumed), "TCA", "CryptoPro-A", "XchA", long names or dotted OIDs. */
const gost_paramset *gost_paramset_find(const char *name_or_oid);
/* All known parameter sets, for listing. */
const gost_paramset *gost_paramset_list(size_t *count);

/* Key algorithm OIDs (RFC 9215 / TC26). */
#define GOST_OID_KEY_2012_256 "1.2.643.7.1.1.1.1"
#define GOST_OID_KEY_2012_512 "1.2.643.7.1.1.1.2"
#define GOST_OID_KEY_2001     "1.2.643.2.2.19"
#define GOST_OID_DIGEST_256   "1.2.643.7.1.1.2.2"
#define GOST_OID_DIGEST_512   "1.2.643.7.1.1.2.3"
#define GOST_OID_SIG_2012_256 "1.2.643.7.1.1.3.2"
#define GOST_OID_SIG_2012_512 "1.2.643.7.1.1.3.3"

/* ---- keys and signatures (keys.c) ---- */

/* Generates a key pair on the given parameter set. */
EVP_PKEY *gost_key_generate(const gost_paramset *ps, gs_status *st);

/* Key size in bits (256 or 512), or 0 when pkey is not a GOST R 34.10-2012 key. */
int gost_key_bits(const EVP_PKEY *pkey);
/* True for a GOST R 34.10-2001 key, which qualified signatures no longer accept. */
int gost_key_is_2001(const EVP_PKEY *pkey);
/* Parameter set of a key, or NULL when unknown. */
const gost_paramset *gost_key_paramset(const EVP_PKEY *pkey);

/*
 * Signs a digest (as produced by gost_digest_*) and writes the PKCS#11/CMS layout: s || r,
 * each big-endian and bits/8 long. *sig_len is set to 2 * bits/8.
 */
gs_code gost_sign_digest(EVP_PKEY *key, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                         size_t *sig_len, gs_status *st);
/* Verifies an s || r signature over a digest. GS_ERR_OK only when it is valid. */
gs_code gost_verify_digest(EVP_PKEY *key, const uint8_t *digest, size_t digest_len,
                           const uint8_t *sig, size_t sig_len, gs_status *st);

/* ---- byte layouts (formats.c) ---- */

/*
 * PKCS#11 CKA_VALUE of a GOST public key: X || Y, each little-endian (64 or 128 bytes).
 * The same bytes sit inside the OCTET STRING of an X.509 SubjectPublicKeyInfo.
 */
gs_code gost_pubkey_to_raw(const EVP_PKEY *key, uint8_t *out, size_t *out_len, gs_status *st);
EVP_PKEY *gost_pubkey_from_raw(const gost_paramset *ps, const uint8_t *raw, size_t len,
                               gs_status *st);

/* PKCS#11 CKA_VALUE of a GOST private key: d, little-endian (32 or 64 bytes). */
gs_code gost_privkey_to_raw(const EVP_PKEY *key, uint8_t *out, size_t *out_len, gs_status *st);
EVP_PKEY *gost_privkey_from_raw(const gost_paramset *ps, const uint8_t *raw, size_t len,
                                gs_status *st);
/* A key pair's private scalar removed (wiped) and put back, the group and public point kept:
 * how the software token keeps a key's costly public part across logins. */
gs_code gost_privkey_set_raw(EVP_PKEY *key, const uint8_t *raw, size_t len, gs_status *st);
void gost_privkey_wipe(EVP_PKEY *key);
int gost_privkey_present(const EVP_PKEY *key);

/* DER SubjectPublicKeyInfo, as in certificates and `openssl pkey -pubout -outform DER`. */
gs_code gost_pubkey_to_spki(const EVP_PKEY *key, uint8_t **der, size_t *der_len, gs_status *st);
EVP_PKEY *gost_pubkey_from_spki(const uint8_t *der, size_t der_len, gs_status *st);

/*
 * DER of the PKCS#11 CKA_GOSTR3410_PARAMS / CKA_GOSTR3411_PARAMS attributes: an encoded OID.
 * Writes at most out_cap bytes.
 */
gs_code gost_oid_to_der(const char *dotted, uint8_t *out, size_t out_cap, size_t *out_len,
                        gs_status *st);
/* Decodes a DER OID into dotted form. */
gs_code gost_oid_from_der(const uint8_t *der, size_t len, char *out, size_t out_cap, gs_status *st);

/* Signature layouts. S_R is PKCS#11, CMS and X.509; R_S is the order the standards print. */
typedef enum { GOST_SIG_S_R, GOST_SIG_R_S } gost_sig_layout;

/* Converts between layouts in place-safe fashion (in and out may alias). */
gs_code gost_sig_convert(const uint8_t *in, size_t len, gost_sig_layout from, gost_sig_layout to,
                         uint8_t *out, gs_status *st);

/* ---- small helpers (formats.c) ---- */

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void gost_hex(const uint8_t *in, size_t len, char *out);
/* Parses hex (spaces allowed) into out; returns the number of bytes or -1. */
long gost_unhex(const char *hex, uint8_t *out, size_t out_cap);
/* Reverses a byte string in place: GOST numbers are little-endian in PKCS#11 and X.509. */
void gost_reverse(uint8_t *buf, size_t len);

#endif
