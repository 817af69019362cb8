/* Revocation checks: CRL (file, or HTTP distribution point with a cache) and OCSP over HTTP. */
#include "revocation.h"
#include "primitives.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Sets the defaults: nothing consulted, default timeout, current time. */
void gs_revocation_opts_init(gs_revocation_opts *o)
{
    memset(o, 0, sizeof(*o));
}

/* The effective "now" of a check. */
static time_t opts_now(const gs_revocation_opts *o)
{
    return o->now ? o->now : time(NULL);
}

/* The effective HTTP timeout. */
static int opts_timeout(const gs_revocation_opts *o)
{
    return o->timeout_seconds > 0 ? o->timeout_seconds : GS_REVOCATION_DEFAULT_TIMEOUT;
}

/* Records a source's verdict with a printf-style detail; returns the code. */
static gs_code source_set(gs_revocation_source *s, gs_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gs_code source_set(gs_revocation_source *s, gs_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
    s->code = code;
    ERR_clear_error();
    return code;
}

/* ASN1_TIME as Unix time; 0 when absent or malformed. */
static time_t asn1_to_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return timegm(&tm);
}

/* Parses a CRL held in a BIO, PEM or DER. */
static X509_CRL *crl_from_bio(BIO *b)
{
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    if (!crl && BIO_reset(b) == 0)
        crl = d2i_X509_CRL_bio(b, NULL);
    ERR_clear_error();
    return crl;
}

/* Loads a CRL file in PEM or DER (also used by `cert show --chain --crl`). */
X509_CRL *gs_crl_load_file(const char *path, gs_status *st)
{
    BIO *b = BIO_new_file(path, "rb");
    if (!b) {
        gs_fail(st, GS_ERR_CRL_INVALID, "%s: cannot open (%s)", path, strerror(errno));
        ERR_clear_error();
        return NULL;
    }
    X509_CRL *crl = crl_from_bio(b);
    BIO_free(b);
    if (!crl)
        gs_fail(st, GS_ERR_CRL_INVALID, "%s: not a CRL in PEM or DER", path);
    return crl;
}

/* Whether the CRL is the issuer's, signed by it, and current at `now`; fills times. */
static gs_code crl_usable(X509_CRL *crl, X509 *issuer, time_t now, gs_revocation_source *s)
{
    s->this_update = asn1_to_unix(X509_CRL_get0_lastUpdate(crl));
    s->next_update = asn1_to_unix(X509_CRL_get0_nextUpdate(crl));
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
        return source_set(s, GS_ERR_CRL_INVALID,
                          "the CRL is not issued by the certificate's issuer");
    EVP_PKEY *pub = X509_get0_pubkey(issuer);
    if (!pub || X509_CRL_verify(crl, pub) != 1)
        return source_set(s, GS_ERR_CRL_INVALID,
                          "the CRL signature does not verify with the issuer's key");
    if (s->this_update == 0 || s->this_update > now + GS_OCSP_LEEWAY_SECONDS)
        return source_set(s, GS_ERR_CRL_INVALID,
                          "the CRL's thisUpdate is missing or in the future");
    if (s->next_update && s->next_update < now)
        return source_set(s, GS_ERR_CRL_INVALID, "the CRL expired (nextUpdate passed)");
    return GS_ERR_OK;
}

/* Looks the certificate up in a usable CRL. */
static gs_code crl_lookup(X509_CRL *crl, X509 *cert, gs_revocation_source *s)
{
    X509_REVOKED *rev = NULL;
    if (X509_CRL_get0_by_cert(crl, &rev, cert) != 1 || !rev)
        return source_set(s, GS_ERR_OK, "not listed");
    s->revoked_at = asn1_to_unix(X509_REVOKED_get0_revocationDate(rev));
    ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    s->reason = reason ? (int)ASN1_ENUMERATED_get(reason) : -1;
    ASN1_ENUMERATED_free(reason);
    return source_set(s, GS_ERR_CERT_REVOKED, "listed in the CRL (%s)", s->where);
}

