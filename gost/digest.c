/* GOST R 34.11-2012 (Streebog) digests, streaming so large files hash in constant memory. */
#include "primitives.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>

#define DIGEST_READ_CHUNK (64 * 1024)

struct gost_digest {
    EVP_MD_CTX *ctx;
    int bits;
};

/* Maps a bit length to the engine's EVP_MD. */
const EVP_MD *gost_digest_md(int bits)
{
    if (gost_init(NULL) != GS_ERR_OK)
        return NULL;
    if (bits == 256)
        return EVP_get_digestbynid(NID_id_GostR3411_2012_256);
    if (bits == 512)
        return EVP_get_digestbynid(NID_id_GostR3411_2012_512);
    return NULL;
}

/* Allocates a context bound to the engine digest. */
gost_digest *gost_digest_new(int bits, gs_status *st)
{
    if (gost_init(st) != GS_ERR_OK)
        return NULL;
    const EVP_MD *md = gost_digest_md(bits);
    if (!md) {
        gs_fail(st, GS_ERR_UNSUPPORTED_ALGORITHM, "Streebog digest size must be 256 or 512, not %d",
                bits);
        return NULL;
    }
    gost_digest *d = calloc(1, sizeof(*d));
    if (!d) {
        gs_fail(st, GS_ERR_OUT_OF_MEMORY, "digest context");
        return NULL;
    }
    d->bits = bits;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || !EVP_DigestInit_ex(d->ctx, md, NULL)) {
        gost_digest_free(d);
        gs_fail(st, GS_ERR_ENGINE_FAILED, "EVP_DigestInit_ex failed for Streebog-%d", bits);
        return NULL;
    }
    return d;
}

/* Feeds more data. */
gs_code gost_digest_update(gost_digest *d, const void *data, size_t len, gs_status *st)
{
    if (!EVP_DigestUpdate(d->ctx, data, len))
        return gs_fail(st, GS_ERR_ENGINE_FAILED, "EVP_DigestUpdate failed");
    return GS_ERR_OK;
}

/* Finishes and writes bits/8 bytes. */
gs_code gost_digest_final(gost_digest *d, uint8_t *out, gs_status *st)
{
    unsigned int n = 0;
    if (!EVP_DigestFinal_ex(d->ctx, out, &n) || n != (unsigned int)d->bits / 8)
        return gs_fail(st, GS_ERR_ENGINE_FAILED, "EVP_DigestFinal_ex failed");
    return GS_ERR_OK;
}

/* Frees a context; NULL is fine. */
void gost_digest_free(gost_digest *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

/* Convenience for small in-memory inputs. */
gs_code gost_digest_buffer(int bits, const void *data, size_t len, uint8_t *out, gs_status *st)
{
    gost_digest *d = gost_digest_new(bits, st);
    if (!d)
        return st ? st->code : GS_ERR_INTERNAL;
    gs_code rc = gost_digest_update(d, data, len, st);
    if (rc == GS_ERR_OK)
        rc = gost_digest_final(d, out, st);
    gost_digest_free(d);
    return rc;
}

/* Reads fd to its end through one fixed buffer, so memory use does not grow with the input. */
gs_code gost_digest_fd(int bits, int fd, uint8_t *out, gs_status *st)
{
    gost_digest *d = gost_digest_new(bits, st);
    if (!d)
        return st ? st->code : GS_ERR_INTERNAL;
    uint8_t *buf = malloc(DIGEST_READ_CHUNK);
    gs_code rc = buf ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "read buffer");
    while (rc == GS_ERR_OK) {
        ssize_t n = read(fd, buf, DIGEST_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = gs_fail(st, GS_ERR_IO_ERROR, "read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = gost_digest_update(d, buf, (size_t)n, st);
    }
    if (rc == GS_ERR_OK)
        rc = gost_digest_final(d, out, st);
    free(buf);
    gost_digest_free(d);
    return rc;
}
