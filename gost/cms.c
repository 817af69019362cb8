/*
 * CMS SignedData / CAdES-BES: building with an external signer callback and verifying, through
 * OpenSSL's CMS, ESS and X509 APIs. The only ASN.1 defined here is the SET OF Attribute whose
 * DER is what the signer signs (RFC 5652 section 5.4), as OpenSSL keeps its own one private.
 */
#include "cms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/pem.h> /* before cms.h, which declares PEM_read_bio_CMS with its macros */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

#define CMS_READ_CHUNK (64 * 1024)

/* SET OF Attribute, DER-sorted: the bytes the signature covers (RFC 5652 section 5.4). */
typedef STACK_OF(X509_ATTRIBUTE) GS_SIGNED_ATTRS;
ASN1_ITEM_TEMPLATE(GS_SIGNED_ATTRS) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_ORDER, 0, GS_SIGNED_ATTRS, X509_ATTRIBUTE)
        ASN1_ITEM_TEMPLATE_END(GS_SIGNED_ATTRS)

    /* ------------------------------------------------------------------ shared helpers */

    /* The most recent OpenSSL reason, for details; clears the queue so it never leaks into others.
     */
    static const char *
    openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "no OpenSSL detail";
}

/* Streebog size (256/512) for a digest AlgorithmIdentifier, or 0 when it is not Streebog. */
static int streebog_bits_of(const X509_ALGOR *alg)
{
    int nid = alg ? OBJ_obj2nid(alg->algorithm) : NID_undef;
    if (nid == NID_id_GostR3411_2012_256)
        return 256;
    if (nid == NID_id_GostR3411_2012_512)
        return 512;
    return 0;
}

/* Reads everything from fd into a malloc'ed buffer (attached content must be in memory). */
static gs_code read_fd_fully(int fd, uint8_t **out, size_t *out_len, gs_status *st)
{
    size_t cap = CMS_READ_CHUNK, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "content buffer");
    for (;;) {
        if (len == cap) {
            uint8_t *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "content larger than memory allows");
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return gs_fail(st, GS_ERR_IO_ERROR, "reading content: %s", strerror(errno));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = buf;
    *out_len = len;
    return GS_ERR_OK;
}

/* DER of the signed attributes as signed: a universal SET OF, sorted. */
static gs_code signed_attrs_der(CMS_SignerInfo *si, uint8_t **der, int *der_len, gs_status *st)
{
    GS_SIGNED_ATTRS *attrs = sk_X509_ATTRIBUTE_new_null();
    if (!attrs)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "attribute list");
    int n = CMS_signed_get_attr_count(si);
    for (int i = 0; i < n; i++)
        if (!sk_X509_ATTRIBUTE_push(attrs, CMS_signed_get_attr(si, i))) {
            sk_X509_ATTRIBUTE_free(attrs);
            return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "attribute list");
        }
    *der = NULL;
    *der_len = ASN1_item_i2d((ASN1_VALUE *)attrs, der, ASN1_ITEM_rptr(GS_SIGNED_ATTRS));
    sk_X509_ATTRIBUTE_free(attrs); /* the attributes themselves belong to si */
    if (*der_len <= 0)
        return gs_fail(st, GS_ERR_INTERNAL, "encoding signed attributes: %s", openssl_reason());
    return GS_ERR_OK;
}

/* ------------------------------------------------------------------ building */

/* Defaults for gs_cms_sign_params: no content descriptor is open. */
void gs_cms_sign_params_init(gs_cms_sign_params *p)
{
    memset(p, 0, sizeof(*p));
    p->content_fd = -1;
}

/* Exactly one content source, and a precomputed digest only for detached signatures. */
static gs_code check_sign_params(const gs_cms_sign_params *p, gs_status *st)
{
    if (!p || !p->cert || !p->sign)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "a signer certificate and callback are required");
    int sources = (p->content != NULL) + (p->content_fd >= 0) + (p->content_digest != NULL);
    if (sources != 1)
        return gs_fail(st, GS_ERR_BAD_REQUEST,
                       "give exactly one of content, content_fd or content_digest (got %d)",
                       sources);
    if (p->attached && p->content_digest)
        return gs_fail(st, GS_ERR_BAD_REQUEST,
                       "an attached signature needs the content, not only its digest");
    return GS_ERR_OK;
}

/* Key size of the signer certificate; refuses GOST 2001 and anything not GOST 2012. */
static gs_code signer_key_bits(X509 *cert, int *bits, gs_status *st)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    ERR_clear_error();
    if (gost_key_is_2001(pub))
        return gs_fail(st, GS_ERR_CERT_GOST2001, "the signer certificate has a GOST 2001 key");
    *bits = gost_key_bits(pub);
    if (*bits == 0)
        return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM,
                       "the signer certificate has no GOST R 34.10-2012 key");
    return GS_ERR_OK;
}

