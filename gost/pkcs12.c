/* PKCS#12 decoding with failure classification (password, damage, content, algorithm). */
#include "pkcs12.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>

/* Decodes the outer DER; the whole input must be one PFX. */
static PKCS12 *decode_pfx(const uint8_t *der, size_t len, gs_status *st)
{
    if (len == 0 || len > GS_PKCS12_MAX_INPUT) {
        gs_fail(st, GS_ERR_PKCS12_DAMAGED, "%zu bytes is not a PKCS#12 file", len);
        return NULL;
    }
    const uint8_t *p = der;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12 || p != der + len) {
        PKCS12_free(p12);
        ERR_clear_error();
        gs_fail(st, GS_ERR_PKCS12_DAMAGED, "not a DER PKCS#12 structure (or truncated)");
        return NULL;
    }
    return p12;
}

/* The MAC's digest must be one we can compute, else a failure would look like a wrong password. */
static gs_code check_mac_algorithm(const PKCS12 *p12, gs_status *st)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *oid = NULL;
    PKCS12_get0_mac(NULL, &alg, NULL, NULL, p12);
    if (!alg)
        return gs_fail(st, GS_ERR_PKCS12_DAMAGED, "the MAC has no algorithm");
    X509_ALGOR_get0(&oid, NULL, NULL, alg);
    if (EVP_get_digestbyobj(oid))
        return GS_ERR_OK;
    char name[80];
    OBJ_obj2txt(name, sizeof(name), oid, 0);
    ERR_clear_error();
    return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "MAC digest %s is not available", name);
}

/* Verifies the MAC with the password (an empty one is tried both as "" and as absent). */
static gs_code verify_mac(PKCS12 *p12, const char *password, const char **effective, gs_status *st)
{
    *effective = password ? password : "";
    if (!PKCS12_mac_present(p12))
        return GS_ERR_OK;
    gs_code rc = check_mac_algorithm(p12, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (PKCS12_verify_mac(p12, *effective, -1) == 1)
        return GS_ERR_OK;
    if (**effective == '\0' && PKCS12_verify_mac(p12, NULL, 0) == 1) {
        *effective = NULL;
        return GS_ERR_OK;
    }
    ERR_clear_error();
    return gs_fail(st, GS_ERR_PKCS12_BAD_PASSWORD, "the integrity check (MAC) fails");
}

/* After a good MAC a parse failure is damage, or an encryption algorithm we lack. */
static gs_code parse_failure(gs_status *st)
{
    unsigned long e = ERR_peek_last_error();
    int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
    char why[160] = "";
    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    ERR_clear_error();
    if ((lib == ERR_LIB_EVP &&
         (reason == EVP_R_UNSUPPORTED_CIPHER || reason == EVP_R_UNKNOWN_CIPHER ||
          reason == EVP_R_UNSUPPORTED_PRF)) ||
        (lib == ERR_LIB_ASN1 && reason == ASN1_R_UNKNOWN_PUBLIC_KEY_TYPE))
        return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "%s", why);
    return gs_fail(st, GS_ERR_PKCS12_DAMAGED, "the contents cannot be decoded: %s",
                   *why ? why : "unknown reason");
}

/* The key must be GOST R 34.10-2012 and the file must hold its certificate. */
static gs_code check_contents(gs_pkcs12 *r, gs_status *st)
{
    if (!r->key)
        return gs_fail(st, GS_ERR_PKCS12_INCOMPLETE, "the file holds no private key");
    if (gost_key_is_2001(r->key))
        return gs_fail(st, GS_ERR_CERT_GOST2001, "the key is GOST R 34.10-2001");
    r->key_bits = gost_key_bits(r->key);
    r->paramset = gost_key_paramset(r->key);
    ERR_clear_error();
    if (r->key_bits == 0)
        return gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "the key is %s, not GOST R 34.10-2012",
                       EVP_PKEY_get0_type_name(r->key) ? EVP_PKEY_get0_type_name(r->key)
                                                       : "unknown");
    if (!r->paramset)
        return gs_fail(st, GS_ERR_UNKNOWN_PARAMSET, "the key's parameter set is not known");
    if (!r->cert)
        return gs_fail(st, GS_ERR_PKCS12_INCOMPLETE, "no certificate in the file matches the key");
    return GS_ERR_OK;
}

/* Keeps the friendlyName of the certificate (set by `openssl pkcs12 -name`). */
static void take_friendly_name(gs_pkcs12 *r)
{
    int len = 0;
    const unsigned char *alias = X509_alias_get0(r->cert, &len);
    if (alias && len > 0)
        r->friendly_name = OPENSSL_strndup((const char *)alias, (size_t)len);
}

/* Entry point: outer DER, MAC, contents, key and certificate checks. */
gs_pkcs12 *gs_pkcs12_parse(const uint8_t *der, size_t len, const char *password, gs_status *st)
{
    gs_status_clear(st);
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    PKCS12 *p12 = decode_pfx(der, len, st);
    if (!p12)
        return NULL;
    const char *pass = NULL;
    gs_pkcs12 *r = NULL;
    if (verify_mac(p12, password, &pass, st) == GS_ERR_OK) {
        r = OPENSSL_zalloc(sizeof(*r));
        if (!r)
            gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pkcs12");
        else if (!PKCS12_parse(p12, pass, &r->key, &r->cert, &r->extra_certs))
            parse_failure(st);
        else if (check_contents(r, st) == GS_ERR_OK)
            take_friendly_name(r);
        if (r && st->code != GS_ERR_OK) {
            gs_pkcs12_free(r);
            r = NULL;
        }
    }
    PKCS12_free(p12);
    ERR_clear_error();
    return r;
}

/* Frees the key (OpenSSL wipes private key material), certificates and name. */
void gs_pkcs12_free(gs_pkcs12 *p)
{
    if (!p)
        return;
    EVP_PKEY_free(p->key);
    X509_free(p->cert);
    sk_X509_pop_free(p->extra_certs, X509_free);
    OPENSSL_free(p->friendly_name);
    OPENSSL_free(p);
}
