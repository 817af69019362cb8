/*
 * Doctor layer 7: the certificates on the tokens: a private key next to each, validity and days
 * left (warnings under 30 and under 7 days, naming the CA to renew with), GOST-2001 refused, the
 * chain to the trust directory (--ca-dir) or, without it, the qualified verdict against the
 * accredited-CA store, and, when the certificate names a CRL or OCSP source, its revocation
 * status. INN/OGRN are shown. The store and the clock are checked in doctor_clock.c.
 */
#include "doctor_pkcs11.h"
#include "gost.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509_vfy.h>

#define DAYS_WARN   30
#define DAYS_URGENT 7

/* Owner fields admins compare with their records. */
static void add_owner_evidence(doctor_check *c, const gs_cert *cert, const p11_cert *pc,
                               const p11_token *t)
{
    doctor_ev_str(c, "subject_cn", cert->subject.cn);
    doctor_ev_str(c, "organisation", cert->subject.o);
    doctor_ev_str(c, "inn", cert->subject.inn);
    doctor_ev_str(c, "innle", cert->subject.innle);
    doctor_ev_str(c, "ogrn", cert->subject.ogrn);
    doctor_ev_str(c, "ogrnip", cert->subject.ogrnip);
    doctor_ev_str(c, "issuer_cn", cert->issuer.cn);
    doctor_ev_str(c, "serial", cert->serial_hex);
    doctor_ev_str(c, "sha1", cert->sha1_thumbprint);
    doctor_ev_int(c, "key_bits", cert->key_bits);
    doctor_ev_bool(c, "gost2001", cert->is_gost2001);
    doctor_ev_bool(c, "has_private_key", pc->has_private_key);
    doctor_ev_str(c, "token", t ? t->label : NULL);
    doctor_ev_str(c, "label", pc->label);
    char when[32];
    struct tm tm;
    gmtime_r(&cert->not_after, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    doctor_ev_str(c, "not_after", when);
}

/* The CA to renew with: the authority as the accredited list names it, else the issuer. */
static void renew_with_text(const gs_cert *cert, const gs_trust_verdict *v, char *out, size_t cap)
{
    const gs_trust_ca *ca = v->ca;
    const char *issuer = cert->issuer.o ? cert->issuer.o : cert->issuer.cn;
    if (ca)
        snprintf(out, cap, "%s (ИНН %s)",
                 ca->name         ? ca->name
                 : ca->short_name ? ca->short_name
                                  : "?",
                 ca->inn ? ca->inn : "—");
    else
        snprintf(out, cap, "%s", issuer ? issuer : "the issuing certification centre");
}

/* Under 30 days: a warning naming the CA; under 7 days the same, said louder. */
static void warn_expiry(doctor_check *c, const gs_cert *cert, long days, const char *who,
                        const char *renew_with)
{
    (void)cert;
    if (!c)
        return;
    c->status = DOCTOR_WARN;
    c->code = GS_ERR_CERT_EXPIRES_SOON;
    doctor_ev_str(c, "renew_with", renew_with);
    doctor_ev_str(c, "expiry_warning", days < DAYS_URGENT ? "7_days" : "30_days");
    if (days < DAYS_URGENT)
        doctor_say(c, "%s: expires in %ld day(s) — renew now",
                   "%s: истекает через %ld дн. — "
                   "продлите немедленно",
                   who, days);
    else
        doctor_say(c, "%s: expires in %ld day(s)", "%s: истекает через %ld дн.", who, days);
    doctor_fix(c, "Order a new certificate from %s before it expires.",
               "Закажите новый сертификат в %s до окончания срока.", renew_with);
}

/* The first blocking problem (GOST-2001, other algorithm, time) as status and texts. */
static void judge_validity(doctor_check *c, const gs_cert *cert, const p11_cert *pc, time_t now,
                           const char *who, const char *renew_with)
{
    gs_code problems[8];
    size_t n = gs_cert_problems(cert, now, problems, 8);
    long days = gs_cert_days_left(cert, now);
    doctor_ev_int(c, "days_left", days);
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(list, json_object_new_string(gs_error_lookup(problems[i])->name));
    doctor_ev_obj(c, "problems", list);
    if (n > 0) {
        const gs_error_info *e = gs_error_lookup(problems[0]);
        c->status = DOCTOR_FAIL;
        c->code = e->code;
        doctor_say(c, "%s: %s", "%s: %s", who, e->message_en);
        snprintf(c->message_ru, sizeof(c->message_ru), "%s: %s", who, e->message_ru);
        if (problems[0] == GS_ERR_CERT_EXPIRED)
            doctor_fix(c,
                       "Check the computer's date and time (`timedatectl`); if they are right, "
                       "order a new qualified certificate from %s.",
                       "Проверьте дату и время компьютера (`timedatectl`); если они верны, "
                       "закажите новый сертификат в %s.",
                       renew_with);
        else
            doctor_fix(c, "%s%.0s", "%.0s%s", e->fix, e->fix_ru);
        return;
    }
    if (!pc->has_private_key) {
        /* the key is usually in a PKCS#12 file or a CryptoPro container: the fix says which */
        const gs_error_info *e = gs_error_lookup(GS_ERR_KEY_ELSEWHERE);
        c->status = DOCTOR_WARN;
        c->code = e->code;
        doctor_say(c, "%s: no private key on the token for this certificate",
                   "%s: на токене нет закрытого ключа для этого сертификата", who);
        doctor_fix(c, "%s%.0s", "%.0s%s", e->fix, e->fix_ru);
        return;
    }
    if (days < DAYS_WARN) {
        warn_expiry(c, cert, days, who, renew_with);
        return;
    }
    doctor_say(c, "%s: valid, %ld day(s) left", "%s: действует, осталось %ld дн.", who, days);
}

/* Loads the trust directory into a store (hashed links, as `openssl rehash` makes). */
static X509_STORE *trust_store(const char *dir)
{
    X509_STORE *store = X509_STORE_new();
    X509_LOOKUP *lk = store ? X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir()) : NULL;
    if (!lk || !X509_LOOKUP_add_dir(lk, dir, X509_FILETYPE_PEM)) {
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

/* Verifies the chain; on success returns the issuer (new reference) for the revocation check. */
static int verify_chain(X509_STORE *store, X509 *x, X509 **issuer, char *err, size_t cap)
{
    X509_STORE_CTX *vc = X509_STORE_CTX_new();
    int ok = vc && X509_STORE_CTX_init(vc, store, x, NULL) && X509_verify_cert(vc) == 1;
    *issuer = NULL;
    if (ok) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(vc);
        X509 *up = sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : sk_X509_value(chain, 0);
        if (up && X509_up_ref(up))
            *issuer = up;
    } else {
        snprintf(err, cap, "%s",
                 vc ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)) : "no memory");
    }
    X509_STORE_CTX_free(vc);
    return ok;
}

