/* Origin policy: which sites may ask for a signature. The origin comes from the extension. */
#ifndef GOSTSIGN_AGENT_ORIGIN_H
#define GOSTSIGN_AGENT_ORIGIN_H

#include <stddef.h>

#include "config.h"
#include "gost.h"

/* A parsed web origin: scheme, lower-case host, port (0 = scheme default). */
typedef struct {
    char scheme[8];
    char host[256];
    int port;
} web_origin;

/* Parses "scheme://host[:port]" strictly: no path, query, user info or trailing dot tricks. */
gs_code origin_parse(const char *text, web_origin *out, gs_status *st);

/* OK when cfg allows the origin; ORIGIN_NOT_ALLOWED (with the reason) otherwise. */
gs_code origin_check(const agent_config *cfg, const char *origin, gs_status *st);

/* True when the origin matches one of the allow-list patterns (an exact origin, or a wildcard). */
int origin_in_list(char *const *patterns, size_t count, const char *origin);

/*
 * Signing a bare hash or a raw value shows the user nothing of the content: only the origins of
 * cfg->hash_origins (and local programs) may ask. HASH_SIGN_NOT_ALLOWED otherwise.
 */
gs_code origin_check_hash_signing(const agent_config *cfg, const char *origin, gs_status *st);

#endif
