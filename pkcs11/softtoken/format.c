/*
 * The token file format: serialising a token and parsing it back.
 *
 * File: "GSTOKEN\0" magic, u32 version, u32 body length, body, then a Streebog-256 checksum of
 * everything before it, so truncation and bit rot are detected (tampering with private keys is
 * caught by their AEAD tags; see pin.c). Integers are little-endian; attribute values are kept
 * in the host's CK_ULONG layout. The checksum is not keyed: README, "File format and safety".
 */
#include "softtoken.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "gost.h"

static const uint8_t st_magic[8] = { 'G', 'S', 'T', 'O', 'K', 'E', 'N', 0 };
#define ST_FORMAT_VERSION 1
#define ST_CHECKSUM_LEN   32

/* Growable output buffer for serialisation; oom latches the first allocation failure. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} wbuf;

/* Bounded reader for parsing; bad latches the first out-of-range read. */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int bad;
} rbuf;

/* Appends raw bytes, growing the buffer. */
static void put_raw(wbuf *b, const void *v, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->cap + n) * 2;
        uint8_t *np = OPENSSL_zalloc(cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        if (b->p) {
            memcpy(np, b->p, b->len);
            OPENSSL_clear_free(b->p, b->cap);
        }
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, v, n);
    b->len += n;
}

/* Appends a little-endian u32. */
static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put_raw(b, x, 4);
}

/* Appends a little-endian u64. */
static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

/* Appends a u32 length and the bytes. */
static void put_bytes(wbuf *b, const void *v, size_t n)
{
    put_u32(b, (uint32_t)n);
    put_raw(b, v, n);
}

