/*
 * PKCS#12 (.p12 / .pfx) files as certification centres and `openssl pkcs12 -export -engine gost`
 * produce them: a GOST R 34.10-2012 private key and its certificate, protected by a password
 * (PBES2 with AES, GOST 28147-89, Magma or Kuznyechik, and an HMAC with SHA-2 or Streebog).
 * OpenSSL's PKCS#12 code with the GOST engine does the decoding; this layer tells the failures
 * apart: wrong password (the MAC fails), damaged file, no key/certificate pair, unsupported key.
 */
#ifndef GOSTSIGN_PKCS12_H
#define GOSTSIGN_PKCS12_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "errors.h"
#include "primitives.h"

/* Largest PKCS#12 file accepted (real ones are a few KiB). */
#define GS_PKCS12_MAX_INPUT (1024 * 1024)

typedef struct {
    EVP_PKEY *key;                 /* GOST R 34.10-2012 private key */
    X509 *cert;                    /* the certificate whose public key is the key's */
    STACK_OF(X509) * extra_certs;  /* other certificates in the file (CA chain), may be empty */
    char *friendly_name;           /* the certificate's or key's friendlyName (UTF-8), or NULL */
    int key_bits;                  /* 256 or 512 */
    const gost_paramset *paramset; /* the key's parameter set */
} gs_pkcs12;

/*
 * Decodes a DER PKCS#12 with the password (UTF-8; "" and NULL both mean an empty password).
 * Errors: PKCS12_DAMAGED (not PKCS#12, truncated, trailing bytes, undecryptable contents, larger
 * than GS_PKCS12_MAX_INPUT), PKCS12_BAD_PASSWORD (the MAC does not verify), UNSUPPORTED_ALGORITHM
 * (a MAC or encryption algorithm OpenSSL and the GOST engine do not know, or a key that is not
 * GOST R 34.10-2012), CERT_GOST2001 (a GOST R 34.10-2001 key), PKCS12_INCOMPLETE (no key, or no
 * certificate matching it).
 */
gs_pkcs12 *gs_pkcs12_parse(const uint8_t *der, size_t len, const char *password, gs_status *st);
void gs_pkcs12_free(gs_pkcs12 *p);

#endif