/* Checks against a CRL already in memory. */
static gs_code crl_check(X509_CRL *crl, X509 *cert, X509 *issuer, time_t now,
                         gs_revocation_source *s)
{
    gs_code rc = crl_usable(crl, issuer, now, s);
    return rc == GS_ERR_OK ? crl_lookup(crl, cert, s) : rc;
}

/* First http:// URI among GENERAL_NAMES, duplicated; NULL when none. */
static char *first_http_uri(GENERAL_NAMES *names)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != GEN_URI)
            continue;
        const char *uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
        int len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
        if (len > 7 && strncasecmp(uri, "http://", 7) == 0 && memchr(uri, 0, (size_t)len) == NULL)
            return strndup(uri, (size_t)len);
    }
    return NULL;
}

/* First HTTP CRL distribution point of the certificate. */
char *gs_cert_crl_url(X509 *cert)
{
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    char *url = NULL;
    for (int i = 0; !url && i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (dp->distpoint && dp->distpoint->type == 0)
            url = first_http_uri(dp->distpoint->name.fullname);
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return url;
}

/* First HTTP OCSP responder of the certificate's authorityInfoAccess. */
char *gs_cert_ocsp_url(X509 *cert)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    char *url = NULL;
    for (int i = 0; !url && i < sk_OPENSSL_STRING_num(urls); i++) {
        const char *u = sk_OPENSSL_STRING_value(urls, i);
        if (strncasecmp(u, "http://", 7) == 0)
            url = strdup(u);
    }
    X509_email_free(urls);
    ERR_clear_error();
    return url;
}