/* The content's Streebog digest; for attached buffers/files also the bytes to embed. */
static gs_code content_digest_for_sign(gs_cms_sign_params *p, int bits, uint8_t *md,
                                       uint8_t **owned, gs_status *st)
{
    size_t md_len = (size_t)bits / 8;
    *owned = NULL;
    if (p->content_digest) {
        if (p->content_digest_len != md_len)
            return gs_fail(st, GS_ERR_BAD_REQUEST,
                           "a %d-bit key needs a %zu-byte Streebog digest, got %zu bytes", bits,
                           md_len, p->content_digest_len);
        memcpy(md, p->content_digest, md_len);
        return GS_ERR_OK;
    }
    if (p->content)
        return gost_digest_buffer(bits, p->content, p->content_len, md, st);
    if (!p->attached)
        return gost_digest_fd(bits, p->content_fd, md, st);
    size_t len = 0;
    gs_code rc = read_fd_fully(p->content_fd, owned, &len, st);
    if (rc == GS_ERR_OK)
        rc = gost_digest_buffer(bits, *owned, len, md, st);
    p->content_len = len; /* the bytes themselves are in *owned */
    return rc;
}

/* Puts the content into eContent (attached signatures). */
static gs_code embed_content(CMS_ContentInfo *cms, const uint8_t *data, size_t len, gs_status *st)
{
    if (len > INT_MAX)
        return gs_fail(st, GS_ERR_NOT_SUPPORTED, "attached content over 2 GiB: sign detached");
    ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    if (!pos || !os || !ASN1_OCTET_STRING_set(os, data, (int)len)) {
        ASN1_OCTET_STRING_free(os);
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "embedding content");
    }
    ASN1_OCTET_STRING_free(*pos);
    *pos = os;
    return GS_ERR_OK;
}

/* ESSCertIDv2 (Streebog-256 hash of the certificate, issuerSerial) as a DER SEQUENCE. */
static ASN1_STRING *signing_cert_v2_der(X509 *cert, gs_status *st)
{
    ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(gost_digest_md(256), cert, NULL, 1);
    uint8_t *der = NULL;
    int len = sc ? i2d_ESS_SIGNING_CERT_V2(sc, &der) : -1;
    ESS_SIGNING_CERT_V2_free(sc);
    ASN1_STRING *seq = len > 0 ? ASN1_STRING_new() : NULL;
    if (!seq || !ASN1_STRING_set(seq, der, len)) {
        gs_fail(st, GS_ERR_INTERNAL, "signingCertificateV2: %s", openssl_reason());
        ASN1_STRING_free(seq);
        seq = NULL;
    }
    OPENSSL_free(der);
    return seq;
}

/* DER of ContentHints ::= SEQUENCE { contentDescription UTF8String, contentType id-data }. */
static ASN1_STRING *content_hints_der(const char *description)
{
    static const uint8_t id_data[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                       0x0d, 0x01, 0x07, 0x01 };
    size_t n = strlen(description);
    if (n == 0 || n > 100)
        return NULL;
    uint8_t der[128];
    size_t body = 2 + n + sizeof(id_data);
    der[0] = 0x30;
    der[1] = (uint8_t)body;
    der[2] = 0x0c; /* UTF8String */
    der[3] = (uint8_t)n;
    memcpy(der + 4, description, n);
    memcpy(der + 4 + n, id_data, sizeof(id_data));
    ASN1_STRING *seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
    if (seq && !ASN1_STRING_set(seq, der, (int)(2 + body))) {
        ASN1_STRING_free(seq);
        seq = NULL;
    }
    return seq;
}

/* The contentHints attribute, when the caller asked for one. */
static int add_content_hint(CMS_SignerInfo *si, const char *hint)
{
    if (!hint)
        return 1;
    ASN1_STRING *seq = content_hints_der(hint);
    int ok = seq && CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_contentHint, V_ASN1_SEQUENCE,
                                                seq, -1);
    ASN1_STRING_free(seq);
    return ok;
}

/* contentType, messageDigest, signingTime, signingCertificateV2 and the optional contentHints. */
static gs_code add_signed_attrs(CMS_SignerInfo *si, X509 *cert, const uint8_t *md, int bits,
                                time_t when, const char *hint, gs_status *st)
{
    ASN1_TIME *t = ASN1_TIME_set(NULL, when ? when : time(NULL)); /* UTCTime until 2049 */
    ASN1_STRING *ess = signing_cert_v2_der(cert, st);
    if (!ess) {
        ASN1_TIME_free(t);
        return st->code;
    }
    int ok = t &&
             CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                         OBJ_nid2obj(NID_pkcs7_data), -1) &&
             CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, md,
                                         bits / 8) &&
             CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, t->type, t, -1) &&
             CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE,
                                         ess, -1) &&
             add_content_hint(si, hint);
    ASN1_TIME_free(t);
    ASN1_STRING_free(ess);
    if (!ok)
        return gs_fail(st, GS_ERR_INTERNAL, "adding signed attributes: %s", openssl_reason());
    return GS_ERR_OK;
}

