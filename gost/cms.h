/*
 * CMS SignedData / CAdES-BES with GOST R 34.10-2012 over Streebog, built with OpenSSL's CMS API.
 *
 * Building: the private key never reaches this module. A signer callback receives the Streebog
 * digest of the DER-encoded signed attributes and returns the raw signature in the PKCS#11
 * layout s || r (as gost_sign_digest writes it), so a PKCS#11 token, the agent or a software key
 * can sign. Signed attributes: contentType, messageDigest, signingTime, signingCertificateV2
 * (RFC 5035, ESSCertIDv2 with Streebog-256 and issuerSerial).
 *
 * Verifying: signature, messageDigest, the signer certificate against the signer identifier and
 * signingCertificateV2, its validity at signing time (GOST R 34.10-2001 refused), the chain to a
 * trust directory and a local CRL. Every failure has its own gs_code (see gost/errors.def).
 */
#ifndef GOSTSIGN_CMS_H
#define GOSTSIGN_CMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "errors.h"
#include "primitives.h"
#include "policy.h"
#include "qcert.h"
#include "revocation.h"

/* What the signer is given: the DER of the signed attributes and its Streebog digest. */
typedef struct {
    const uint8_t *data;   /* DER of the signed attributes: for tokens that hash by themselves */
    size_t data_len;       /* (the combined CKM_GOSTR3410_WITH_GOSTR3411_12_* mechanisms) */
    const uint8_t *digest; /* Streebog over data, key bits / 8 bytes: for raw signers */
    size_t digest_len;
} gs_cms_tbs;

/*
 * Signs the signed attributes (the digest, or the data for a signer that hashes itself) and
 * writes the s || r signature (2 * key bits / 8 bytes) into sig, which holds sig_cap bytes.
 * Returns GS_ERR_OK, or a failure code (e.g. PIN_INCORRECT, USER_CANCELLED, SIGN_FAILED) that
 * gs_cms_sign passes on unchanged.
 */
typedef gs_code (*gs_cms_signer_fn)(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                                    size_t *sig_len, gs_status *st);

/* What to sign and how. Zero-initialise, then set the fields you need. */
typedef struct {
    X509 *cert;             /* signer certificate (GOST R 34.10-2012), required */
    STACK_OF(X509) * chain; /* extra certificates to include, or NULL */
    int omit_signer_cert;   /* 1: do not put the signer certificate into the CMS */
    gs_cms_signer_fn sign;  /* required */
    void *sign_ctx;         /* passed to sign */
    int attached;           /* 1: embed the content (needs content or content_fd) */
    /* Content: exactly one of the three. */
    const uint8_t *content; /* buffer, content_len bytes (may be 0 with a non-NULL pointer) */
    size_t content_len;
    int content_fd;                /* >= 0: read to EOF (hashed in constant memory when detached) */
    const uint8_t *content_digest; /* precomputed Streebog digest of the content (detached only), */
    size_t content_digest_len;     /* key bits / 8 bytes, e.g. from gost_digest_fd */
    time_t signing_time;           /* signingTime attribute; 0 = now */
    /* contentHints attribute (RFC 2634) with this contentDescription, or NULL for none. The agent
     * marks `authenticate` logins with GS_CMS_AUTH_HINT, which `sign` never produces. */
    const char *content_hint;
} gs_cms_sign_params;

/* The contentDescription of the contentHints attribute that marks a gostsign login. */
#define GS_CMS_AUTH_HINT "gostsign-authenticate-v1"

/* Sets the defaults: everything zero and content_fd = -1. */
void gs_cms_sign_params_init(gs_cms_sign_params *p);

/*
 * Builds a DER CMS SignedData. *der is allocated with OPENSSL_malloc: free it with OPENSSL_free.
 * The callback's signature is checked against the certificate's public key before the CMS is
 * returned, so a key that does not belong to the certificate gives GS_ERR_CERT_MISMATCH.
 */
