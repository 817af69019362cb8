/*
 * Revocation of a certificate: CRL (a local file, or the certificate's CRL distribution point over
 * HTTP with an on-disk cache that honours nextUpdate) and OCSP (the responder named in the
 * certificate's authorityInfoAccess). HTTP goes through OpenSSL's OSSL_HTTP_* client with a
 * timeout; responses are checked against the issuer (CRL signature, OCSP signature by the issuer or
 * a delegated responder it certified, nonce, thisUpdate/nextUpdate).
 *
 * Outcome, strongest first: CERT_REVOKED, CRL_INVALID / OCSP_INVALID (a source answered with
 * something unusable), OK (a source says good), REVOCATION_UNKNOWN (the responder does not know
 * the certificate, or there is no source to ask), REVOCATION_UNREACHABLE (no source answered).
 * The last two are warnings, never a pass.
 */
#ifndef GOSTSIGN_REVOCATION_H
#define GOSTSIGN_REVOCATION_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "errors.h"

/* Default HTTP timeout for a CRL download or an OCSP exchange. */
#define GS_REVOCATION_DEFAULT_TIMEOUT 10
/* Largest CRL or OCSP response accepted over HTTP. */
#define GS_REVOCATION_MAX_RESPONSE    (16 * 1024 * 1024)
/* Clock skew allowed on OCSP thisUpdate / nextUpdate. */
#define GS_OCSP_LEEWAY_SECONDS        300

/* What to consult. Zero-initialise with gs_revocation_opts_init. */
typedef struct {
    const char *crl_file;  /* local CRL (PEM or DER) of the issuer, or NULL */
    int use_crl_dp;        /* 1: fetch the CRL named in crlDistributionPoints (HTTP) */
    int use_ocsp;          /* 1: ask the OCSP responder named in authorityInfoAccess */
    const char *ocsp_url;  /* overrides the AIA responder, or NULL */
    const char *cache_dir; /* CRL cache; NULL: $XDG_CACHE_HOME/gostsign/crl (~/.cache/...) */
    int no_cache;          /* 1: neither read nor write the CRL cache */
    int timeout_seconds;   /* per HTTP exchange; 0: GS_REVOCATION_DEFAULT_TIMEOUT */
    time_t now;            /* 0: the current time */
} gs_revocation_opts;

void gs_revocation_opts_init(gs_revocation_opts *o);

/* What one source (the CRL or OCSP) said. */
typedef struct {
    int consulted; /* 1: this source was asked */
    gs_code code;  /* OK, CERT_REVOKED, CRL_INVALID/OCSP_INVALID, REVOCATION_UNKNOWN/_UNREACHABLE */
    char where[512];    /* file path or URL */
    int from_cache;     /* CRL: taken from the on-disk cache */
    time_t this_update; /* 0 when unknown */
    time_t next_update; /* 0 when absent */
    time_t revoked_at;  /* for CERT_REVOKED */
    int reason;         /* CRL reason code, -1 when absent */
    char detail[256];   /* human detail of a failure */
} gs_revocation_source;

typedef struct {
    gs_code code; /* the combined verdict (see the header comment) */
    gs_revocation_source crl, ocsp;
} gs_revocation_result;

/*
 * Checks `cert` (issued by `issuer`, whose signature on the CRL / OCSP response is checked) against
 * the sources opts asks for. Returns result->code; st gets the detail of a non-OK verdict.
 * The issuer must already be trusted by the caller (e.g. from a verified chain).
 */
gs_code gs_revocation_check(X509 *cert, X509 *issuer, const gs_revocation_opts *opts,
                            gs_revocation_result *result, gs_status *st);

/* Loads a CRL file in PEM or DER; NULL with CRL_INVALID. */
X509_CRL *gs_crl_load_file(const char *path, gs_status *st);

/* The first http:// URL of the certificate's CRL distribution points / OCSP responders, or NULL.
 * Caller frees with free(). */
char *gs_cert_crl_url(X509 *cert);
char *gs_cert_ocsp_url(X509 *cert);

/* Stable lower-case word for a verdict in JSON: "good", "revoked", "unknown", "unreachable",
 * "invalid", "not_checked". */
const char *gs_revocation_word(const gs_revocation_source *s);

/* Cache path for a CRL URL (directory + Streebog-256 of the URL + ".crl"); 0 on success. */
int gs_crl_cache_path(const gs_revocation_opts *o, const char *url, char *out, size_t cap);

#endif