/* Calls the signer and checks its answer: right length, and valid for the certificate's key. */
static gs_code sign_attrs(const gs_cms_sign_params *p, CMS_SignerInfo *si, int bits, gs_status *st)
{
    uint8_t *der = NULL, digest[GOST_MAX_DIGEST], sig[GOST_MAX_SIGNATURE];
    int der_len = 0;
    size_t sig_len = 0, want = (size_t)bits / 4;
    gs_code rc = signed_attrs_der(si, &der, &der_len, st);
    if (rc == GS_ERR_OK)
        rc = gost_digest_buffer(bits, der, (size_t)der_len, digest, st);
    if (rc != GS_ERR_OK) {
        OPENSSL_free(der);
        return rc;
    }
    gs_status_clear(st);
    gs_cms_tbs tbs = { der, (size_t)der_len, digest, (size_t)bits / 8 };
    rc = p->sign(p->sign_ctx, &tbs, sig, sizeof(sig), &sig_len, st);
    OPENSSL_free(der);
    if (rc != GS_ERR_OK) {
        if (st->code == GS_ERR_OK)
            gs_fail(st, rc, "the signer callback failed");
        return rc;
    }
    if (sig_len != want)
        return gs_fail(st, GS_ERR_BAD_SIGNATURE_FORMAT,
                       "the signer returned %zu bytes, a %d-bit key gives %zu", sig_len, bits,
                       want);
    gs_status vst;
    if (gost_verify_digest(X509_get0_pubkey(p->cert), digest, (size_t)bits / 8, sig, sig_len,
                           &vst) != GS_ERR_OK)
        return gs_fail(st, GS_ERR_CERT_MISMATCH,
                       "the signature does not verify with the certificate's public key: the "
                       "key is not the certificate's");
    if (!ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)sig_len))
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "signature value");
    return GS_ERR_OK;
}

/* Adds the caller's extra certificates (duplicates of the signer are skipped by OpenSSL). */
static gs_code add_chain(CMS_ContentInfo *cms, STACK_OF(X509) * chain, gs_status *st)
{
    for (int i = 0; chain && i < sk_X509_num(chain); i++)
        if (CMS_add1_cert(cms, sk_X509_value(chain, i)) <= 0 &&
            ERR_GET_REASON(ERR_peek_last_error()) != CMS_R_CERTIFICATE_ALREADY_PRESENT)
            return gs_fail(st, GS_ERR_INTERNAL, "adding a chain certificate: %s", openssl_reason());
    ERR_clear_error();
    return GS_ERR_OK;
}

/* SignedData skeleton with one SignerInfo for cert (no private key: CMS_PARTIAL). */
static CMS_ContentInfo *new_signed_data(const gs_cms_sign_params *p, int bits, CMS_SignerInfo **si,
                                        gs_status *st)
{
    unsigned flags = CMS_PARTIAL | CMS_NOSMIMECAP | (p->omit_signer_cert ? CMS_NOCERTS : 0);
    CMS_ContentInfo *cms = CMS_ContentInfo_new();
    if (!cms || !CMS_SignedData_init(cms) || !CMS_set_detached(cms, p->attached ? 0 : 1)) {
        CMS_ContentInfo_free(cms);
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "CMS structure");
        return NULL;
    }
    /* The public key stands in for the private one: it only names the algorithms here. */
    *si = CMS_add1_signer(cms, p->cert, X509_get0_pubkey(p->cert), gost_digest_md(bits), flags);
    if (!*si) {
        gs_fail(st, GS_ERR_INTERNAL, "adding the signer: %s", openssl_reason());
        CMS_ContentInfo_free(cms);
        return NULL;
    }
    return cms;
}

/* Encodes the finished CMS. */
static gs_code cms_to_der(CMS_ContentInfo *cms, uint8_t **der, size_t *der_len, gs_status *st)
{
    *der = NULL;
    int n = i2d_CMS_ContentInfo(cms, der);
    if (n <= 0)
        return gs_fail(st, GS_ERR_INTERNAL, "encoding CMS: %s", openssl_reason());
    *der_len = (size_t)n;
    return GS_ERR_OK;
}

/* The build proper, on a private copy of the parameters. */
static gs_code build_signed_data(gs_cms_sign_params *p, int bits, uint8_t **der, size_t *der_len,
                                 gs_status *st)
{
    uint8_t md[GOST_MAX_DIGEST], *owned = NULL;
    CMS_SignerInfo *si = NULL;
    CMS_ContentInfo *cms = NULL;
    gs_code rc = content_digest_for_sign(p, bits, md, &owned, st);
    if (rc == GS_ERR_OK && !(cms = new_signed_data(p, bits, &si, st)))
        rc = st->code;
    if (rc == GS_ERR_OK && p->attached)
        rc = embed_content(cms, owned ? owned : p->content, p->content_len, st);
    if (rc == GS_ERR_OK)
        rc = add_signed_attrs(si, p->cert, md, bits, p->signing_time, p->content_hint, st);
    if (rc == GS_ERR_OK)
        rc = sign_attrs(p, si, bits, st);
    if (rc == GS_ERR_OK)
        rc = add_chain(cms, p->chain, st);
    if (rc == GS_ERR_OK)
        rc = cms_to_der(cms, der, der_len, st);
    CMS_ContentInfo_free(cms);
    free(owned);
    return rc;
}

