/*
 * The qualified-certificate model: OpenSSL parses the X.509 structure; this file picks out what
 * Russian qualified certificates carry (FNS/FSB name attributes, signing tools, KC classes),
 * computes the thumbprints users compare, and judges validity for qualified signatures.
 */
#include "qcert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* ---------------------------------------------------------------- small helpers */

/* Replaces control characters so a hostile name cannot drive the terminal or break a log line. */
static void replace_controls(char *s)
{
    for (unsigned char *p = (unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Any ASN.1 string type as UTF-8 (NumericString, PrintableString, UTF8String, BMPString...). */
static char *asn1_string_utf8(const ASN1_STRING *str)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, str);
    if (n < 0) {
        ERR_clear_error();
        return NULL;
    }
    char *copy = strdup((const char *)utf8);
    OPENSSL_free(utf8);
    replace_controls(copy);
    return copy;
}

/* Dotted form of an OID; writes "" when it cannot be printed. */
static void oid_dotted(const ASN1_OBJECT *obj, char *out, size_t cap)
{
    if (OBJ_obj2txt(out, (int)cap, obj, 1) <= 0)
        out[0] = '\0';
}

/* ---------------------------------------------------------------- names */

/* Where each attribute of a distinguished name lands in gs_name. */
typedef struct {
    const char *oid;
    const char *json_key;
    size_t offset;
} name_field;

static const name_field name_fields[] = {
    { "2.5.4.3", "cn", offsetof(gs_name, cn) },
    { "2.5.4.4", "sn", offsetof(gs_name, sn) },
    { "2.5.4.42", "g", offsetof(gs_name, g) },
    { "2.5.4.10", "o", offsetof(gs_name, o) },
    { "2.5.4.11", "ou", offsetof(gs_name, ou) },
    { "2.5.4.12", "t", offsetof(gs_name, t) },
    { "2.5.4.7", "l", offsetof(gs_name, l) },
    { "2.5.4.8", "st", offsetof(gs_name, st) },
    { "2.5.4.9", "street", offsetof(gs_name, street) },
    { "1.2.840.113549.1.9.1", "e", offsetof(gs_name, e) },
    { "2.5.4.6", "c", offsetof(gs_name, c) },
    { GS_OID_INN, "inn", offsetof(gs_name, inn) },
    { GS_OID_INNLE, "innle", offsetof(gs_name, innle) },
    { GS_OID_OGRN, "ogrn", offsetof(gs_name, ogrn) },
    { GS_OID_OGRNIP, "ogrnip", offsetof(gs_name, ogrnip) },
    { GS_OID_SNILS, "snils", offsetof(gs_name, snils) },
};

/* The gs_name slot for an attribute OID, or NULL for attributes the model does not name. */
static char **name_slot(gs_name *name, const char *oid)
{
    for (size_t i = 0; i < sizeof(name_fields) / sizeof(name_fields[0]); i++)
        if (strcmp(name_fields[i].oid, oid) == 0)
            return (char **)((char *)name + name_fields[i].offset);
    return NULL;
}

/*
 * The whole name on one line in certificate order (as CryptoPro and `openssl -nameopt utf8` show
 * it), with RFC 2253 escaping; UTF-8 kept readable, unknown attributes shown by dotted OID.
 */
static char *name_oneline(const X509_NAME *xn)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    char *out = NULL;
    unsigned long flags =
        (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN;
    if (X509_NAME_print_ex(bio, xn, 0, flags) >= 0) {
        char *mem = NULL;
        long n = BIO_get_mem_data(bio, &mem);
        out = malloc((size_t)n + 1);
        if (out) {
            memcpy(out, mem, (size_t)n);
            out[n] = '\0';
            replace_controls(out);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return out;
}

/* Fills a gs_name; the first occurrence of a repeated attribute wins (the full text is in dn). */
static gs_code name_fill(gs_name *name, const X509_NAME *xn, gs_status *st)
{
    int count = X509_NAME_entry_count(xn);
    for (int i = 0; i < count; i++) {
        const X509_NAME_ENTRY *ent = X509_NAME_get_entry(xn, i);
        char oid[128];
        oid_dotted(X509_NAME_ENTRY_get_object(ent), oid, sizeof(oid));
        char **slot = name_slot(name, oid);
        if (slot && !*slot)
            *slot = asn1_string_utf8(X509_NAME_ENTRY_get_data(ent));
    }
    name->oneline = name_oneline(xn);
    if (!name->oneline)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "cannot print a distinguished name");
    return GS_ERR_OK;
}

/* Frees every string of a gs_name. */
static void name_free(gs_name *name)
{
    for (size_t i = 0; i < sizeof(name_fields) / sizeof(name_fields[0]); i++)
        free(*name_slot(name, name_fields[i].oid));
    free(name->oneline);
    memset(name, 0, sizeof(*name));
}

/* ---------------------------------------------------------------- validity and serial */

/* ASN.1 UTCTime/GeneralizedTime to time_t; fails on malformed times. */
static gs_code asn1_time_to_time_t(const ASN1_TIME *t, time_t *out, gs_status *st)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return gs_fail(st, GS_ERR_CERT_PARSE, "malformed validity date");
    }
    *out = timegm(&tm);
    return GS_ERR_OK;
}