/* Revocation through the sources the certificate names; NULL sources: not checked. */
static void check_revocation(doctor_check *c, const gs_cert *cert, X509 *issuer, const char *who)
{
    char *crl = gs_cert_crl_url(cert->x509), *ocsp = gs_cert_ocsp_url(cert->x509);
    if (!crl && !ocsp) {
        doctor_ev_str(c, "revocation", "not_checked");
        return;
    }
    gs_revocation_opts o;
    gs_revocation_opts_init(&o);
    o.use_crl_dp = crl != NULL;
    o.use_ocsp = ocsp != NULL;
    o.timeout_seconds = 5;
    gs_revocation_result r;
    gs_status st;
    gs_code rc = gs_revocation_check(cert->x509, issuer, &o, &r, &st);
    doctor_ev_str(c, "revocation_crl", gs_revocation_word(&r.crl));
    doctor_ev_str(c, "revocation_ocsp", gs_revocation_word(&r.ocsp));
    free(crl);
    free(ocsp);
    if (rc == GS_ERR_OK || c->status == DOCTOR_FAIL)
        return;
    const gs_error_info *e = gs_error_lookup(rc);
    int revoked = rc == GS_ERR_CERT_REVOKED;
    c->status = revoked ? DOCTOR_FAIL : DOCTOR_WARN;
    c->code = rc;
    doctor_say(c, "%s: %s", "%s: %s", who, e->message_en);
    snprintf(c->message_ru, sizeof(c->message_ru), "%s: %s", who, e->message_ru);
    doctor_fix(c, "%s%.0s", "%.0s%s", e->fix, e->fix_ru);
}

/* Without --ca-dir: the qualified verdict against the store; not qualified is a warning. */
static void check_qualified(doctor_check *c, const gs_trust_verdict *v, const char *who)
{
    doctor_ev_str(c, "chain", gs_chain_word(v->chain));
    doctor_ev_bool(c, "qualified", v->qualified);
    if (v->qualified || v->code == GS_ERR_TRUST_STORE_MISSING || !c || c->status != DOCTOR_OK)
        return;
    const gs_error_info *e = gs_error_lookup(v->code);
    c->status = DOCTOR_WARN;
    c->code = v->code;
    doctor_say(c, "%s: not a qualified certificate: %s%.0s",
               "%s: не квалифицированный сертификат: %.0s%s", who, gs_trust_verdict_en(v),
               gs_trust_verdict_ru(v));
    doctor_ev_str(c, "qualified_detail", v->detail);
    doctor_fix(c, "%s", "%s", e->fix);
}

