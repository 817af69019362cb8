/*
 * Base64 of protocol fields through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock, after a strict
 * check of the alphabet and the padding (EVP_DecodeBlock alone is lenient there). Kept out of
 * frame.c so that a program linking the framing alone (gostsign-nmhost) needs no libcrypto.
 */
#include "base64.h"

#include <openssl/evp.h>

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A letter of the standard alphabet (RFC 4648, table 1); '=' is not one. */
static bool in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/*
 * Whether text (n bytes, a multiple of 4) is letters of the alphabet with at most two '=' at
 * the very end. EVP_DecodeBlock alone takes "Zg==Zm8=" or "====" and returns bytes for them.
 */
static bool well_formed(const char *text, size_t n)
{
    size_t pad = n >= 1 && text[n - 1] == '=' ? (n >= 2 && text[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - pad; i++)
        if (!in_alphabet(text[i]))
            return false;
    return true;
}

/* Checks the form, then decodes; the padding's zero bytes are not part of the result. */
gs_code gs_base64_decode(const char *text, uint8_t **out, size_t *out_len, gs_status *st)
{
    size_t n = text ? strlen(text) : 0;
    *out = NULL;
    *out_len = 0;
    if (n % 4 != 0 || n > INT_MAX)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "base64 length is not a multiple of 4");
    if (!well_formed(text, n))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "invalid base64");
    *out = malloc(n / 4 * 3 + 1);
    if (!*out)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "base64");
    int len = n ? EVP_DecodeBlock(*out, (const unsigned char *)text, (int)n) : 0;
    if (len < 0) {
        free(*out);
        *out = NULL;
        return gs_fail(st, GS_ERR_BAD_REQUEST, "invalid base64");
    }
    size_t pad = (n >= 1 && text[n - 1] == '=') + (n >= 2 && text[n - 2] == '=');
    *out_len = (size_t)len - pad;
    return GS_ERR_OK;
}

/* Encodes into a new JSON string (the protocol's form for binary fields). */
json_object *gs_base64_json(const uint8_t *data, size_t len)
{
    char *text = malloc(4 * ((len + 2) / 3) + 1);
    if (!text)
        return NULL;
    EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    json_object *s = json_object_new_string(text);
    free(text);
    return s;
}
