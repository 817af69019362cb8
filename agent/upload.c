/* Chunked uploads of `sign` (see upload.h): the bottom of the daemon, it calls only gost/. */
#include "upload.h"

#include <stdlib.h>
#include <string.h>

gs_code upload_new(cert_ref *ref, int attached, upload **out, gs_status *st)
{
    upload *up = calloc(1, sizeof(*up));
    if (!up) {
        cert_ref_clear(ref);
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "upload");
    }
    up->ref = *ref;
    memset(ref, 0, sizeof(*ref));
    up->attached = attached;
    if (!attached) {
        up->digest = gost_digest_new(up->ref.cert->key_bits, st);
        if (!up->digest) {
            upload_free(up);
            return st->code;
        }
    }
    *out = up;
    return GS_ERR_OK;
}

gs_code upload_add(upload *up, const uint8_t *data, size_t len, gs_status *st)
{
    up->total += len;
    if (!up->attached)
        return gost_digest_update(up->digest, data, len, st);
    if (up->len + len > AGENT_ATTACHED_LIMIT)
        return gs_fail(st, GS_ERR_FRAME_TOO_LARGE, "attached content above %u bytes: sign detached",
                       AGENT_ATTACHED_LIMIT);
    if (up->len + len > up->cap) {
        size_t ncap = (up->len + len) * 2;
        uint8_t *nb = realloc(up->buf, ncap);
        if (!nb)
            return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "upload");
        up->buf = nb;
        up->cap = ncap;
    }
    memcpy(up->buf + up->len, data, len);
    up->len += len;
    return GS_ERR_OK;
}

void upload_free(upload *up)
{
    if (!up)
        return;
    cert_ref_clear(&up->ref);
    gost_digest_free(up->digest);
    free(up->buf);
    free(up);
}
