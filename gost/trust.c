/*
 * The honest "qualified" verdict of a certificate: the chain through the certificates of the
 * accredited-CA list, the issuing authority's accreditation at the certificate's issue time and
 * at the time of use, the fields of a qualified certificate, and its own validity. Also the
 * process-wide default store that the agent and the JSON model share.
 */
#include "trust.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;

/* Words for status.chain. */
const char *gs_chain_word(gs_chain_state c)
{
    switch (c) {
    case GS_CHAIN_ACCREDITED:
        return "accredited";
    case GS_CHAIN_NOT_ACCREDITED:
        return "not_accredited";
    case GS_CHAIN_ENDED:
        return "ended";
    case GS_CHAIN_ANNULLED:
        return "annulled";
    default:
        return "not_checked";
    }
}

/* Appends a field name to the list of missing ones. */
static void add_missing(char *out, size_t cap, const char *name)
{
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
}

/* Whether a KC class policy (1.2.643.100.113.x) is among the certificate policies. */
static int has_class_policy(const gs_cert *cert)
{
    for (size_t i = 0; i < cert->policy_count; i++)
        if (strncmp(cert->policies[i], "1.2.643.100.113.", 16) == 0)
            return 1;
    return 0;
}

/* The qualified-certificate fields that are absent (see trust.h). */
int gs_cert_missing_qualified_fields(const gs_cert *cert, char *missing, size_t cap)
{
    int n = 0;
    missing[0] = '\0';
    const gs_name *s = &cert->subject;
    struct {
        int absent;
        const char *name;
    } checks[] = {
        { cert->key_bits == 0 || cert->is_gost2001, "GOST R 34.10-2012 key" },
        { cert->subject_sign_tool == NULL, "subjectSignTool" },
        { cert->issuer_tool_count == 0, "issuerSignTool" },
        { !has_class_policy(cert), "certificatePolicies KC" },
        { !s->snils && !(s->ogrn && s->innle) && !s->ogrnip, "SNILS or OGRN+INNLE" },
    };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (checks[i].absent) {
            add_missing(missing, cap, checks[i].name);
            n++;
        }
    return n;
}

/* The X509 store of every certificate of the list, built once (callers hold trust_lock). */
static X509_STORE *list_store(gs_trust_list *l)
{
    if (l->x509)
        return l->x509;
    X509_STORE *s = X509_STORE_new();
    for (size_t i = 0; s && i < l->ca_count; i++)
        for (size_t j = 0; j < l->cas[i].cert_count; j++)
            X509_STORE_add_cert(s, l->cas[i].certs[j]);
    if (s)
        X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
    ERR_clear_error();
    l->x509 = s;
    return s;
}

/* The certificate that issued `x` through the list (x itself for a listed root); new ref. */
static X509 *issuer_in_list(gs_trust_list *l, X509 *x, char *err, size_t cap)
{
    pthread_mutex_lock(&trust_lock);
    X509_STORE *store = list_store(l);
    pthread_mutex_unlock(&trust_lock);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *issuer = NULL;
    if (store && ctx && X509_STORE_CTX_init(ctx, store, x, NULL) && X509_verify_cert(ctx) == 1) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        issuer = sk_X509_value(chain, sk_X509_num(chain) > 1 ? 1 : 0);
        if (issuer && !X509_up_ref(issuer))
            issuer = NULL;
    } else {
        snprintf(err, cap, "%s",
                 ctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) : "no memory");
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return issuer;
}

X509 *gs_trust_issuer_of(gs_trust_list *l, X509 *x)
{
    char err[128];
    return l && x ? issuer_in_list(l, x, err, sizeof(err)) : NULL;
}

/* A date for details, "2024-01-01", in Moscow time as the list gives its dates. */
static void day_text(time_t t, char *out, size_t cap)
{
    struct tm tm;
    time_t msk = t + 3 * 3600;
    if (!t || !gmtime_r(&msk, &tm) || !strftime(out, cap, "%Y-%m-%d", &tm))
        snprintf(out, cap, "?");
}

/* The chain state for an accreditation that is not in force. */
static gs_chain_state lapsed_state(gs_accreditation a)
{
    return a == GS_ACCR_ANNULLED ? GS_CHAIN_ANNULLED
           : a == GS_ACCR_ENDED  ? GS_CHAIN_ENDED
                                 : GS_CHAIN_NOT_ACCREDITED;
}

/* The authority's accreditation at issue time and at `at`. */
static void judge_accreditation(const gs_trust_ca *ca, const gs_cert *cert, time_t at,
                                gs_trust_verdict *v)
{
    gs_accreditation issued = gs_trust_ca_status_at(ca, cert->not_before);
    gs_accreditation used = gs_trust_ca_status_at(ca, at);
    char since[16], nb[16];
    day_text(ca->status_since, since, sizeof(since));
    day_text(cert->not_before, nb, sizeof(nb));
    const char *who = ca->short_name ? ca->short_name : ca->name ? ca->name : "?";
    if (issued == GS_ACCR_ACTIVE && used == GS_ACCR_ACTIVE) {
        v->chain = GS_CHAIN_ACCREDITED;
        return;
    }
    gs_accreditation bad = issued != GS_ACCR_ACTIVE && issued != GS_ACCR_UNKNOWN ? issued
                           : used != GS_ACCR_ACTIVE                              ? used
                                                                                 : ca->status;
    v->chain = lapsed_state(bad);
    v->code = v->chain == GS_CHAIN_NOT_ACCREDITED ? GS_ERR_CA_NOT_ACCREDITED
                                                  : GS_ERR_CA_ACCREDITATION_ENDED;
    snprintf(v->detail, sizeof(v->detail),
             "%s: accreditation %s since %s; the certificate was issued on %s", who,
             gs_accreditation_ru(ca->status), since, nb);
}