gs_code gs_cms_sign(const gs_cms_sign_params *p, uint8_t **der, size_t *der_len, gs_status *st);

/*
 * Co-signing (CryptoPro's CoSignCades): adds one signer to an existing SignedData (DER or PEM)
 * and returns the whole CMS. The content is the one inside an attached CMS; for a detached one
 * give p->content, content_fd or content_digest. p->attached is ignored.
 */
gs_code gs_cms_cosign(const gs_cms_sign_params *p, const uint8_t *existing, size_t existing_len,
                      uint8_t **der, size_t *der_len, gs_status *st);

/* A copy of the content inside an attached CMS (malloc'ed); CMS_CONTENT_MISSING if detached. */
gs_code gs_cms_attached_content(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                                gs_status *st);

/* 1 when the CMS carries its content, 0 when detached or unparsable. */
int gs_cms_is_attached(const uint8_t *data, size_t len);

/* Number of signers of a CMS SignedData, -1 when it cannot be parsed. */
int gs_cms_signer_count(const uint8_t *data, size_t len);

/* A ready-made callback for software keys: ctx is an EVP_PKEY *, signs with gost_sign_digest. */
gs_code gs_cms_sign_with_pkey(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                              size_t *sig_len, gs_status *st);

/* Verification inputs. Zero-initialise with gs_cms_verify_opts_init. */
typedef struct {
    /* Detached content: one of the three (ignored when absent and the CMS is attached). */
    const uint8_t *content; /* buffer of content_len bytes */
    size_t content_len;
    int content_fd;                /* >= 0: hashed in constant memory */
    const uint8_t *content_digest; /* precomputed Streebog digest, of the signer's digest size */
    size_t content_digest_len;
    const char *ca_dir;   /* trust directory with hashed links (`openssl rehash`), or NULL */
    const char *ca_file;  /* PEM bundle of trusted certificates, or NULL */
    const char *crl_file; /* PEM or DER CRL of the signer's issuer, or NULL */
    time_t now;           /* time to use when the CMS has no signingTime; 0 = now */
    /* Online / extra revocation through gost/revocation.h (CRL distribution point, OCSP), checked
     * last, at the current time, against the issuer from the verified chain; NULL: not asked. */
    const gs_revocation_opts *revocation;
    const gs_policy *policy; /* relying-party policy (gost/policy.h), checked after the chain */
    int signer_index; /* -1: the CMS must have exactly one signer; n >= 0: verify signer n */
} gs_cms_verify_opts;

/* Sets the defaults: everything zero/NULL and content_fd = -1. */
void gs_cms_verify_opts_init(gs_cms_verify_opts *o);

/* What a verification found. Release with gs_cms_verify_result_clear (also after a failure). */
typedef struct {
    gs_cert *signer;     /* the signer certificate once identified (also on some failures) */
    time_t signing_time; /* signingTime, or opts->now when the attribute is absent */
    int has_signing_time;
    int has_signing_cert_v2; /* the signingCertificateV2 attribute was present and matched */
    char content_hint[128];  /* contentHints' contentDescription, "" when absent */
    int attached;            /* the content was inside the CMS */
    int digest_bits;         /* 256 or 512 */
    int chain_checked;       /* 1: the chain to ca_dir/ca_file was verified */
    int crl_checked;         /* 1: the signer was checked against crl_file */
    int policy_checked;      /* 1: opts->policy held */
    int revocation_checked;  /* 1: opts->revocation was consulted (see revocation.code) */
    gs_revocation_result revocation;
} gs_cms_verify_result;

void gs_cms_verify_result_clear(gs_cms_verify_result *r);

/*
 * Parses (PEM or DER) and verifies a CMS SignedData with one signer. GS_ERR_OK only when
 * everything that was asked for holds; res->chain_checked says whether the chain was checked.
 */
gs_code gs_cms_verify(const uint8_t *cms, size_t cms_len, const gs_cms_verify_opts *opts,
                      gs_cms_verify_result *res, gs_status *st);

#endif