/* The validity window. */
static gs_code validity_fill(gs_cert *cert, gs_status *st)
{
    gs_code rc = asn1_time_to_time_t(X509_get0_notBefore(cert->x509), &cert->not_before, st);
    if (rc == GS_ERR_OK)
        rc = asn1_time_to_time_t(X509_get0_notAfter(cert->x509), &cert->not_after, st);
    return rc;
}

/* Serial number as upper-case hex, the way CryptoPro and Windows show it. */
static gs_code serial_fill(gs_cert *cert, gs_status *st)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x509), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    ERR_clear_error();
    if (!hex)
        return gs_fail(st, GS_ERR_CERT_PARSE, "malformed serial number");
    cert->serial_hex = strdup(hex);
    OPENSSL_free(hex);
    return cert->serial_hex ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "serial");
}

/* ---------------------------------------------------------------- key */

/* Algorithm OID, size, parameter set and the GOST-2001 flag of the subject public key. */
static void key_fill(gs_cert *cert)
{
    ASN1_OBJECT *alg = NULL;
    X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert->x509);
    if (spki && X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, spki) && alg)
        oid_dotted(alg, cert->key_algorithm_oid, sizeof(cert->key_algorithm_oid));
    const EVP_PKEY *pkey = X509_get0_pubkey(cert->x509);
    cert->key_bits = gost_key_bits(pkey);
    cert->paramset = gost_key_paramset(pkey);
    cert->is_gost2001 =
        gost_key_is_2001(pkey) || strcmp(cert->key_algorithm_oid, GOST_OID_KEY_2001) == 0;
    ERR_clear_error();
}

/* ---------------------------------------------------------------- extensions */

/* keyUsage bits in RFC 5280 numbering (bit i of the BIT STRING -> 1 << i). */
static void key_usage_fill(gs_cert *cert)
{
    int crit = 0;
    ASN1_BIT_STRING *ku = X509_get_ext_d2i(cert->x509, NID_key_usage, &crit, NULL);
    if (!ku) {
        ERR_clear_error();
        return;
    }
    cert->has_key_usage = 1;
    for (int bit = 0; bit <= 8; bit++)
        if (ASN1_BIT_STRING_get_bit(ku, bit))
            cert->key_usage |= 1u << bit;
    ASN1_BIT_STRING_free(ku);
}

/* Copies dotted OIDs from a stack into a fixed array; extra entries are dropped. */
static size_t oid_list_add(char **list, size_t count, size_t cap, const ASN1_OBJECT *obj)
{
    char oid[128];
    oid_dotted(obj, oid, sizeof(oid));
    if (count >= cap || !oid[0])
        return count;
    list[count] = strdup(oid);
    return list[count] ? count + 1 : count;
}

/* extendedKeyUsage purposes. */
static void eku_fill(gs_cert *cert)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert->x509, NID_ext_key_usage, NULL, NULL);
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
        cert->eku_count =
            oid_list_add(cert->eku, cert->eku_count, GS_CERT_MAX_EKU, sk_ASN1_OBJECT_value(eku, i));
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    ERR_clear_error();
}

