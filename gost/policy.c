/* Relying-party policy checks on a verified signer: identity numbers, class, signing time. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Class names in Latin and Cyrillic spelling, with their certificatePolicies OIDs. */
static const struct {
    gs_protection_class cls;
    const char *latin, *cyrillic, *oid;
} classes[] = {
    { GS_CLASS_KC1, "KC1", "КС1", "1.2.643.100.113.1" },
    { GS_CLASS_KC2, "KC2", "КС2", "1.2.643.100.113.2" },
    { GS_CLASS_KC3, "KC3", "КС3", "1.2.643.100.113.3" },
    { GS_CLASS_KB1, "KB1", "КВ1", "1.2.643.100.113.4" },
    { GS_CLASS_KB2, "KB2", "КВ2", "1.2.643.100.113.5" },
    { GS_CLASS_KA1, "KA1", "КА1", "1.2.643.100.113.6" },
};
#define CLASS_COUNT (sizeof(classes) / sizeof(classes[0]))

/* Accepts the names a relying party would write in its configuration. */
gs_protection_class gs_protection_class_parse(const char *name)
{
    if (!name)
        return GS_CLASS_NONE;
    for (size_t i = 0; i < CLASS_COUNT; i++)
        if (strcasecmp(name, classes[i].latin) == 0 || strcmp(name, classes[i].cyrillic) == 0 ||
            strcmp(name, classes[i].oid) == 0)
            return classes[i].cls;
    return GS_CLASS_NONE;
}

/* Latin name for messages and JSON. */
const char *gs_protection_class_name(gs_protection_class c)
{
    for (size_t i = 0; i < CLASS_COUNT; i++)
        if (classes[i].cls == c)
            return classes[i].latin;
    return "";
}

/* The strongest class among the certificate's policy OIDs. */
gs_protection_class gs_cert_protection_class(const gs_cert *cert)
{
    gs_protection_class best = GS_CLASS_NONE;
    for (size_t p = 0; p < cert->policy_count; p++)
        for (size_t i = 0; i < CLASS_COUNT; i++)
            if (strcmp(cert->policies[p], classes[i].oid) == 0 && classes[i].cls > best)
                best = classes[i].cls;
    return best;
}

/* Nothing required, skew not checked. */
void gs_policy_init(gs_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->max_skew_seconds = -1;
}

/* True when no check is configured. */
int gs_policy_is_empty(const gs_policy *p)
{
    return !p->require_inn && !p->require_innle && !p->require_ogrn &&
           p->require_class == GS_CLASS_NONE && p->max_skew_seconds < 0;
}

/* One required number against the certificate's value (absent counts as a mismatch). */
static gs_code match_number(const char *label, const char *want, const char *have, gs_status *st)
{
    if (!want || (have && strcmp(want, have) == 0))
        return GS_ERR_OK;
    return gs_fail(st, GS_ERR_POLICY_ID_MISMATCH, "required %s %s, the certificate has %s", label,
                   want, have ? have : "none");
}

/* INN, INNLE, then OGRN (an entrepreneur's OGRNIP also satisfies a required OGRN). */
static gs_code check_identity(const gs_policy *p, const gs_cert *cert, gs_status *st)
{
    gs_code rc = match_number("INN", p->require_inn, cert->subject.inn, st);
    if (rc == GS_ERR_OK)
        rc = match_number("INNLE", p->require_innle, cert->subject.innle, st);
    if (rc == GS_ERR_OK && p->require_ogrn && cert->subject.ogrnip && !cert->subject.ogrn)
        rc = match_number("OGRNIP", p->require_ogrn, cert->subject.ogrnip, st);
    else if (rc == GS_ERR_OK)
        rc = match_number("OGRN", p->require_ogrn, cert->subject.ogrn, st);
    return rc;
}

/* The certificate's stated class must reach the required one. */
static gs_code check_class(const gs_policy *p, const gs_cert *cert, gs_status *st)
{
    if (p->require_class == GS_CLASS_NONE)
        return GS_ERR_OK;
    gs_protection_class have = gs_cert_protection_class(cert);
    if (have >= p->require_class)
        return GS_ERR_OK;
    return gs_fail(st, GS_ERR_POLICY_CLASS_MISSING, "required class %s, the certificate states %s",
                   gs_protection_class_name(p->require_class),
                   have ? gs_protection_class_name(have) : "none");
}

/* |signing time - now| within the window; a missing signingTime fails. */
static gs_code check_skew(const gs_policy *p, time_t signing_time, int has_signing_time,
                          gs_status *st)
{
    if (p->max_skew_seconds < 0)
        return GS_ERR_OK;
    if (!has_signing_time)
        return gs_fail(st, GS_ERR_SIGNING_TIME_SKEW, "the signature states no signingTime");
    time_t now = p->now ? p->now : time(NULL);
    long long diff = (long long)signing_time - (long long)now;
    if (diff < 0)
        diff = -diff;
    if (diff <= p->max_skew_seconds)
        return GS_ERR_OK;
    return gs_fail(st, GS_ERR_SIGNING_TIME_SKEW, "signed %lld s %s now; at most %ld s allowed",
                   diff, signing_time < now ? "before" : "after", p->max_skew_seconds);
}

/* Entry point: identity, class, time. */
gs_code gs_policy_check(const gs_policy *p, const gs_cert *cert, time_t signing_time,
                        int has_signing_time, gs_status *st)
{
    gs_code rc = check_identity(p, cert, st);
    if (rc == GS_ERR_OK)
        rc = check_class(p, cert, st);
    if (rc == GS_ERR_OK)
        rc = check_skew(p, signing_time, has_signing_time, st);
    return rc;
}