/* The chain to the trust directory; an untrusted chain fails the certificate. */
static void check_chain(doctor_ctx *ctx, doctor_check *c, X509_STORE *store, const gs_cert *cert,
                        const char *who)
{
    if (!store)
        return;
    X509 *issuer = NULL;
    char err[256] = "";
    if (!verify_chain(store, cert->x509, &issuer, err, sizeof(err))) {
        doctor_ev_str(c, "chain", "untrusted");
        doctor_ev_str(c, "chain_error", err);
        if (c->status != DOCTOR_FAIL) {
            c->status = DOCTOR_FAIL;
            c->code = GS_ERR_CERT_UNTRUSTED;
            doctor_say(c, "%s: the chain to %s is not trusted (%s)",
                       "%s: цепочка до %s не доверена%.0s (подробности — в evidence.chain_error, "
                       "--json)",
                       who, ctx->opts.ca_dir, err);
            doctor_fix(c,
                       "Put the certification centre's root and intermediate certificates into %s "
                       "and run `openssl rehash %s`.",
                       "Положите корневой и промежуточные сертификаты УЦ в %s и выполните `openssl "
                       "rehash %s`.",
                       ctx->opts.ca_dir, ctx->opts.ca_dir);
        }
        return;
    }
    doctor_ev_str(c, "chain", "trusted");
    check_revocation(c, cert, issuer, who);
    X509_free(issuer);
}

/* One certificate: identity, validity, key, chain. CA certificates are listed but not judged. */
static void check_cert(doctor_ctx *ctx, X509_STORE *store, gs_trust_list *l, const p11_cert *pc,
                       const p11_token *t, time_t now, time_t *earliest)
{
    gs_status st;
    gs_cert *cert = gs_cert_parse(pc->der, pc->der_len, &st);
    doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.certificate",
                                 DOCTOR_OK, GS_ERR_OK);
    if (!cert) {
        if (c) {
            c->status = DOCTOR_WARN;
            c->code = GS_ERR_CERT_PARSE;
        }
        doctor_say(c, "Certificate \"%s\" on the token cannot be parsed",
                   "Сертификат «%s» на токене не разбирается", pc->label);
        doctor_fix(c,
                   "Write the certificate to the token again from the certification centre's file.",
                   "Запишите сертификат на токен заново из файла удостоверяющего центра.");
        return;
    }
    char *who = gs_cert_owner_summary(cert);
    add_owner_evidence(c, cert, pc, t);
    if (cert->is_ca) {
        if (c)
            c->status = DOCTOR_SKIP;
        doctor_say(c, "%s: a CA certificate (not used for signing)",
                   "%s: сертификат УЦ (для подписи не используется)", who ? who : "?");
    } else {
        gs_trust_verdict v;
        char renew[300];
        gs_trust_assess(l, cert, now, &v);
        renew_with_text(cert, &v, renew, sizeof(renew));
        judge_validity(c, cert, pc, now, who ? who : "?", renew);
        if (!store)
            check_qualified(c, &v, who ? who : "?");
        check_chain(ctx, c, store, cert, who ? who : "?");
        if (!*earliest || cert->not_before < *earliest)
            *earliest = cert->not_before;
    }
    free(who);
    gs_cert_free(cert);
}

/* The certificates of the tokens, then the clock against them (see doctor_clock.c). */
static void check_token_certs(doctor_ctx *ctx, p11_client *client, const p11_token *tokens,
                              size_t count, gs_trust_list *l, time_t now, time_t *earliest)
{
    p11_cert *certs = NULL;
    size_t n = 0;
    gs_status st;
    if (!client || count == 0) {
        doctor_check *c =
            doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.none", DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(c, "No token, so no certificates to check",
                   "Нет токена, проверять сертификаты не на чем");
        return;
    }
    if (p11_client_certificates(client, tokens, count, &certs, &n, &st) != GS_ERR_OK)
        n = 0;
    if (n == 0) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.none",
                                     DOCTOR_FAIL, GS_ERR_CERT_NOT_FOUND);
        doctor_say(c, "The tokens hold no certificate", "На токенах нет сертификатов");
        doctor_fix(c,
                   "Write your qualified certificate to the token (the certification centre does "
                   "it when issuing).",
                   "Запишите квалифицированный сертификат на токен (это делает удостоверяющий "
                   "центр при выдаче).");
        return;
    }
    X509_STORE *store = ctx->opts.ca_dir ? trust_store(ctx->opts.ca_dir) : NULL;
    if (!ctx->opts.ca_dir && !l) {
        doctor_check *c = doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.chain",
                                     DOCTOR_SKIP, GS_ERR_OK);
        doctor_say(c, "Chain not checked: no accredited-CA store and no trust directory (--ca-dir)",
                   "Цепочка не проверялась: нет списка аккредитованных УЦ и каталога (--ca-dir)");
    }
    for (size_t i = 0; i < n; i++)
        check_cert(ctx, store, l, &certs[i],
                   certs[i].token_index < count ? &tokens[certs[i].token_index] : NULL, now,
                   earliest);
    X509_STORE_free(store);
    p11_certs_free(certs, n);
}

void doctor_layer_certs(doctor_ctx *ctx, p11_client *client, const p11_token *tokens, size_t count)
{
    gs_trust_list *l = gs_trust_acquire_default();
    time_t now = time(NULL), earliest = 0;
    doctor_check_trust_list(ctx, l, now);
    check_token_certs(ctx, client, tokens, count, l, now, &earliest);
    doctor_check_clock(ctx, l, now, earliest);
    gs_trust_release(l);
}