/* certificatePolicies identifiers (the KC1/KC2 classes of the signing tool live here). */
static void policies_fill(gs_cert *cert)
{
    CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(cert->x509, NID_certificate_policies, NULL, NULL);
    for (int i = 0; pol && i < sk_POLICYINFO_num(pol); i++)
        cert->policy_count = oid_list_add(cert->policies, cert->policy_count, GS_CERT_MAX_POLICIES,
                                          sk_POLICYINFO_value(pol, i)->policyid);
    CERTIFICATEPOLICIES_free(pol);
    ERR_clear_error();
}

/* The raw value (inside the OCTET STRING) of the only extension with this NID, or NULL. */
static const ASN1_OCTET_STRING *extension_value(const X509 *x509, int nid)
{
    int idx = X509_get_ext_by_NID(x509, nid, -1);
    if (idx < 0 || X509_get_ext_by_NID(x509, nid, idx) >= 0)
        return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(x509, idx));
}

/* subjectSignTool ::= UTF8String. A malformed value is left out rather than failing the parse. */
static void subject_tool_fill(gs_cert *cert)
{
    const ASN1_OCTET_STRING *val = extension_value(cert->x509, NID_subjectSignTool);
    if (!val)
        return;
    const unsigned char *p = ASN1_STRING_get0_data(val);
    long len = ASN1_STRING_length(val);
    ASN1_UTF8STRING *s = d2i_ASN1_UTF8STRING(NULL, &p, len);
    if (s && p == ASN1_STRING_get0_data(val) + len)
        cert->subject_sign_tool = asn1_string_utf8(s);
    ASN1_UTF8STRING_free(s);
    ERR_clear_error();
}

/* issuerSignTool ::= SEQUENCE { signTool, cATool, signToolCert, cAToolCert } of UTF8String. */
static void issuer_tool_fill(gs_cert *cert)
{
    const ASN1_OCTET_STRING *val = extension_value(cert->x509, NID_issuerSignTool);
    if (!val)
        return;
    const unsigned char *p = ASN1_STRING_get0_data(val);
    long len = ASN1_STRING_length(val);
    ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    int ok =
        seq && p == ASN1_STRING_get0_data(val) + len && sk_ASN1_TYPE_num(seq) == GS_CERT_MAX_TOOLS;
    for (int i = 0; ok && i < GS_CERT_MAX_TOOLS; i++)
        ok = ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, i)) == V_ASN1_UTF8STRING;
    for (int i = 0; ok && i < GS_CERT_MAX_TOOLS; i++) {
        cert->issuer_sign_tool[i] = asn1_string_utf8(sk_ASN1_TYPE_value(seq, i)->value.utf8string);
        cert->issuer_tool_count += cert->issuer_sign_tool[i] != NULL;
    }
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    ERR_clear_error();
}

/* ---------------------------------------------------------------- thumbprints */

/* SHA-1 (CryptoPro's "Отпечаток") and Streebog-256 over the certificate's DER. */
static gs_code thumbprints_fill(gs_cert *cert, gs_status *st)
{
    unsigned char *der = NULL;
    int len = i2d_X509(cert->x509, &der);
    if (len <= 0) {
        ERR_clear_error();
        return gs_fail(st, GS_ERR_CERT_PARSE, "the certificate cannot be re-encoded as DER");
    }
    uint8_t sha1[20], streebog[32];
    unsigned int sha1_len = 0;
    gs_code rc = GS_ERR_OK;
    if (!EVP_Digest(der, (size_t)len, sha1, &sha1_len, EVP_sha1(), NULL) || sha1_len != 20)
        rc = gs_fail(st, GS_ERR_INTERNAL, "SHA-1 is unavailable");
    if (rc == GS_ERR_OK)
        rc = gost_digest_buffer(256, der, (size_t)len, streebog, st);
    OPENSSL_free(der);
    ERR_clear_error();
    if (rc != GS_ERR_OK)
        return rc;
    gost_hex(sha1, sizeof(sha1), cert->sha1_thumbprint);
    gost_hex(streebog, sizeof(streebog), cert->streebog_thumbprint);
    return GS_ERR_OK;
}

