/*
 * A chunked `sign` upload: the data of one request id arriving over several frames. Detached
 * signatures hash the chunks on the fly (constant memory); attached ones keep the content, up to
 * AGENT_ATTACHED_LIMIT. The certificate is fixed by the first chunk.
 */
#ifndef GOSTSIGN_AGENT_UPLOAD_H
#define GOSTSIGN_AGENT_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "gost.h"
#include "token_cache.h"

/* Attached signatures keep the content in memory; larger data must be detached. */
#define AGENT_ATTACHED_LIMIT (32u * 1024u * 1024u)

typedef struct upload {
    cert_ref ref; /* the signing certificate, owned */
    int attached;
    gost_digest *digest; /* detached: the running Streebog digest */
    uint8_t *buf;        /* attached: the content so far */
    size_t len, cap;
    uint64_t total; /* bytes received */
} upload;

/* Starts an upload for the certificate in ref (taken over, even on failure). */
gs_code upload_new(cert_ref *ref, int attached, upload **out, gs_status *st);
/* Adds one chunk: hashed when detached, kept (up to the limit) when attached. */
gs_code upload_add(upload *up, const uint8_t *data, size_t len, gs_status *st);
/* Frees an upload and everything it holds; NULL is fine. */
void upload_free(upload *up);

#endif