/* The CRL cache directory: opts, $XDG_CACHE_HOME/gostsign/crl or ~/.cache/gostsign/crl. */
static int cache_dir(const gs_revocation_opts *o, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (o->cache_dir)
        n = snprintf(out, cap, "%s", o->cache_dir);
    else if (xdg && *xdg == '/')
        n = snprintf(out, cap, "%s/gostsign/crl", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.cache/gostsign/crl", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Cache file of a URL: the directory plus the Streebog-256 of the URL. */
int gs_crl_cache_path(const gs_revocation_opts *o, const char *url, char *out, size_t cap)
{
    char dir[400], hex[65];
    uint8_t md[32];
    gs_status st;
    if (cache_dir(o, dir, sizeof(dir)) != 0 ||
        gost_digest_buffer(256, url, strlen(url), md, &st) != GS_ERR_OK)
        return -1;
    gost_hex(md, sizeof(md), hex);
    int n = snprintf(out, cap, "%s/%s.crl", dir, hex);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p for the cache directory (mode 0700). */
static int make_dirs(const char *path)
{
    char buf[700];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Reads a cached CRL that is still usable (signed by the issuer, nextUpdate ahead). */
static X509_CRL *cache_read(const char *path, X509 *issuer, time_t now, gs_revocation_source *s)
{
    BIO *b = BIO_new_file(path, "rb");
    if (!b) {
        ERR_clear_error();
        return NULL;
    }
    X509_CRL *crl = crl_from_bio(b);
    BIO_free(b);
    gs_revocation_source probe = *s;
    if (crl && crl_usable(crl, issuer, now, &probe) == GS_ERR_OK && probe.next_update)
        return crl;
    X509_CRL_free(crl);
    return NULL;
}

/* Writes a CRL into the cache atomically (temporary file, then rename); failures are ignored. */
static void cache_write(const char *path, X509_CRL *crl)
{
    char tmp[700], dir[600];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (make_dirs(dir) != 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    BIO *b = BIO_new_file(tmp, "wb");
    int ok = b && i2d_X509_CRL_bio(b, crl) == 1;
    ok = b && BIO_free(b) == 1 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    ERR_clear_error();
}

/* Splits an http:// URL for OSSL_HTTP_transfer; 0 on success. */
static int split_url(const char *url, char **host, char **port, char **path)
{
    int ssl = 0;
    if (!OSSL_HTTP_parse_url(url, &ssl, NULL, host, port, NULL, path, NULL, NULL) || ssl) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* One HTTP exchange (GET when req is NULL, else POST) whose answer must be one DER object, read
 * in full (at most GS_REVOCATION_MAX_RESPONSE); NULL with the reason in s on failure. */
static BIO *http_exchange(const char *url, BIO *req, const char *content_type,
                          const char *expected_ct, int timeout, gs_revocation_source *s)
{
    char *host = NULL, *port = NULL, *path = NULL;
    if (split_url(url, &host, &port, &path) != 0) {
        source_set(s, GS_ERR_REVOCATION_UNREACHABLE, "%s: only http:// URLs are supported", url);
        return NULL;
    }
    BIO *resp = OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0,
                                   NULL, content_type, req, expected_ct, 1,
                                   GS_REVOCATION_MAX_RESPONSE, timeout, 0);
    if (!resp) {
        unsigned long e = ERR_peek_last_error();
        char why[160];
        ERR_error_string_n(e, why, sizeof(why));
        source_set(s, GS_ERR_REVOCATION_UNREACHABLE, "%s: no answer within %d s (%s)", url, timeout,
                   e ? why : "connection failed");
    }
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    return resp;
}

/* Downloads the CRL from its distribution point and verifies it before caching. */
static X509_CRL *crl_download(const char *url, X509 *issuer, time_t now, int timeout,
                              const char *cache_path, gs_revocation_source *s)
{
    BIO *body = http_exchange(url, NULL, NULL, NULL, timeout, s);
    if (!body)
        return NULL;
    X509_CRL *crl = d2i_X509_CRL_bio(body, NULL); /* RFC 5280: DER over HTTP */
    BIO_free(body);
    ERR_clear_error();
    if (!crl) {
        source_set(s, GS_ERR_CRL_INVALID, "%s: the answer is not a CRL", url);
        return NULL;
    }
    gs_revocation_source probe = *s;
    if (cache_path && crl_usable(crl, issuer, now, &probe) == GS_ERR_OK)
        cache_write(cache_path, crl);
    return crl;
}

/* CRL from the distribution point: the cache while nextUpdate is ahead, else HTTP. */
static gs_code check_crl_dp(X509 *cert, X509 *issuer, const gs_revocation_opts *o,
                            gs_revocation_source *s)
{
    char *url = gs_cert_crl_url(cert);
    if (!url)
        return source_set(s, GS_ERR_REVOCATION_UNKNOWN,
                          "the certificate names no HTTP CRL distribution point");
    snprintf(s->where, sizeof(s->where), "%s", url);
    char cache[600];
    int cached = !o->no_cache && gs_crl_cache_path(o, url, cache, sizeof(cache)) == 0;
    time_t now = opts_now(o);
    X509_CRL *crl = cached ? cache_read(cache, issuer, now, s) : NULL;
    s->from_cache = crl != NULL;
    if (!crl)
        crl = crl_download(url, issuer, now, opts_timeout(o), cached ? cache : NULL, s);
    free(url);
    if (!crl)
        return s->code;
    gs_code rc = crl_check(crl, cert, issuer, now, s);
    X509_CRL_free(crl);
    return rc;
}

/* CRL from a local file. */
static gs_code check_crl_file(X509 *cert, X509 *issuer, const gs_revocation_opts *o,
                              gs_revocation_source *s)
{
    gs_status st;
    snprintf(s->where, sizeof(s->where), "%s", o->crl_file);
    X509_CRL *crl = gs_crl_load_file(o->crl_file, &st);
    if (!crl)
        return source_set(s, st.code, "%s", st.detail);
    gs_code rc = crl_check(crl, cert, issuer, opts_now(o), s);
    X509_CRL_free(crl);
    return rc;
}

/* The OCSP request for one certificate, with a nonce; its CertID goes to *id. */
static OCSP_REQUEST *ocsp_request(X509 *cert, X509 *issuer, OCSP_CERTID **id)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    *id = OCSP_cert_to_id(NULL, cert, issuer);
    OCSP_CERTID *copy = *id ? OCSP_CERTID_dup(*id) : NULL;
    if (req && copy && OCSP_request_add0_id(req, copy)) {
        copy = NULL; /* owned by req now */
        if (OCSP_request_add1_nonce(req, NULL, -1))
            return req;
    }
    OCSP_CERTID_free(copy);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(*id);
    *id = NULL;
    return NULL;
}

/* Posts the request and parses the answer; NULL with the reason in s. */
static OCSP_RESPONSE *ocsp_exchange(const char *url, OCSP_REQUEST *req, int timeout,
                                    gs_revocation_source *s)
{
    BIO *body = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST), (const ASN1_VALUE *)req);
    if (!body) {
        source_set(s, GS_ERR_OUT_OF_MEMORY, "OCSP request");
        return NULL;
    }
    BIO *resp = http_exchange(url, body, "application/ocsp-request", "application/ocsp-response",
                              timeout, s);
    BIO_free(body);
    if (!resp)
        return NULL;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE_bio(resp, NULL);
    BIO_free(resp);
    if (!r)
        source_set(s, GS_ERR_OCSP_INVALID, "%s: the answer is not an OCSP response", url);
    return r;
}

/* The response's signature: the issuer itself, or a responder the issuer certified for OCSP. */
static gs_code ocsp_verify_signer(OCSP_BASICRESP *bs, X509 *issuer, time_t now,
                                  gs_revocation_source *s)
{
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *certs = sk_X509_new_null();
    int ok = store && certs && X509_STORE_add_cert(store, issuer) && sk_X509_push(certs, issuer);
    if (ok) {
        X509_VERIFY_PARAM *vp = X509_STORE_get0_param(store);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
        X509_VERIFY_PARAM_set_time(vp, now);
        ok = OCSP_basic_verify(bs, certs, store, 0) == 1;
    }
    sk_X509_free(certs);
    X509_STORE_free(store);
    if (!ok)
        return source_set(s, GS_ERR_OCSP_INVALID,
                          "the OCSP response is not signed by the issuer or its responder");
    return GS_ERR_OK;
}

/* Maps the certificate's status in a verified response to a verdict. */
static gs_code ocsp_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, time_t now, gs_revocation_source *s)
{
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd))
        return source_set(s, GS_ERR_OCSP_INVALID, "the OCSP response lacks the certificate");
    s->this_update = asn1_to_unix(thisupd);
    s->next_update = asn1_to_unix(nextupd);
    if (!s->this_update || s->this_update > now + GS_OCSP_LEEWAY_SECONDS ||
        (s->next_update && s->next_update + GS_OCSP_LEEWAY_SECONDS < now))
        return source_set(s, GS_ERR_OCSP_INVALID, "the OCSP response is stale or from the future");
    if (status == V_OCSP_CERTSTATUS_GOOD)
        return source_set(s, GS_ERR_OK, "good");
    if (status == V_OCSP_CERTSTATUS_REVOKED) {
        s->revoked_at = asn1_to_unix(rev);
        s->reason = reason;
        return source_set(s, GS_ERR_CERT_REVOKED, "the OCSP responder %s says revoked", s->where);
    }
    return source_set(s, GS_ERR_REVOCATION_UNKNOWN,
                      "the OCSP responder %s does not know the "
                      "certificate",
                      s->where);
}