/* ---------------------------------------------------------------- construction */

/*
 * OpenSSL flags duplicate or undecodable standard extensions (keyUsage, basicConstraints, ...);
 * such a certificate could show one key usage and be verified with another, so it is refused.
 */
static gs_code extensions_check(const gs_cert *cert, gs_status *st)
{
    uint32_t flags = X509_get_extension_flags(cert->x509);
    ERR_clear_error();
    if (flags & EXFLAG_INVALID)
        return gs_fail(st, GS_ERR_CERT_PARSE, "duplicate or malformed certificate extensions");
    return GS_ERR_OK;
}

/* Fills every part of the model from cert->x509. */
static gs_code cert_fill(gs_cert *cert, gs_status *st)
{
    gs_code rc = extensions_check(cert, st);
    if (rc == GS_ERR_OK)
        rc = name_fill(&cert->subject, X509_get_subject_name(cert->x509), st);
    if (rc == GS_ERR_OK)
        rc = name_fill(&cert->issuer, X509_get_issuer_name(cert->x509), st);
    if (rc == GS_ERR_OK)
        rc = validity_fill(cert, st);
    if (rc == GS_ERR_OK)
        rc = serial_fill(cert, st);
    if (rc != GS_ERR_OK)
        return rc;
    key_fill(cert);
    key_usage_fill(cert);
    eku_fill(cert);
    policies_fill(cert);
    subject_tool_fill(cert);
    issuer_tool_fill(cert);
    cert->is_ca = (X509_get_extension_flags(cert->x509) & EXFLAG_CA) != 0;
    ERR_clear_error();
    return thumbprints_fill(cert, st);
}

/* Public entry for callers that already hold an X509 (CMS signer certificates, tokens). */
gs_cert *gs_cert_from_x509(X509 *x509, gs_status *st)
{
    if (!x509) {
        gs_fail(st, GS_ERR_CERT_PARSE, "no certificate");
        return NULL;
    }
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    gs_cert *cert = calloc(1, sizeof(*cert));
    if (!cert || !X509_up_ref(x509)) {
        free(cert);
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "certificate model");
        return NULL;
    }
    cert->x509 = x509;
    if (cert_fill(cert, st) != GS_ERR_OK) {
        gs_cert_free(cert);
        return NULL;
    }
    return cert;
}

/* Strict DER: one certificate and not a byte more. */
static X509 *x509_from_der(const uint8_t *data, size_t len)
{
    const unsigned char *p = data;
    X509 *x509 = d2i_X509(NULL, &p, (long)len);
    if (x509 && p != data + len) {
        X509_free(x509);
        x509 = NULL;
    }
    ERR_clear_error();
    return x509;
}

/* PEM password callback that refuses: a certificate is never encrypted, and we never prompt. */
static int refuse_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* The first CERTIFICATE block of a PEM text, decoded and then parsed as strict DER. */
static X509 *x509_from_pem(const uint8_t *data, size_t len)
{
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    unsigned char *der = NULL;
    long der_len = 0;
    char *pem_name = NULL;
    X509 *x509 = NULL;
    if (bio &&
        PEM_bytes_read_bio(&der, &der_len, &pem_name, PEM_STRING_X509, bio, refuse_password,
                           NULL) &&
        der_len > 0)
        x509 = x509_from_der(der, (size_t)der_len);
    OPENSSL_free(der);
    OPENSSL_free(pem_name);
    BIO_free(bio);
    ERR_clear_error();
    return x509;
}

/* True when the bytes contain a PEM armour line. */
static int looks_like_pem(const uint8_t *data, size_t len)
{
    static const char marker[] = "-----BEGIN ";
    return memmem(data, len, marker, sizeof(marker) - 1) != NULL;
}