/* Public entry: checks the request and the certificate, then builds. */
gs_code gs_cms_sign(const gs_cms_sign_params *p, uint8_t **der, size_t *der_len, gs_status *st)
{
    gs_status local_st;
    if (!st)
        st = &local_st;
    gs_status_clear(st);
    int bits = 0;
    gs_code rc = gost_init(st);
    if (rc == GS_ERR_OK)
        rc = check_sign_params(p, st);
    if (rc == GS_ERR_OK && (!der || !der_len))
        rc = gs_fail(st, GS_ERR_BAD_REQUEST, "no output given");
    if (rc == GS_ERR_OK)
        rc = signer_key_bits(p->cert, &bits, st);
    if (rc == GS_ERR_OK) {
        gs_cms_sign_params local = *p;
        rc = build_signed_data(&local, bits, der, der_len, st);
    }
    ERR_clear_error();
    return rc;
}

static CMS_ContentInfo *parse_cms(const uint8_t *data, size_t len, gs_status *st);

/* The eContent of an attached CMS as a borrowed buffer; 0 when it has none. */
static int attached_content(CMS_ContentInfo *cms, const uint8_t **data, size_t *len)
{
    ASN1_OCTET_STRING **pos = CMS_is_detached(cms) ? NULL : CMS_get0_content(cms);
    if (!pos || !*pos)
        return 0;
    *data = ASN1_STRING_get0_data(*pos);
    *len = (size_t)ASN1_STRING_length(*pos);
    return 1;
}

/* Adds one SignerInfo to a parsed SignedData over the content digest md. */
static gs_code add_cosigner(CMS_ContentInfo *cms, const gs_cms_sign_params *p, int bits,
                            const uint8_t *md, uint8_t **der, size_t *der_len, gs_status *st)
{
    /* OpenSSL refuses to add a certificate that is already there (a second signature by the
     * same signer): then it is not added again. */
    STACK_OF(X509) *present = CMS_get1_certs(cms);
    int already = 0;
    for (int i = 0; i < sk_X509_num(present); i++)
        already |= X509_cmp(sk_X509_value(present, i), p->cert) == 0;
    sk_X509_pop_free(present, X509_free);
    unsigned flags =
        CMS_PARTIAL | CMS_NOSMIMECAP | (p->omit_signer_cert || already ? CMS_NOCERTS : 0);
    CMS_SignerInfo *si =
        CMS_add1_signer(cms, p->cert, X509_get0_pubkey(p->cert), gost_digest_md(bits), flags);
    if (!si)
        return gs_fail(st, GS_ERR_CMS_UNSUPPORTED, "adding a signer: %s", openssl_reason());
    gs_code rc = add_signed_attrs(si, p->cert, md, bits, p->signing_time, p->content_hint, st);
    if (rc == GS_ERR_OK)
        rc = sign_attrs(p, si, bits, st);
    if (rc == GS_ERR_OK)
        rc = add_chain(cms, p->chain, st);
    if (rc == GS_ERR_OK)
        rc = cms_to_der(cms, der, der_len, st);
    return rc;
}

gs_code gs_cms_cosign(const gs_cms_sign_params *p, const uint8_t *existing, size_t existing_len,
                      uint8_t **der, size_t *der_len, gs_status *st)
{
    gs_status_clear(st);
    if (!p || !p->cert || !p->sign || !der || !der_len)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "a signer certificate, callback and output are needed");
    int bits = 0;
    gs_code rc = gost_init(st);
    if (rc == GS_ERR_OK)
        rc = signer_key_bits(p->cert, &bits, st);
    CMS_ContentInfo *cms = rc == GS_ERR_OK ? parse_cms(existing, existing_len, st) : NULL;
    if (rc == GS_ERR_OK && !cms)
        rc = st->code;
    gs_cms_sign_params local = *p;
    const uint8_t *inside = NULL;
    size_t inside_len = 0;
    if (rc == GS_ERR_OK && attached_content(cms, &inside, &inside_len)) {
        local.content = inside; /* the signed content is the one inside the CMS */
        local.content_len = inside_len;
        local.content_fd = -1;
        local.content_digest = NULL;
    } else if (rc == GS_ERR_OK && !local.content && local.content_fd < 0 &&
               !local.content_digest) {
        rc = gs_fail(st, GS_ERR_CMS_CONTENT_MISSING, "a detached CMS needs its data to co-sign");
    }
    uint8_t md[GOST_MAX_DIGEST], *owned = NULL;
    local.attached = 0; /* the content stays where it is */
    if (rc == GS_ERR_OK)
        rc = content_digest_for_sign(&local, bits, md, &owned, st);
    if (rc == GS_ERR_OK)
        rc = add_cosigner(cms, &local, bits, md, der, der_len, st);
    free(owned);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return rc;
}

gs_code gs_cms_attached_content(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                                gs_status *st)
{
    *out = NULL;
    *out_len = 0;
    CMS_ContentInfo *cms = parse_cms(data, len, st);
    if (!cms)
        return st->code;
    const uint8_t *inside = NULL;
    size_t n = 0;
    gs_code rc = GS_ERR_OK;
    if (!attached_content(cms, &inside, &n))
        rc = gs_fail(st, GS_ERR_CMS_CONTENT_MISSING, "the CMS is detached");
    else if (!(*out = malloc(n ? n : 1)))
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "content");
    else {
        memcpy(*out, inside, n);
        *out_len = n;
    }
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return rc;
}

int gs_cms_is_attached(const uint8_t *data, size_t len)
{
    gs_status st;
    CMS_ContentInfo *cms = parse_cms(data, len, &st);
    int attached = cms && !CMS_is_detached(cms);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return attached;
}

