/*
 * Downloads the list of accredited CAs with OpenSSL's HTTP client (as gost/revocation.c does),
 * over https (TLS through libssl, the server's name and certificate checked) or plain http
 * (the loopback servers of the tests), within one overall timeout. The body is streamed into
 * memory up to GS_TSL_MAX_SIZE.
 */
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* What the TLS callback needs. */
typedef struct {
    SSL_CTX *ctx;
    const char *host;
} tls_arg;

/* OSSL_HTTP's connection callback: wraps the socket in TLS for https, unwraps on close. */
static BIO *tls_callback(BIO *bio, void *arg, int connect, int detail)
{
    tls_arg *t = arg;
    if (!t->ctx)
        return bio;
    if (connect && detail) {
        SSL *ssl = SSL_new(t->ctx);
        BIO *sbio = ssl ? BIO_new(BIO_f_ssl()) : NULL;
        if (!sbio) {
            SSL_free(ssl);
            return NULL;
        }
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, t->host) != 1) { /* a name, not an address */
            SSL_set_tlsext_host_name(ssl, t->host);
            SSL_set1_host(ssl, t->host);
        }
        ERR_clear_error();
        SSL_set_connect_state(ssl);
        BIO_set_ssl(sbio, ssl, BIO_CLOSE);
        return BIO_push(sbio, bio);
    }
    if (!connect && BIO_method_type(bio) == BIO_TYPE_SSL) {
        BIO *rest = BIO_pop(bio);
        BIO_free(bio);
        return rest;
    }
    return bio;
}

/* A TLS client context that checks the server against ca_file or the system's roots. */
static SSL_CTX *tls_context(const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    int ok =
        ca_file ? SSL_CTX_load_verify_file(ctx, ca_file) : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return ctx;
}

/* Reads the streamed body until EOF, the size limit or the deadline. */
static gs_code read_body(BIO *body, time_t deadline, uint8_t **out, size_t *out_len, gs_status *st)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *grown = cap >= GS_TSL_MAX_SIZE ? NULL : realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        int r = BIO_read(body, buf + n, (int)(cap - n > 1 << 20 ? 1 << 20 : cap - n));
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (!BIO_should_retry(body)) {
            *out = buf;
            *out_len = n;
            return n ? GS_ERR_OK : gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "empty answer");
        }
        if (BIO_wait(body, deadline, 100) <= 0)
            break;
    }
    free(buf);
    return gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "the answer is too large or did not end in time");
}

/* Sends the GET and streams the answer (the connection is already open). */
static gs_code exchange(OSSL_HTTP_REQ_CTX *rctx, const char *path, int timeout, time_t deadline,
                        uint8_t **out, size_t *out_len, gs_status *st)
{
    if (!OSSL_HTTP_set1_request(rctx, path, NULL, NULL, NULL, NULL, 0, GS_TSL_MAX_SIZE, timeout, 0))
        return gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "cannot build the request");
    BIO *body = OSSL_HTTP_exchange(rctx, NULL);
    if (!body) {
        char why[200];
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
        return gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "%s: no answer within %d s (%s)", path, timeout,
                       why);
    }
    return read_body(body, deadline, out, out_len, st);
}

/* The GET (see trust.h). */
gs_code gs_tsl_fetch(const char *url, const char *ca_file, int timeout, uint8_t **out,
                     size_t *out_len, gs_status *st)
{
    char *host = NULL, *port = NULL, *path = NULL;
    int use_ssl = 0;
    if (timeout <= 0)
        timeout = GS_TSL_DEFAULT_TIMEOUT;
    if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, &path, NULL, NULL)) {
        ERR_clear_error();
        return gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "%s: not an http:// or https:// URL", url);
    }
    tls_arg t = { use_ssl ? tls_context(ca_file) : NULL, host };
    gs_code rc = GS_ERR_OK;
    time_t deadline = time(NULL) + timeout;
    OSSL_HTTP_REQ_CTX *rctx = NULL;
    if (use_ssl && !t.ctx)
        rc = gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "cannot set up TLS (CA file %s)",
                     ca_file ? ca_file : "of the system");
    else if (!(rctx = OSSL_HTTP_open(host, port, NULL, NULL, use_ssl, NULL, NULL,
                                     use_ssl ? tls_callback : NULL, &t, 0, timeout)))
        rc = gs_fail(st, GS_ERR_TSL_FETCH_FAILED, "%s: cannot connect within %d s", url, timeout);
    else
        rc = exchange(rctx, path, timeout, deadline, out, out_len, st);
    OSSL_HTTP_close(rctx, rc == GS_ERR_OK);
    SSL_CTX_free(t.ctx);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    ERR_clear_error();
    return rc;
}