/* Checks a parsed response: status, signer, nonce, then the certificate's entry. */
static gs_code ocsp_evaluate(OCSP_RESPONSE *resp, OCSP_REQUEST *req, OCSP_CERTID *id, X509 *issuer,
                             time_t now, gs_revocation_source *s)
{
    int rs = OCSP_response_status(resp);
    if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        return source_set(s, GS_ERR_OCSP_INVALID, "the OCSP responder answered %s",
                          OCSP_response_status_str(rs));
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    if (!bs)
        return source_set(s, GS_ERR_OCSP_INVALID, "the OCSP response has no basic response");
    gs_code rc = ocsp_verify_signer(bs, issuer, now, s);
    if (rc == GS_ERR_OK && OCSP_check_nonce(req, bs) == 0)
        rc = source_set(s, GS_ERR_OCSP_INVALID, "the OCSP response's nonce does not match");
    if (rc == GS_ERR_OK)
        rc = ocsp_status(bs, id, now, s);
    OCSP_BASICRESP_free(bs);
    return rc;
}

/* OCSP: the AIA responder (or opts->ocsp_url). */
static gs_code check_ocsp(X509 *cert, X509 *issuer, const gs_revocation_opts *o,
                          gs_revocation_source *s)
{
    char *url = o->ocsp_url ? strdup(o->ocsp_url) : gs_cert_ocsp_url(cert);
    if (!url)
        return source_set(s, GS_ERR_REVOCATION_UNKNOWN, "the certificate names no OCSP responder");
    snprintf(s->where, sizeof(s->where), "%s", url);
    OCSP_CERTID *id = NULL;
    OCSP_REQUEST *req = ocsp_request(cert, issuer, &id);
    OCSP_RESPONSE *resp = req ? ocsp_exchange(url, req, opts_timeout(o), s) : NULL;
    gs_code rc = !req    ? source_set(s, GS_ERR_OUT_OF_MEMORY, "OCSP request")
                 : !resp ? s->code
                         : ocsp_evaluate(resp, req, id, issuer, opts_now(o), s);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(id);
    free(url);
    return rc;
}