/* The verdict (see trust.h). */
void gs_trust_assess(gs_trust_list *l, const gs_cert *cert, time_t at, gs_trust_verdict *v)
{
    memset(v, 0, sizeof(*v));
    if (!l) {
        v->code = GS_ERR_TRUST_STORE_MISSING;
        snprintf(v->detail, sizeof(v->detail),
                 "no accredited-CA store: run `gostsign trust update`");
        return;
    }
    char err[160] = "";
    X509 *issuer = issuer_in_list(l, cert->x509, err, sizeof(err));
    v->ca = issuer ? gs_trust_find_ca(l, issuer) : NULL;
    X509_free(issuer);
    if (!v->ca) {
        v->chain = GS_CHAIN_NOT_ACCREDITED;
        v->code = GS_ERR_CA_NOT_ACCREDITED;
        snprintf(v->detail, sizeof(v->detail),
                 "issuer \"%s\" is not in the list of accredited CAs (%s)",
                 cert->issuer.cn ? cert->issuer.cn : "?", err[0] ? err : "not found");
        return;
    }
    judge_accreditation(v->ca, cert, at, v);
    if (v->chain != GS_CHAIN_ACCREDITED)
        return;
    if (gs_cert_missing_qualified_fields(cert, v->missing, sizeof(v->missing)) > 0) {
        v->code = GS_ERR_CERT_NOT_QUALIFIED;
        snprintf(v->detail, sizeof(v->detail), "missing: %s", v->missing);
        return;
    }
    gs_code problem = GS_ERR_OK;
    if (gs_cert_problems(cert, at, &problem, 1) > 0) {
        v->code = problem;
        snprintf(v->detail, sizeof(v->detail), "%s", gs_error_lookup(problem)->message_en);
        return;
    }
    v->qualified = 1;
}

/* Revocation found by the caller (CRL or OCSP) overrides a qualified verdict. */
void gs_trust_verdict_revoked(gs_trust_verdict *v, const char *detail)
{
    v->qualified = 0;
    v->code = GS_ERR_CERT_REVOKED;
    snprintf(v->detail, sizeof(v->detail), "%s", detail ? detail : "revoked");
}

/* The Russian reason, in the words users meet in other software. */
const char *gs_trust_verdict_ru(const gs_trust_verdict *v)
{
    if (v->qualified)
        return "квалифицированный сертификат аккредитованного УЦ";
    switch (v->code) {
    case GS_ERR_TRUST_STORE_MISSING:
        return "не проверено: нет списка аккредитованных УЦ (`gostsign trust update`)";
    case GS_ERR_CA_NOT_ACCREDITED:
        return "цепочка не доходит до аккредитованного УЦ";
    case GS_ERR_CA_ACCREDITATION_ENDED:
        return v->chain == GS_CHAIN_ANNULLED ? "аккредитация УЦ аннулирована"
                                             : "аккредитация УЦ прекращена";
    case GS_ERR_CERT_REVOKED:
        return "сертификат отозван";
    case GS_ERR_CERT_NOT_QUALIFIED:
        return "нет полей квалифицированного сертификата";
    default:
        return gs_error_lookup(v->code)->message_ru;
    }
}

/* The English reason. */
const char *gs_trust_verdict_en(const gs_trust_verdict *v)
{
    if (v->qualified)
        return "qualified certificate of an accredited CA";
    if (v->code == GS_ERR_CA_ACCREDITATION_ENDED && v->chain == GS_CHAIN_ANNULLED)
        return "the CA's accreditation was annulled";
    return gs_error_lookup(v->code)->message_en;
}

/* ---------------------------------------------------------------- the process-wide store */

static gs_trust_list *cached_list;
static char cached_key[2 * PATH_MAX + 2];

/* What `current` points to in the user's and the system's store: changes on every update. */
static void current_key(char *out, size_t cap)
{
    char root[PATH_MAX], path[PATH_MAX + 16], link[2][512] = { "", "" };
    for (int system = 0; system < 2; system++) {
        if (gs_trust_root(system, root, sizeof(root)) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/current", root);
        ssize_t n = readlink(path, link[system], sizeof(link[system]) - 1);
        link[system][n > 0 ? n : 0] = '\0';
    }
    snprintf(out, cap, "%s|%s", link[0], link[1]);
}

/* Drops one reference; the last one frees. Callers hold trust_lock. */
static void unref_locked(gs_trust_list *l)
{
    if (l && --l->refs <= 0)
        gs_trust_list_free(l);
}

/* The default store, reloaded when an update switched `current` (see trust.h). */
gs_trust_list *gs_trust_acquire_default(void)
{
    char key[sizeof(cached_key)];
    current_key(key, sizeof(key));
    pthread_mutex_lock(&trust_lock);
    if (!cached_list || strcmp(key, cached_key) != 0) {
        gs_status st;
        gs_trust_list *fresh = strcmp(key, "|") == 0 ? NULL : gs_trust_load_default(&st);
        unref_locked(cached_list);
        cached_list = fresh;
        if (fresh)
            fresh->refs = 1;
        snprintf(cached_key, sizeof(cached_key), "%s", key);
    }
    gs_trust_list *l = cached_list;
    if (l)
        l->refs++;
    pthread_mutex_unlock(&trust_lock);
    return l;
}

/* Gives back a reference from gs_trust_acquire_default. */
void gs_trust_release(gs_trust_list *l)
{
    pthread_mutex_lock(&trust_lock);
    unref_locked(l);
    pthread_mutex_unlock(&trust_lock);
}