/* PEM or DER bytes to the model; DER is tried first because it is what tokens store. */
gs_cert *gs_cert_parse(const uint8_t *data, size_t len, gs_status *st)
{
    if (!data || len == 0) {
        gs_fail(st, GS_ERR_CERT_PARSE, "empty input");
        return NULL;
    }
    if (len > GS_CERT_MAX_INPUT) {
        gs_fail(st, GS_ERR_CERT_PARSE, "input of %zu bytes exceeds the %d-byte limit", len,
                GS_CERT_MAX_INPUT);
        return NULL;
    }
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    X509 *x509 = data[0] == 0x30 ? x509_from_der(data, len) : NULL;
    if (!x509 && looks_like_pem(data, len))
        x509 = x509_from_pem(data, len);
    if (!x509) {
        gs_fail(st, GS_ERR_CERT_PARSE, "not an X.509 certificate in DER or PEM");
        return NULL;
    }
    gs_cert *cert = gs_cert_from_x509(x509, st);
    X509_free(x509);
    return cert;
}

/* Reads at most GS_CERT_MAX_INPUT + 1 bytes so an oversized file is detected, not loaded. */
static uint8_t *read_limited(FILE *f, size_t *len)
{
    uint8_t *buf = malloc(GS_CERT_MAX_INPUT + 1);
    size_t n = 0, got;
    while (buf && n < GS_CERT_MAX_INPUT + 1 &&
           (got = fread(buf + n, 1, GS_CERT_MAX_INPUT + 1 - n, f)) > 0)
        n += got;
    *len = n;
    return buf;
}

/* Reads a certificate file (PEM or DER). Missing or unreadable files are IO_ERROR. */
gs_cert *gs_cert_load_file(const char *path, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0;
    uint8_t *buf = read_limited(f, &len);
    int read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        free(buf);
        gs_fail(st, buf ? GS_ERR_IO_ERROR : GS_ERR_OUT_OF_MEMORY, "%s: read failed", path);
        return NULL;
    }
    gs_cert *cert = gs_cert_parse(buf, len, st);
    free(buf);
    if (!cert && st->code == GS_ERR_CERT_PARSE) {
        char detail[sizeof(st->detail)];
        snprintf(detail, sizeof(detail), "%s", st->detail);
        gs_fail(st, GS_ERR_CERT_PARSE, "%s: %s", path, detail);
    }
    return cert;
}

/* Releases the model and its reference to the X509. */
void gs_cert_free(gs_cert *cert)
{
    if (!cert)
        return;
    X509_free(cert->x509);
    name_free(&cert->subject);
    name_free(&cert->issuer);
    free(cert->serial_hex);
    for (size_t i = 0; i < cert->eku_count; i++)
        free(cert->eku[i]);
    for (size_t i = 0; i < cert->policy_count; i++)
        free(cert->policies[i]);
    free(cert->subject_sign_tool);
    for (size_t i = 0; i < GS_CERT_MAX_TOOLS; i++)
        free(cert->issuer_sign_tool[i]);
    free(cert);
}

/* ---------------------------------------------------------------- validity judgements */

/* "YYYY-MM-DD HH:MM:SS UTC" style stamp for messages. */
static void format_utc(time_t t, const char *fmt, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, fmt, &tm) == 0)
        snprintf(out, cap, "%lld", (long long)t);
}

/* Validity at a moment; both ends of the window are inclusive, as in RFC 5280. */
gs_code gs_cert_check_time(const gs_cert *cert, time_t at, gs_status *st)
{
    char when[40];
    if (at < cert->not_before) {
        format_utc(cert->not_before, "%Y-%m-%d %H:%M:%S UTC", when, sizeof(when));
        return gs_fail(st, GS_ERR_CERT_NOT_YET_VALID, "valid from %s", when);
    }
    if (at > cert->not_after) {
        format_utc(cert->not_after, "%Y-%m-%d %H:%M:%S UTC", when, sizeof(when));
        return gs_fail(st, GS_ERR_CERT_EXPIRED, "expired on %s", when);
    }
    return GS_ERR_OK;
}

/* All problems in a fixed order: withdrawn algorithm, unsupported key, then time. */
size_t gs_cert_problems(const gs_cert *cert, time_t at, gs_code *out, size_t cap)
{
    gs_code found[3];
    size_t n = 0;
    gs_status ignored;
    if (cert->is_gost2001)
        found[n++] = GS_ERR_CERT_GOST2001;
    else if (cert->key_bits == 0)
        found[n++] = GS_ERR_UNSUPPORTED_ALGORITHM;
    gs_code t = gs_cert_check_time(cert, at, &ignored);
    if (t != GS_ERR_OK)
        found[n++] = t;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = found[i];
    return n;
}