/* Rank of a source verdict for combining: higher wins. */
static int verdict_rank(gs_code c)
{
    switch (c) {
    case GS_ERR_CERT_REVOKED:
        return 5;
    case GS_ERR_CRL_INVALID:
    case GS_ERR_OCSP_INVALID:
    case GS_ERR_OUT_OF_MEMORY:
        return 4;
    case GS_ERR_OK:
        return 3;
    case GS_ERR_REVOCATION_UNKNOWN:
        return 2;
    default:
        return 1;
    }
}

/* Combines the consulted sources into one verdict and a status detail. */
static gs_code combine(gs_revocation_result *r, gs_status *st)
{
    const gs_revocation_source *best = NULL;
    const gs_revocation_source *all[] = { &r->crl, &r->ocsp };
    for (size_t i = 0; i < 2; i++)
        if (all[i]->consulted && (!best || verdict_rank(all[i]->code) > verdict_rank(best->code)))
            best = all[i];
    if (!best) {
        r->code = GS_ERR_REVOCATION_UNKNOWN;
        return gs_fail(st, r->code, "no revocation source was consulted");
    }
    r->code = best->code;
    if (r->code == GS_ERR_OK)
        return GS_ERR_OK;
    return gs_fail(st, r->code, "%s", best->detail);
}

/* Entry point: local CRL, CRL distribution point and OCSP as opts asks, then the verdict. */
gs_code gs_revocation_check(X509 *cert, X509 *issuer, const gs_revocation_opts *opts,
                            gs_revocation_result *result, gs_status *st)
{
    gs_revocation_opts defaults;
    gs_revocation_opts_init(&defaults);
    const gs_revocation_opts *o = opts ? opts : &defaults;
    memset(result, 0, sizeof(*result));
    result->crl.reason = result->ocsp.reason = -1;
    gs_code rc = gost_init(st);
    if (rc != GS_ERR_OK)
        return result->code = rc;
    if (!cert || !issuer)
        return result->code = gs_fail(st, GS_ERR_INTERNAL, "revocation check without an issuer");
    if (o->crl_file || o->use_crl_dp) {
        result->crl.consulted = 1;
        if (o->crl_file)
            check_crl_file(cert, issuer, o, &result->crl);
        else
            check_crl_dp(cert, issuer, o, &result->crl);
    }
    if (o->use_ocsp) {
        result->ocsp.consulted = 1;
        check_ocsp(cert, issuer, o, &result->ocsp);
    }
    return combine(result, st);
}

/* JSON word of one source's verdict. */
const char *gs_revocation_word(const gs_revocation_source *s)
{
    if (!s->consulted)
        return "not_checked";
    switch (s->code) {
    case GS_ERR_OK:
        return "good";
    case GS_ERR_CERT_REVOKED:
        return "revoked";
    case GS_ERR_REVOCATION_UNKNOWN:
        return "unknown";
    case GS_ERR_REVOCATION_UNREACHABLE:
        return "unreachable";
    default:
        return "invalid";
    }
}