int gs_cms_signer_count(const uint8_t *data, size_t len)
{
    gs_status st;
    CMS_ContentInfo *cms = parse_cms(data, len, &st);
    STACK_OF(CMS_SignerInfo) *sis = cms ? CMS_get0_SignerInfos(cms) : NULL;
    int n = sis ? sk_CMS_SignerInfo_num(sis) : -1;
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return n;
}

/* Software-key signer: the same callback shape a PKCS#11 token uses. */
gs_code gs_cms_sign_with_pkey(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                              size_t *sig_len, gs_status *st)
{
    EVP_PKEY *key = ctx;
    if (sig_cap < (size_t)gost_key_bits(key) / 4)
        return gs_fail(st, GS_ERR_INTERNAL, "signature buffer too small");
    return gost_sign_digest(key, tbs->digest, tbs->digest_len, sig, sig_len, st);
}

/* ------------------------------------------------------------------ verifying */

/* Defaults for gs_cms_verify_opts. */
void gs_cms_verify_opts_init(gs_cms_verify_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->content_fd = -1;
    o->signer_index = -1;
}

/* Frees what a verification returned. */
void gs_cms_verify_result_clear(gs_cms_verify_result *r)
{
    if (!r)
        return;
    gs_cert_free(r->signer);
    memset(r, 0, sizeof(*r));
}

/* Whether the bytes look like PEM (optionally after whitespace). */
static int looks_like_pem(const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return len - i >= 10 && memcmp(data + i, "-----BEGIN", 10) == 0;
}

/* PEM ("CMS" or "PKCS7") or DER, the whole input, SignedData only. */
static CMS_ContentInfo *parse_cms(const uint8_t *data, size_t len, gs_status *st)
{
    CMS_ContentInfo *cms = NULL;
    if (!data || len == 0 || len > INT_MAX) {
        gs_fail(st, GS_ERR_CMS_PARSE, "empty or oversized input");
        return NULL;
    }
    if (looks_like_pem(data, len)) {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        cms = b ? PEM_read_bio_CMS(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *p = data;
        cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
        if (cms && p != data + len) {
            CMS_ContentInfo_free(cms);
            cms = NULL;
        }
    }
    if (cms && OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        CMS_ContentInfo_free(cms);
        gs_fail(st, GS_ERR_CMS_PARSE, "the CMS is not SignedData");
        ERR_clear_error();
        return NULL;
    }
    if (!cms)
        gs_fail(st, GS_ERR_CMS_PARSE, "not a CMS SignedData in DER or PEM: %s", openssl_reason());
    return cms;
}

/* The SignerInfo to verify: the only one, or opts->signer_index of a co-signed CMS. */
static CMS_SignerInfo *only_signer(CMS_ContentInfo *cms, int index, gs_status *st)
{
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    int n = sis ? sk_CMS_SignerInfo_num(sis) : 0;
    if (index > 0 && index < n)
        return sk_CMS_SignerInfo_value(sis, index);
    if (n == 1 || (index == 0 && n > 0))
        return sk_CMS_SignerInfo_value(sis, 0);
    gs_fail(st, n == 0 ? GS_ERR_CMS_PARSE : GS_ERR_CMS_UNSUPPORTED,
            "the signature has %d signers; exactly one is supported", n);
    return NULL;
}

/* Finds the certificate the signer identifier names among the CMS certificates. */
static X509 *find_signer_cert(CMS_SignerInfo *si, STACK_OF(X509) * certs, gs_status *st)
{
    for (int i = 0; i < sk_X509_num(certs); i++)
        if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
            return sk_X509_value(certs, i);
    if (sk_X509_num(certs) <= 0)
        gs_fail(st, GS_ERR_CMS_SIGNER_NOT_FOUND, "the signature carries no certificates");
    else
        gs_fail(st, GS_ERR_CERT_MISMATCH,
                "none of the %d certificates in the signature is the one its signer "
                "identifier names",
                sk_X509_num(certs));
    return NULL;
}

/* Builds the certificate model and refuses keys other than GOST R 34.10-2012. */
static gs_code load_signer(X509 *x, gs_cms_verify_result *res, gs_status *st)
{
    res->signer = gs_cert_from_x509(x, st);
    if (!res->signer)
        return st->code;
    EVP_PKEY *pub = X509_get0_pubkey(x);
    ERR_clear_error();
    if (gost_key_is_2001(pub))
        return gs_fail(st, GS_ERR_CERT_GOST2001, "the signer's key is GOST R 34.10-2001");
    if (gost_key_bits(pub) == 0)
        return gs_fail(st, GS_ERR_CMS_UNSUPPORTED, "the signer's key is not GOST R 34.10-2012");
    return GS_ERR_OK;
}

/* Digest algorithm of the signer, and the presence of signed attributes (CAdES-BES). */
static gs_code check_signer_shape(CMS_SignerInfo *si, gs_cms_verify_result *res, gs_status *st)
{
    X509_ALGOR *dig = NULL, *sig = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
    res->digest_bits = streebog_bits_of(dig);
    if (res->digest_bits == 0)
        return gs_fail(st, GS_ERR_CMS_UNSUPPORTED, "the digest algorithm is not Streebog");
    if (CMS_signed_get_attr_count(si) <= 0)
        return gs_fail(st, GS_ERR_CMS_UNSUPPORTED,
                       "no signed attributes: not a CAdES-BES signature");
    return GS_ERR_OK;
}

/* The signature over the signed attributes, checked by OpenSSL's own CMS code. */
static gs_code check_signature(CMS_SignerInfo *si, X509 *signer, gs_status *st)
{
    CMS_SignerInfo_set1_signer_cert(si, signer);
    int r = CMS_SignerInfo_verify(si);
    if (r == 1) {
        ERR_clear_error();
        return GS_ERR_OK;
    }
    return gs_fail(st, GS_ERR_CMS_BAD_SIGNATURE, "the signature value does not verify (%s)",
                   openssl_reason());
}

/* A signed attribute value of the given ASN.1 type, or NULL. */
static void *signed_attr(CMS_SignerInfo *si, int nid, int type)
{
    return CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, type);
}