/* The first problem as a status with its detail, for callers that stop at the first refusal. */
gs_code gs_cert_check_usable(const gs_cert *cert, time_t at, gs_status *st)
{
    if (cert->is_gost2001)
        return gs_fail(st, GS_ERR_CERT_GOST2001, "key algorithm %s", cert->key_algorithm_oid);
    if (cert->key_bits == 0)
        return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "key algorithm %s",
                       cert->key_algorithm_oid[0] ? cert->key_algorithm_oid : "unknown");
    return gs_cert_check_time(cert, at, st);
}

/* Days to notAfter with floor rounding, so "expired today" is -1, not 0. */
long gs_cert_days_left(const gs_cert *cert, time_t at)
{
    long long diff = (long long)cert->not_after - (long long)at;
    long long days = diff / 86400;
    if (diff < 0 && diff % 86400 != 0)
        days--;
    return (long)days;
}

/* ---------------------------------------------------------------- labels */

static const gs_key_usage_info key_usages[] = {
    { GS_KU_DIGITAL_SIGNATURE, "digitalSignature", "цифровая подпись" },
    { GS_KU_NON_REPUDIATION, "nonRepudiation", "неотрекаемость" },
    { GS_KU_KEY_ENCIPHERMENT, "keyEncipherment", "шифрование ключей" },
    { GS_KU_DATA_ENCIPHERMENT, "dataEncipherment", "шифрование данных" },
    { GS_KU_KEY_AGREEMENT, "keyAgreement", "согласование ключей" },
    { GS_KU_KEY_CERT_SIGN, "keyCertSign", "подпись сертификатов" },
    { GS_KU_CRL_SIGN, "cRLSign", "подпись списка отзыва" },
    { GS_KU_ENCIPHER_ONLY, "encipherOnly", "только шифрование" },
    { GS_KU_DECIPHER_ONLY, "decipherOnly", "только расшифрование" },
};

/* The key usage table, so the CLI and JSON use the same names. */
const gs_key_usage_info *gs_key_usage_table(size_t *count)
{
    *count = sizeof(key_usages) / sizeof(key_usages[0]);
    return key_usages;
}

/* Russian labels of common purposes and of the signing-tool classes (FSB order No. 796). */
static const struct {
    const char *oid;
    const char *label;
} oid_labels[] = {
    { "1.3.6.1.5.5.7.3.1", "Проверка подлинности сервера" },
    { "1.3.6.1.5.5.7.3.2", "Проверка подлинности клиента" },
    { "1.3.6.1.5.5.7.3.3", "Подписывание кода" },
    { "1.3.6.1.5.5.7.3.4", "Защищённая электронная почта" },
    { "1.3.6.1.5.5.7.3.8", "Штамп времени" },
    { "1.3.6.1.5.5.7.3.9", "Подписывание ответов OCSP" },
    { GS_OID_POLICY_KC1, "КС1" },
    { GS_OID_POLICY_KC2, "КС2" },
    { "1.2.643.100.113.3", "КС3" },
    { "1.2.643.100.113.4", "КВ1" },
    { "1.2.643.100.113.5", "КВ2" },
    { "1.2.643.100.113.6", "КА1" },
};

/* Looks up a Russian label; NULL means "show the OID". */
const char *gs_oid_label_ru(const char *dotted_oid)
{
    for (size_t i = 0; i < sizeof(oid_labels) / sizeof(oid_labels[0]); i++)
        if (strcmp(oid_labels[i].oid, dotted_oid) == 0)
            return oid_labels[i].label;
    return NULL;
}

/* ---------------------------------------------------------------- JSON */

/* A string member, or null when absent. */
static void json_add_str(json_object *obj, const char *key, const char *value)
{
    json_object_object_add(obj, key, value ? json_object_new_string(value) : NULL);
}

/* A distinguished name with stable member names. */
static json_object *name_to_json(const gs_name *name)
{
    json_object *obj = json_object_new_object();
    for (size_t i = 0; i < sizeof(name_fields) / sizeof(name_fields[0]); i++) {
        char *const *value = (char *const *)((const char *)name + name_fields[i].offset);
        json_add_str(obj, name_fields[i].json_key, *value);
    }
    json_add_str(obj, "dn", name->oneline);
    return obj;
}

