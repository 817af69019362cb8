/*
 * libFuzzer target for the PKCS#12 decoder: any bytes go through gs_pkcs12_parse with the corpus
 * password and with an empty one, and whatever decodes has its key turned into the PKCS#11 raw
 * layouts `gostsign import` writes. Must never crash, leak or read out of bounds; a failure must
 * always carry one of the documented codes.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "gost.h"

/* Every code gs_pkcs12_parse documents (plus engine trouble, which would be a setup fault). */
static int documented(gs_code c)
{
    return c == GS_ERR_PKCS12_DAMAGED || c == GS_ERR_PKCS12_BAD_PASSWORD ||
           c == GS_ERR_UNSUPPORTED_ALGORITHM || c == GS_ERR_CERT_GOST2001 ||
           c == GS_ERR_PKCS12_INCOMPLETE || c == GS_ERR_UNKNOWN_PARAMSET ||
           c == GS_ERR_OUT_OF_MEMORY;
}

/* Decodes with one password and exercises the result. */
static void one(const uint8_t *data, size_t size, const char *password)
{
    gs_status st;
    gs_pkcs12 *p = gs_pkcs12_parse(data, size, password, &st);
    if (!p) {
        if (!documented(st.code))
            abort();
        return;
    }
    uint8_t raw[GOST_MAX_PUBKEY];
    size_t len = sizeof(raw);
    if (gost_privkey_to_raw(p->key, raw, &len, &st) == GS_ERR_OK)
        OPENSSL_cleanse(raw, len);
    len = sizeof(raw);
    (void)gost_pubkey_to_raw(p->key, raw, &len, &st);
    gs_pkcs12_free(p);
}

/* One input: the corpus password ("secret"), then an empty password. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, "secret");
    one(data, size, "");
    return 0;
}
