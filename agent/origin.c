/*
 * Origin policy. Web origins are parsed strictly (scheme://host[:port], nothing else) and matched
 * against the allow-list; only https is accepted, except localhost when development is enabled.
 */
#include "origin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Host characters allowed in an origin (ASCII; IDN hosts arrive as punycode). */
static int host_char_ok(int c)
{
    return isalnum(c) || c == '-' || c == '.';
}

/* Checks the dot-separated labels: none empty, none starting or ending with '-'. */
static int host_labels_ok(const char *host)
{
    const char *p = host;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
            return 0;
        p += n;
        if (*p == '.' && *++p == '\0')
            return 0; /* trailing dot */
    }
    return 1;
}

/* Parses the optional ":port" suffix. */
static gs_code parse_port(const char *text, int *port, gs_status *st)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || *end != '\0' || v < 1 || v > 65535)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "invalid port in origin");
    *port = (int)v;
    return GS_ERR_OK;
}

/* Splits and validates the host[:port] part, lower-casing the host. */
static gs_code parse_authority(const char *auth, web_origin *out, gs_status *st)
{
    if (strncmp(auth, "[::1]", 5) == 0) { /* the only IPv6 literal we accept: loopback */
        strcpy(out->host, "[::1]");
        auth += 5;
        return *auth == ':'    ? parse_port(auth + 1, &out->port, st)
               : *auth == '\0' ? GS_ERR_OK
                               : gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "malformed origin");
    }
    size_t hlen = strcspn(auth, ":");
    if (hlen == 0 || hlen >= sizeof(out->host))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin has no valid host");
    for (size_t i = 0; i < hlen; i++) {
        if (!host_char_ok((unsigned char)auth[i]))
            return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin host has invalid characters");
        out->host[i] = (char)tolower((unsigned char)auth[i]);
    }
    out->host[hlen] = '\0';
    if (!host_labels_ok(out->host))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin host is malformed");
    return auth[hlen] == ':' ? parse_port(auth + hlen + 1, &out->port, st) : GS_ERR_OK;
}

gs_code origin_parse(const char *text, web_origin *out, gs_status *st)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "request has no origin");
    const char *sep = strstr(text, "://");
    size_t slen = sep ? (size_t)(sep - text) : 0;
    if (!sep || slen == 0 || slen >= sizeof(out->scheme))
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin must look like https://host");
    for (size_t i = 0; i < slen; i++)
        out->scheme[i] = (char)tolower((unsigned char)text[i]);
    if (strcmp(out->scheme, "https") != 0 && strcmp(out->scheme, "http") != 0)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "origin scheme must be https");
    return parse_authority(sep + 3, out, st);
}

/* Default port of a scheme, so "https://a" and "https://a:443" compare equal. */
static int effective_port(const web_origin *o)
{
    if (o->port)
        return o->port;
    return strcmp(o->scheme, "https") == 0 ? 443 : 80;
}

/* True for the development hosts that allow_localhost covers. */
static int is_localhost(const web_origin *o)
{
    return strcmp(o->host, "localhost") == 0 || strcmp(o->host, "127.0.0.1") == 0 ||
           strcmp(o->host, "[::1]") == 0;
}

/* Matches one allow-list pattern: exact host, or "*." + domain for any subdomain. */
static int pattern_matches(const char *pattern, const web_origin *o)
{
    char copy[300];
    const char *host_pattern = pattern;
    if (strncmp(pattern, "https://*.", 10) == 0) {
        host_pattern = pattern + 10;
        size_t dlen = strcspn(host_pattern, ":"), hlen = strlen(o->host);
        if (strcmp(o->scheme, "https") != 0 || hlen <= dlen + 1 || o->host[hlen - dlen - 1] != '.')
            return 0;
        if (strncasecmp(o->host + hlen - dlen, host_pattern, dlen) != 0)
            return 0;
        /* Compare ports by parsing the pattern with a concrete host in place of the star. */
        snprintf(copy, sizeof(copy), "https://x.%s", host_pattern);
    } else {
        snprintf(copy, sizeof(copy), "%s", pattern);
    }
    web_origin p;
    if (origin_parse(copy, &p, NULL) != GS_ERR_OK)
        return 0;
    if (strcmp(p.scheme, o->scheme) != 0 || effective_port(&p) != effective_port(o))
        return 0;
    return host_pattern != pattern || strcmp(p.host, o->host) == 0;
}

gs_code origin_check(const agent_config *cfg, const char *origin, gs_status *st)
{
    web_origin o;
    gs_code rc = origin_parse(origin, &o, st);
    if (rc != GS_ERR_OK)
        return rc;
    if (is_localhost(&o))
        return cfg->allow_localhost ? GS_ERR_OK
                                    : gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED,
                                              "localhost is allowed only in development mode");
    if (strcmp(o.scheme, "https") != 0)
        return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "only https sites may request signatures");
    for (size_t i = 0; i < cfg->origin_count; i++)
        if (pattern_matches(cfg->origins[i], &o))
            return GS_ERR_OK;
    return gs_fail(st, GS_ERR_ORIGIN_NOT_ALLOWED, "%s is not in the allow-list", o.host);
}

int origin_in_list(char *const *patterns, size_t count, const char *origin)
{
    web_origin o;
    if (!origin || origin_parse(origin, &o, NULL) != GS_ERR_OK)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (pattern_matches(patterns[i], &o))
            return 1;
    return 0;
}

gs_code origin_check_hash_signing(const agent_config *cfg, const char *origin, gs_status *st)
{
    if (origin && strncmp(origin, "local:", 6) == 0)
        return GS_ERR_OK; /* the user's own programs */
    if (origin_in_list(cfg->hash_origins, cfg->hash_origin_count, origin))
        return GS_ERR_OK;
    return gs_fail(st, GS_ERR_HASH_SIGN_NOT_ALLOWED, "%.200s is not in hash_sign_origins",
                   origin ? origin : "(none)");
}