/* Decodes one ESS attribute (v1 or v2) with the given d2i; absent gives NULL without error. */
static void *decode_ess(CMS_SignerInfo *si, int nid, void *(*d2i)(void *, const uint8_t **, long),
                        int *present)
{
    *present = CMS_signed_get_attr_by_NID(si, nid, -1) >= 0;
    ASN1_STRING *seq = signed_attr(si, nid, V_ASN1_SEQUENCE);
    if (!seq)
        return NULL;
    const uint8_t *p = ASN1_STRING_get0_data(seq);
    return d2i(NULL, &p, ASN1_STRING_length(seq));
}

/* d2i adapters with a common shape for decode_ess. */
static void *d2i_ess_v1(void *unused, const uint8_t **p, long len)
{
    (void)unused;
    return d2i_ESS_SIGNING_CERT(NULL, p, len);
}
/* The same for signingCertificateV2. */
static void *d2i_ess_v2(void *unused, const uint8_t **p, long len)
{
    (void)unused;
    return d2i_ESS_SIGNING_CERT_V2(NULL, p, len);
}

/* signingCertificate(V2), when present, must name exactly the signer certificate. */
static gs_code check_signing_cert_attr(CMS_SignerInfo *si, X509 *signer, gs_cms_verify_result *res,
                                       gs_status *st)
{
    int has_v1 = 0, has_v2 = 0;
    ESS_SIGNING_CERT *v1 = decode_ess(si, NID_id_smime_aa_signingCertificate, d2i_ess_v1, &has_v1);
    ESS_SIGNING_CERT_V2 *v2 =
        decode_ess(si, NID_id_smime_aa_signingCertificateV2, d2i_ess_v2, &has_v2);
    gs_code rc = GS_ERR_OK;
    if ((has_v1 && !v1) || (has_v2 && !v2)) {
        rc = gs_fail(st, GS_ERR_CMS_PARSE, "the signingCertificate attribute is malformed");
    } else if (v1 || v2) {
        STACK_OF(X509) *chain = sk_X509_new_null();
        int ok = chain && sk_X509_push(chain, signer) &&
                 OSSL_ESS_check_signing_certs(v1, v2, chain, 1) == 1;
        sk_X509_free(chain);
        if (!ok)
            rc = gs_fail(st, GS_ERR_CERT_MISMATCH,
                         "the certificate is not the one named by the signed "
                         "signingCertificate%s attribute",
                         v2 ? "V2" : "");
        res->has_signing_cert_v2 = ok && v2;
    }
    ESS_SIGNING_CERT_free(v1);
    ESS_SIGNING_CERT_V2_free(v2);
    ERR_clear_error();
    return rc;
}

/* Streebog digest of whatever content the caller or the CMS supplies. */
static gs_code content_digest_for_verify(CMS_ContentInfo *cms, const gs_cms_verify_opts *o,
                                         int bits, uint8_t *md, gs_status *st)
{
    size_t md_len = (size_t)bits / 8;
    if (o->content_digest) {
        if (o->content_digest_len != md_len)
            return gs_fail(st, GS_ERR_BAD_REQUEST,
                           "the signature uses Streebog-%d: give a %zu-byte digest, not %zu", bits,
                           md_len, o->content_digest_len);
        memcpy(md, o->content_digest, md_len);
        return GS_ERR_OK;
    }
    if (o->content)
        return gost_digest_buffer(bits, o->content, o->content_len, md, st);
    if (o->content_fd >= 0)
        return gost_digest_fd(bits, o->content_fd, md, st);
    ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
    if (!pos || !*pos)
        return gs_fail(st, GS_ERR_CMS_CONTENT_MISSING,
                       "the signature is detached and no content was given");
    return gost_digest_buffer(bits, ASN1_STRING_get0_data(*pos), (size_t)ASN1_STRING_length(*pos),
                              md, st);
}