/* Reads n raw bytes, or NULL (and bad) when the input is too short. */
static const uint8_t *get_raw(rbuf *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

/* Reads a little-endian u32 (0 when bad). */
static uint32_t get_u32(rbuf *r)
{
    const uint8_t *p = get_raw(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
             : 0;
}

/* Reads a little-endian u64. */
static uint64_t get_u64(rbuf *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

/* Reads a length-prefixed field into a fixed-size destination; the length must match. */
static void get_fixed(rbuf *r, void *dst, size_t n)
{
    if (get_u32(r) != n) {
        r->bad = 1;
        return;
    }
    const uint8_t *p = get_raw(r, n);
    if (p)
        memcpy(dst, p, n);
}

/* Serialises one object: its handle and every attribute. */
static void put_object(wbuf *b, const st_object *o)
{
    put_u32(b, (uint32_t)o->handle);
    put_u32(b, (uint32_t)o->nattr);
    for (size_t i = 0; i < o->nattr; i++) {
        put_u64(b, o->attrs[i].type);
        put_bytes(b, o->attrs[i].val, o->attrs[i].len);
    }
}

/* Serialises the token body (everything between the header and the checksum). */
static void put_body(wbuf *b, const st_token *t)
{
    put_bytes(b, t->label, sizeof t->label);
    put_bytes(b, t->serial, sizeof t->serial);
    put_bytes(b, t->epoch, sizeof t->epoch);
    put_u32(b, t->user_pin_set);
    put_u32(b, t->user_tries);
    put_u32(b, t->so_tries);
    put_u32(b, t->kdf_iter);
    put_bytes(b, t->user_wrap, sizeof t->user_wrap);
    put_bytes(b, t->so_wrap, sizeof t->so_wrap);
    put_u32(b, t->next_uid);
    put_u32(b, (uint32_t)t->nobj);
    for (size_t i = 0; i < t->nobj; i++)
        put_object(b, &t->objs[i]);
}

/* Parses one object; allocation failures and bad lengths mark the reader bad. */
static void get_object(rbuf *r, st_object *o)
{
    o->handle = get_u32(r);
    uint32_t n = get_u32(r);
    if (r->bad || n > 4096 || o->handle == 0 || (o->handle & ST_HANDLE_BITS)) {
        r->bad = 1;
        return;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        CK_ATTRIBUTE_TYPE type = (CK_ATTRIBUTE_TYPE)get_u64(r);
        uint32_t len = get_u32(r);
        const uint8_t *v = get_raw(r, len);
        if (!v || st_obj_set(o, type, v, len) != CKR_OK)
            r->bad = 1;
    }
}

/* Parses the body into tok. */
static void get_body(rbuf *r, st_token *t)
{
    get_fixed(r, t->label, sizeof t->label);
    get_fixed(r, t->serial, sizeof t->serial);
    get_fixed(r, t->epoch, sizeof t->epoch);
    t->user_pin_set = get_u32(r);
    t->user_tries = get_u32(r);
    t->so_tries = get_u32(r);
    t->kdf_iter = get_u32(r);
    get_fixed(r, t->user_wrap, sizeof t->user_wrap);
    get_fixed(r, t->so_wrap, sizeof t->so_wrap);
    t->next_uid = get_u32(r);
    uint32_t n = get_u32(r);
    if (r->bad || n > 100000 || t->user_tries > ST_MAX_TRIES || t->so_tries > ST_MAX_TRIES ||
        t->kdf_iter == 0) {
        r->bad = 1;
        return;
    }
    t->objs = calloc(n ? n : 1, sizeof *t->objs);
    if (!t->objs) {
        r->bad = 1;
        return;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        get_object(r, &t->objs[i]);
        t->nobj = i + 1;
    }
}

/* Releases every object and wipes the token copy. */
void st_token_free(st_token *tok)
{
    for (size_t i = 0; i < tok->nobj; i++)
        st_obj_free(&tok->objs[i]);
    free(tok->objs);
    OPENSSL_cleanse(tok, sizeof *tok);
}

/* Checks magic, version, length and checksum, then parses. CKR_TOKEN_NOT_RECOGNIZED if bad. */
CK_RV st_token_parse(const uint8_t *data, size_t len, st_token *tok)
{
    memset(tok, 0, sizeof *tok);
    if (len < 16 + ST_CHECKSUM_LEN || memcmp(data, st_magic, 8) != 0)
        return CKR_TOKEN_NOT_RECOGNIZED;
    rbuf r = { data, len, 8, 0 };
    uint32_t version = get_u32(&r);
    uint32_t body_len = get_u32(&r);
    if (version != ST_FORMAT_VERSION || body_len != len - 16 - ST_CHECKSUM_LEN)
        return CKR_TOKEN_NOT_RECOGNIZED;
    uint8_t sum[ST_CHECKSUM_LEN];
    gs_status gst;
    if (gost_digest_buffer(256, data, len - ST_CHECKSUM_LEN, sum, &gst) != GS_ERR_OK)
        return st_rv_from(&gst, "st_token_parse");
    if (CRYPTO_memcmp(sum, data + len - ST_CHECKSUM_LEN, ST_CHECKSUM_LEN) != 0)
        return CKR_TOKEN_NOT_RECOGNIZED;
    r.len = len - ST_CHECKSUM_LEN;
    get_body(&r, tok);
    if (r.bad || r.pos != r.len) {
        st_token_free(tok);
        return CKR_TOKEN_NOT_RECOGNIZED;
    }
    return CKR_OK;
}

/* Builds the complete file image of a token. */
static CK_RV serialise(const st_token *t, wbuf *b)
{
    wbuf body = { 0 };
    put_body(&body, t);
    put_raw(b, st_magic, 8);
    put_u32(b, ST_FORMAT_VERSION);
    put_u32(b, (uint32_t)body.len);
    put_raw(b, body.p, body.len);
    OPENSSL_clear_free(body.p, body.cap);
    if (b->oom || body.oom)
        return CKR_HOST_MEMORY;
    uint8_t sum[ST_CHECKSUM_LEN];
    gs_status gst;
    if (gost_digest_buffer(256, b->p, b->len, sum, &gst) != GS_ERR_OK)
        return st_rv_from(&gst, "st_token_serialise");
    put_raw(b, sum, sizeof sum);
    return b->oom ? CKR_HOST_MEMORY : CKR_OK;
}

/* The file image of a token in a new buffer (free it with OPENSSL_clear_free(*out, *len)). */
CK_RV st_token_serialise(const st_token *t, uint8_t **out, size_t *len)
{
    wbuf b = { 0 };
    CK_RV rv = serialise(t, &b);
    if (rv != CKR_OK) {
        OPENSSL_clear_free(b.p, b.cap);
        return rv;
    }
    *out = b.p;
    *len = b.len;
    return CKR_OK;
}
