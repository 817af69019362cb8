/*
 * The accredited-CA list as a model, apart from the XML reader (tsl.c): status words, lookups and
 * freeing. The agent uses only these, so it does not pull libxml2 (and ICU) into its memory.
 */
#include "trust.h"

#include <stdlib.h>
#include <time.h>

#include <openssl/x509.h>

/* Status words for JSON and the store. */
const char *gs_accreditation_word(gs_accreditation a)
{
    switch (a) {
    case GS_ACCR_ACTIVE:
        return "active";
    case GS_ACCR_ENDED:
        return "ended";
    case GS_ACCR_ANNULLED:
        return "annulled";
    default:
        return "unknown";
    }
}

/* The status as the list spells it. */
const char *gs_accreditation_ru(gs_accreditation a)
{
    switch (a) {
    case GS_ACCR_ACTIVE:
        return "Действует";
    case GS_ACCR_ENDED:
        return "Прекращена";
    case GS_ACCR_ANNULLED:
        return "Аннулирована";
    default:
        return "неизвестен";
    }
}
/* Frees one authority's fields. */
static void ca_free(gs_trust_ca *ca)
{
    free(ca->name);
    free(ca->short_name);
    free(ca->inn);
    free(ca->ogrn);
    free(ca->periods);
    for (size_t i = 0; i < ca->crl_count; i++)
        free(ca->crl_urls[i]);
    free(ca->crl_urls);
    for (size_t i = 0; i < ca->cert_count; i++)
        X509_free(ca->certs[i]);
    free(ca->certs);
}

/* Frees a list, its authorities and its X509 store. */
void gs_trust_list_free(gs_trust_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->ca_count; i++)
        ca_free(&l->cas[i]);
    free(l->cas);
    free(l->version);
    free(l->source);
    free(l->dir);
    X509_STORE_free(l->x509);
    free(l);
}

/* The status whose period covers t. */
gs_accreditation gs_trust_ca_status_at(const gs_trust_ca *ca, time_t t)
{
    for (size_t i = ca->period_count; i-- > 0;) {
        const gs_accr_period *p = &ca->periods[i];
        if (p->from <= t && (!p->to || t < p->to))
            return p->status;
    }
    return GS_ACCR_UNKNOWN;
}

/* Linear search over every authority's certificates (the list holds a few thousand). */
const gs_trust_ca *gs_trust_find_ca(const gs_trust_list *l, X509 *cert)
{
    for (size_t i = 0; l && i < l->ca_count; i++)
        for (size_t j = 0; j < l->cas[i].cert_count; j++)
            if (X509_cmp(l->cas[i].certs[j], cert) == 0)
                return &l->cas[i];
    return NULL;
}

/* For `trust status`: how many authorities are accredited. */
size_t gs_trust_active_count(const gs_trust_list *l)
{
    size_t n = 0;
    for (size_t i = 0; l && i < l->ca_count; i++)
        n += l->cas[i].status == GS_ACCR_ACTIVE;
    return n;
}

/* Age of the list by its `Дата`, in whole days (negative when dated in the future). */
long gs_trust_age_days(const gs_trust_list *l, time_t now)
{
    double d = difftime(now, l->date) / 86400.0;
    return (long)(d < 0 ? d - 0.999999 : d);
}