/* The signed messageDigest must equal the content's digest. */
static gs_code check_message_digest(CMS_ContentInfo *cms, CMS_SignerInfo *si,
                                    const gs_cms_verify_opts *o, int bits, gs_status *st)
{
    uint8_t md[GOST_MAX_DIGEST];
    ASN1_OCTET_STRING *signed_md = signed_attr(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING);
    ERR_clear_error();
    if (!signed_md)
        return gs_fail(st, GS_ERR_CMS_UNSUPPORTED, "the messageDigest attribute is missing");
    gs_code rc = content_digest_for_verify(cms, o, bits, md, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (ASN1_STRING_length(signed_md) != bits / 8 ||
        memcmp(ASN1_STRING_get0_data(signed_md), md, (size_t)bits / 8) != 0)
        return gs_fail(st, GS_ERR_CMS_DIGEST_MISMATCH,
                       "the content's Streebog-%d digest differs from the signed one", bits);
    return GS_ERR_OK;
}

/* signingTime (UTCTime or GeneralizedTime), or the verification time when absent. */
static gs_code read_signing_time(CMS_SignerInfo *si, const gs_cms_verify_opts *o,
                                 gs_cms_verify_result *res, gs_status *st)
{
    int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    res->signing_time = o->now ? o->now : time(NULL);
    if (idx < 0)
        return GS_ERR_OK;
    X509_ATTRIBUTE *attr = CMS_signed_get_attr(si, idx);
    ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(attr, 0);
    struct tm tm;
    if (!v || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME) ||
        !ASN1_TIME_to_tm(v->value.asn1_string, &tm)) {
        ERR_clear_error();
        return gs_fail(st, GS_ERR_CMS_PARSE, "the signingTime attribute is malformed");
    }
    res->signing_time = timegm(&tm);
    res->has_signing_time = 1;
    return GS_ERR_OK;
}

/* Loads a CRL file in PEM or DER. */
static X509_CRL *load_crl(const char *path, gs_status *st)
{
    BIO *b = BIO_new_file(path, "rb");
    if (!b) {
        gs_fail(st, GS_ERR_CRL_INVALID, "%s: cannot open (%s)", path, strerror(errno));
        ERR_clear_error();
        return NULL;
    }
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    if (!crl && BIO_reset(b) == 0)
        crl = d2i_X509_CRL_bio(b, NULL);
    BIO_free(b);
    if (!crl)
        gs_fail(st, GS_ERR_CRL_INVALID, "%s: not a CRL in PEM or DER", path);
    ERR_clear_error();
    return crl;
}

/* Trust store from a hashed directory and/or a PEM bundle, plus the CRL when given. */
static X509_STORE *build_store(const gs_cms_verify_opts *o, gs_status *st)
{
    struct stat sb;
    if (o->ca_dir && (stat(o->ca_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        gs_fail(st, GS_ERR_IO_ERROR, "%s: not a directory", o->ca_dir);
        return NULL;
    }
    X509_STORE *store = X509_STORE_new();
    int ok = store && (!o->ca_dir || X509_STORE_load_path(store, o->ca_dir)) &&
             (!o->ca_file || X509_STORE_load_file(store, o->ca_file));
    if (!ok) {
        gs_fail(st, GS_ERR_IO_ERROR, "loading the trust store: %s", openssl_reason());
        X509_STORE_free(store);
        return NULL;
    }
    if (o->crl_file) {
        X509_CRL *crl = load_crl(o->crl_file, st);
        ok = crl && X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        if (!ok) {
            X509_STORE_free(store);
            return NULL;
        }
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    return store;
}

/* Maps OpenSSL's chain verdict to the error table. */
static gs_code chain_error(int err, gs_status *st)
{
    const char *why = X509_verify_cert_error_string(err);
    switch (err) {
    case X509_V_ERR_CERT_REVOKED:
        return gs_fail(st, GS_ERR_CERT_REVOKED, "%s", why);
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        return gs_fail(st, GS_ERR_CRL_INVALID, "%s", why);
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return gs_fail(st, GS_ERR_CERT_EXPIRED, "in the chain at signing time: %s", why);
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return gs_fail(st, GS_ERR_CERT_NOT_YET_VALID, "in the chain at signing time: %s", why);
    default:
        return gs_fail(st, GS_ERR_CERT_UNTRUSTED, "%s", why);
    }
}

/* The issuer of the chain's first link (the signer itself when self-signed), with a reference. */
static X509 *chain_issuer(X509_STORE_CTX *ctx)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    X509 *issuer = sk_X509_value(chain, sk_X509_num(chain) > 1 ? 1 : 0);
    if (issuer)
        X509_up_ref(issuer);
    return issuer;
}

/* The signer's chain to the trust store at signing time, with the CRL when given; *issuer gets
 * the verified issuer (a reference) for the revocation check, when asked. */
static gs_code check_chain(CMS_ContentInfo *cms, X509 *signer, const gs_cms_verify_opts *o,
                           gs_cms_verify_result *res, X509 **issuer, gs_status *st)
{
    if (!o->ca_dir && !o->ca_file)
        return o->crl_file ? gs_fail(st, GS_ERR_CRL_INVALID,
                                     "a CRL can only be checked with a trust directory (--ca-dir)")
                           : GS_ERR_OK;
    X509_STORE *store = build_store(o, st);
    if (!store)
        return st->code;
    STACK_OF(X509) *untrusted = CMS_get1_certs(cms);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    gs_code rc = GS_ERR_OK;
    if (!ctx || !X509_STORE_CTX_init(ctx, store, signer, untrusted)) {
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "chain verification context");
    } else {
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), res->signing_time);
        if (X509_verify_cert(ctx) != 1)
            rc = chain_error(X509_STORE_CTX_get_error(ctx), st);
        else if (o->revocation)
            *issuer = chain_issuer(ctx);
    }
    res->chain_checked = rc == GS_ERR_OK;
    res->crl_checked = rc == GS_ERR_OK && o->crl_file != NULL;
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