/* ISO 8601 UTC string plus the Unix time, for people and programs. */
static json_object *validity_to_json(const gs_cert *cert)
{
    char buf[40];
    json_object *obj = json_object_new_object();
    format_utc(cert->not_before, "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf));
    json_add_str(obj, "not_before", buf);
    format_utc(cert->not_after, "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf));
    json_add_str(obj, "not_after", buf);
    json_object_object_add(obj, "not_before_unix", json_object_new_int64(cert->not_before));
    json_object_object_add(obj, "not_after_unix", json_object_new_int64(cert->not_after));
    return obj;
}

/* Human name of the key algorithm as OpenSSL knows it, or NULL. */
static const char *key_algorithm_name(const gs_cert *cert)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(cert->key_algorithm_oid, 1);
    int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
    ASN1_OBJECT_free(obj);
    ERR_clear_error();
    return nid == NID_undef ? NULL : OBJ_nid2ln(nid);
}

/* The subject key: algorithm, size, parameter set and the withdrawn-algorithm flag. */
static json_object *key_to_json(const gs_cert *cert)
{
    json_object *obj = json_object_new_object();
    json_add_str(obj, "algorithm_oid", cert->key_algorithm_oid[0] ? cert->key_algorithm_oid : NULL);
    json_add_str(obj, "algorithm", key_algorithm_name(cert));
    json_object_object_add(obj, "bits", json_object_new_int(cert->key_bits));
    const gost_paramset *ps = cert->paramset;
    json_add_str(obj, "paramset", ps ? ps->name : NULL);
    json_add_str(obj, "paramset_oid", ps ? ps->oid : NULL);
    json_add_str(obj, "paramset_long_name", ps ? ps->long_name : NULL);
    json_object_object_add(obj, "gost2001", json_object_new_boolean(cert->is_gost2001));
    return obj;
}

/* keyUsage names, or null when the extension is absent (which means "any usage"). */
static json_object *key_usage_to_json(const gs_cert *cert)
{
    if (!cert->has_key_usage)
        return NULL;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sizeof(key_usages) / sizeof(key_usages[0]); i++)
        if (cert->key_usage & key_usages[i].bit)
            json_object_array_add(arr, json_object_new_string(key_usages[i].name));
    return arr;
}

/* A list of OIDs with OpenSSL's short name and our Russian label. */
static json_object *oid_list_to_json(char *const *oids, size_t count)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < count; i++) {
        json_object *item = json_object_new_object();
        ASN1_OBJECT *obj = OBJ_txt2obj(oids[i], 1);
        int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
        ASN1_OBJECT_free(obj);
        json_add_str(item, "oid", oids[i]);
        json_add_str(item, "name", nid == NID_undef ? NULL : OBJ_nid2sn(nid));
        json_add_str(item, "name_ru", gs_oid_label_ru(oids[i]));
        json_object_array_add(arr, item);
    }
    ERR_clear_error();
    return arr;
}

/* issuerSignTool's four strings under their ASN.1 names. */
static json_object *issuer_tool_to_json(const gs_cert *cert)
{
    if (cert->issuer_tool_count == 0)
        return NULL;
    static const char *const keys[GS_CERT_MAX_TOOLS] = { "sign_tool", "ca_tool", "sign_tool_cert",
                                                         "ca_tool_cert" };
    json_object *obj = json_object_new_object();
    for (size_t i = 0; i < GS_CERT_MAX_TOOLS; i++)
        json_add_str(obj, keys[i], cert->issuer_sign_tool[i]);
    return obj;
}

/* Both thumbprints. */
static json_object *thumbprints_to_json(const gs_cert *cert)
{
    json_object *obj = json_object_new_object();
    json_add_str(obj, "sha1", cert->sha1_thumbprint);
    json_add_str(obj, "streebog256", cert->streebog_thumbprint);
    return obj;
}