/* Revocation through gost/revocation: needs the issuer of a verified chain. */
static gs_code check_revocation(X509 *signer, X509 *issuer, const gs_cms_verify_opts *o,
                                gs_cms_verify_result *res, gs_status *st)
{
    if (!issuer)
        return gs_fail(st, GS_ERR_REVOCATION_UNKNOWN,
                       "revocation can only be checked with a trust directory (--ca-dir)");
    res->revocation_checked = 1;
    return gs_revocation_check(signer, issuer, o->revocation, &res->revocation, st);
}

/* Reads the contentDescription of a contentHints attribute into the result ("" when none). */
static void read_content_hint(CMS_SignerInfo *si, gs_cms_verify_result *res)
{
    res->content_hint[0] = '\0';
    ASN1_STRING *seq = signed_attr(si, NID_id_smime_aa_contentHint, V_ASN1_SEQUENCE);
    if (!seq)
        return;
    const uint8_t *p = ASN1_STRING_get0_data(seq);
    long len = 0, inner = 0;
    int tag, xclass;
    if (ASN1_get_object(&p, &len, &tag, &xclass, ASN1_STRING_length(seq)) & 0x80 ||
        tag != V_ASN1_SEQUENCE)
        return;
    if (ASN1_get_object(&p, &inner, &tag, &xclass, len) & 0x80 || tag != V_ASN1_UTF8STRING ||
        xclass != V_ASN1_UNIVERSAL || inner <= 0 || (size_t)inner >= sizeof(res->content_hint))
        return;
    memcpy(res->content_hint, p, (size_t)inner);
    res->content_hint[inner] = '\0';
}

/* Steps after the signer is known: signature, certificate binding, content, time, chain, then
 * the relying party's policy and revocation (last, so its warnings never hide a refusal). */
static gs_code verify_signer(CMS_ContentInfo *cms, CMS_SignerInfo *si, X509 *signer,
                             const gs_cms_verify_opts *o, gs_cms_verify_result *res, gs_status *st)
{
    gs_code rc = load_signer(signer, res, st);
    if (rc == GS_ERR_OK)
        rc = check_signer_shape(si, res, st);
    if (rc == GS_ERR_OK)
        rc = check_signature(si, signer, st);
    if (rc == GS_ERR_OK)
        rc = check_signing_cert_attr(si, signer, res, st);
    if (rc == GS_ERR_OK)
        rc = check_message_digest(cms, si, o, res->digest_bits, st);
    if (rc == GS_ERR_OK)
        rc = read_signing_time(si, o, res, st);
    if (rc == GS_ERR_OK)
        read_content_hint(si, res);
    if (rc == GS_ERR_OK)
        rc = gs_cert_check_usable(res->signer, res->signing_time, st);
    X509 *issuer = NULL;
    if (rc == GS_ERR_OK)
        rc = check_chain(cms, signer, o, res, &issuer, st);
    if (rc == GS_ERR_OK && o->policy)
        rc = gs_policy_check(o->policy, res->signer, res->signing_time, res->has_signing_time, st);
    res->policy_checked = rc == GS_ERR_OK && o->policy;
    if (rc == GS_ERR_OK && o->revocation)
        rc = check_revocation(signer, issuer, o, res, st);
    X509_free(issuer);
    return rc;
}

/* Entry point: parse, find the one signer and its certificate, then verify_signer. */
gs_code gs_cms_verify(const uint8_t *data, size_t len, const gs_cms_verify_opts *opts,
                      gs_cms_verify_result *res, gs_status *st)
{
    gs_cms_verify_opts defaults;
    gs_cms_verify_opts_init(&defaults);
    const gs_cms_verify_opts *o = opts ? opts : &defaults;
    gs_status local_st;
    gs_cms_verify_result local_res;
    if (!st)
        st = &local_st;
    if (!res)
        res = &local_res;
    gs_status_clear(st);
    memset(res, 0, sizeof(*res));
    gs_code rc = gost_init(st);
    if (rc != GS_ERR_OK)
        return rc;
    CMS_ContentInfo *cms = parse_cms(data, len, st);
    if (!cms)
        return GS_ERR_CMS_PARSE;
    CMS_SignerInfo *si = only_signer(cms, o->signer_index, st);
    STACK_OF(X509) *certs = si ? CMS_get1_certs(cms) : NULL;
    X509 *signer = si ? find_signer_cert(si, certs, st) : NULL;
    res->attached = !CMS_is_detached(cms);
    if (!signer)
        rc = st->code;
    else
        rc = verify_signer(cms, si, signer, o, res, st);
    sk_X509_pop_free(certs, X509_free);
    CMS_ContentInfo_free(cms);
    if (res == &local_res)
        gs_cms_verify_result_clear(res);
    ERR_clear_error();
    return rc;
}