/* One error-table entry as the protocol presents it. */
static json_object *problem_to_json(gs_code code)
{
    const gs_error_info *e = gs_error_lookup(code);
    json_object *obj = json_object_new_object();
    json_add_str(obj, "code", e->name);
    json_object_object_add(obj, "number", json_object_new_int((int)e->code));
    json_add_str(obj, "message", e->message_en);
    json_add_str(obj, "message_ru", e->message_ru);
    return obj;
}

/* Usability at `now`: codes from the error table, days left and the moment of the check. */
static json_object *status_to_json(const gs_cert *cert, time_t now)
{
    gs_code problems[4];
    size_t n = gs_cert_problems(cert, now, problems, 4);
    json_object *obj = json_object_new_object();
    json_add_str(obj, "code", n ? gs_error_lookup(problems[0])->name : "OK");
    json_object_object_add(obj, "usable", json_object_new_boolean(n == 0));
    json_object_object_add(obj, "days_left", json_object_new_int64(gs_cert_days_left(cert, now)));
    char buf[40];
    format_utc(now, "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf));
    json_add_str(obj, "checked_at", buf);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, problem_to_json(problems[i]));
    json_object_object_add(obj, "problems", arr);
    return obj;
}

/* The whole model as JSON, without the trust fields; see qcert.h for the field list. */
json_object *gs_cert_model_json(const gs_cert *cert, time_t now)
{
    json_object *obj = json_object_new_object();
    json_object_object_add(obj, "version",
                           json_object_new_int((int)X509_get_version(cert->x509) + 1));
    json_add_str(obj, "serial", cert->serial_hex);
    json_object_object_add(obj, "is_ca", json_object_new_boolean(cert->is_ca));
    json_object_object_add(obj, "subject", name_to_json(&cert->subject));
    json_object_object_add(obj, "issuer", name_to_json(&cert->issuer));
    json_object_object_add(obj, "validity", validity_to_json(cert));
    json_object_object_add(obj, "key", key_to_json(cert));
    json_object_object_add(obj, "key_usage", key_usage_to_json(cert));
    json_object_object_add(obj, "extended_key_usage", oid_list_to_json(cert->eku, cert->eku_count));
    json_object_object_add(obj, "policies", oid_list_to_json(cert->policies, cert->policy_count));
    json_add_str(obj, "subject_sign_tool", cert->subject_sign_tool);
    json_object_object_add(obj, "issuer_sign_tool", issuer_tool_to_json(cert));
    json_object_object_add(obj, "thumbprints", thumbprints_to_json(cert));
    json_object_object_add(obj, "status", status_to_json(cert, now));
    return obj;
}

/* ---------------------------------------------------------------- owner summary */

/* Appends ", LABEL VALUE" (or "LABEL VALUE" first) to an identifier list when the value exists. */
static void add_identifier(char *buf, size_t cap, const char *label, const char *value)
{
    if (!value)
        return;
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s%s %s", used ? ", " : "", label, value);
}

/*
 * "CN, O (ИНН ..., ОГРН ...)": the organisation's INN (INNLE) when present, otherwise the
 * person's INN; OGRN, or OGRNIP for an individual entrepreneur.
 */
char *gs_cert_owner_summary(const gs_cert *cert)
{
    return gs_cert_owner_summary_lang(cert, 1);
}

/* The same with English labels (INN, OGRN, OGRNIP) for English text. */
char *gs_cert_owner_summary_lang(const gs_cert *cert, int russian)
{
    const gs_name *s = &cert->subject;
    char ids[160] = "";
    add_identifier(ids, sizeof(ids), russian ? "ИНН" : "INN", s->innle ? s->innle : s->inn);
    add_identifier(ids, sizeof(ids), russian ? "ОГРН" : "OGRN", s->ogrn);
    add_identifier(ids, sizeof(ids), russian ? "ОГРНИП" : "OGRNIP", s->ogrnip);
    const char *who = s->cn ? s->cn : s->oneline;
    int with_org = s->o && (!s->cn || strcmp(s->o, s->cn) != 0);
    char *out = NULL;
    if (asprintf(&out, "%s%s%s%s%s%s", who ? who : "", with_org ? ", " : "", with_org ? s->o : "",
                 ids[0] ? " (" : "", ids, ids[0] ? ")" : "") < 0)
        return NULL;
    return out;
}
