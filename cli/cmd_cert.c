/*
 * `gostsign cert show`: a qualified certificate as a person checks it before signing (owner,
 * organisation, INN/OGRN/SNILS, validity, key, signing tools, thumbprints), or as JSON.
 */
#include "agent.h"
#include "cli.h"
#include "gost.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CERT_USAGE                                                                                 \
    "gostsign cert show [--json] [--check] CERT|-\n"                                               \
    "       gostsign cert show --chain [--ca-dir DIR] [--crl FILE] [--online] [--timeout S] CERT"
#define LABEL_COLUMNS 34
#define MAX_PROBLEMS  4

/* Help text for `gostsign cert --help` and `gostsign cert show --help`. */
static void print_cert_help(void)
{
    printf("usage: %s\n\n"
           "Shows an X.509 certificate (PEM or DER; '-' reads standard input) the way a\n"
           "qualified certificate is checked: owner, organisation, INN/INNLE/OGRN/SNILS,\n"
           "validity, key algorithm and parameter set, usages, signing tools, thumbprints.\n\n"
           "  --json    print the certificate model as JSON\n"
           "  --check   exit with the error number of the first problem (expired, not yet\n"
           "            valid, GOST R 34.10-2001 key) instead of 0\n"
           "  --chain   show the chain to a root of --ca-dir, or of the accredited-CA store\n"
           "            (`gostsign trust update`) without it, and each link's status (valid,\n"
           "            expired, not trusted, revoked, revocation unknown), then whether the\n"
           "            certificate is qualified; exit status is the first problem's number\n"
           "  --crl FILE  CRL for the links it was issued for; --online asks OCSP and the\n"
           "            CRL distribution points (--timeout S per request)\n",
           CERT_USAGE);
}

/* Number of terminal columns a UTF-8 string takes (one per code point; enough for labels). */
static size_t utf8_columns(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* "  Label:        value", skipped when the value is absent. */
static void print_row(const char *label, const char *value)
{
    if (!value || !*value)
        return;
    size_t used = utf8_columns(label) + 3;
    printf("  %s:", label);
    for (size_t i = used; i < LABEL_COLUMNS; i++)
        putchar(' ');
    printf(" %s\n", value);
}

/* Appends "sep item" to a growing malloc'd list; keeps the old list on allocation failure. */
static char *list_append(char *list, const char *sep, const char *item)
{
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", list ? list : "", list ? sep : "", item) < 0)
        return list;
    free(list);
    return joined;
}

/* The postal address parts of a name on one line. */
static char *address_line(const gs_name *n)
{
    const char *parts[] = { n->street, n->l, n->st, n->c };
    char *line = NULL;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (parts[i])
            line = list_append(line, ", ", parts[i]);
    return line;
}

/* Owner block: the person, their organisation and the identifiers a relying party checks. */
static void print_subject(const gs_name *n)
{
    printf("%s\n", cli_text("Владелец сертификата", "Certificate owner"));
    print_row(cli_text("Владелец", "Owner"), n->cn);
    print_row(cli_text("Фамилия", "Surname"), n->sn);
    print_row(cli_text("Имя и отчество", "Given names"), n->g);
    print_row(cli_text("Должность", "Title"), n->t);
    print_row(cli_text("Организация", "Organisation"), n->o);
    print_row(cli_text("Подразделение", "Department"), n->ou);
    print_row(cli_text("ИНН", "INN"), n->inn);
    print_row(cli_text("ИНН ЮЛ", "INNLE"), n->innle);
    print_row(cli_text("ОГРН", "OGRN"), n->ogrn);
    print_row(cli_text("ОГРНИП", "OGRNIP"), n->ogrnip);
    print_row(cli_text("СНИЛС", "SNILS"), n->snils);
    print_row(cli_text("Эл. почта", "E-mail"), n->e);
    char *addr = address_line(n);
    print_row(cli_text("Адрес", "Address"), addr);
    free(addr);
}

/* Issuer block: who vouches for the owner. */
static void print_issuer(const gs_name *n)
{
    printf("%s\n", cli_text("Издатель (удостоверяющий центр)", "Issuer (certification authority)"));
    print_row(cli_text("Название", "Name"), n->cn);
    print_row(cli_text("Организация", "Organisation"), n->o);
    print_row(cli_text("ИНН ЮЛ", "INNLE"), n->innle);
    print_row(cli_text("ИНН", "INN"), n->inn);
    print_row(cli_text("ОГРН", "OGRN"), n->ogrn);
}

/* A time as "YYYY-MM-DD HH:MM:SS UTC". */
static void format_time(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)t);
}

/* Validity with the flag a user must not miss. */
static void print_validity(const gs_cert *cert, time_t now)
{
    char from[48], to[48], line[128];
    format_time(cert->not_before, from, sizeof(from));
    format_time(cert->not_after, to, sizeof(to));
    if (now < cert->not_before)
        snprintf(line, sizeof(line), cli_text("%s (ещё не действует)", "%s (not yet valid)"), from);
    else
        snprintf(line, sizeof(line), "%s", from);
    print_row(cli_text("Действует с", "Valid from"), line);
    if (now > cert->not_after)
        snprintf(line, sizeof(line), cli_text("%s (истёк)", "%s (expired)"), to);
    else
        snprintf(line, sizeof(line), cli_text("%s (осталось дней: %ld)", "%s (%ld days left)"), to,
                 gs_cert_days_left(cert, now));
    print_row(cli_text("Действует по", "Valid to"), line);
}

/* Key algorithm, size and parameter set; a GOST-2001 key is called out. */
static void print_key(const gs_cert *cert)
{
    char line[192];
    if (cert->is_gost2001)
        snprintf(line, sizeof(line), "%s",
                 cli_text("ГОСТ Р 34.10-2001 — больше не принимается",
                          "GOST R 34.10-2001 — no longer accepted"));
    else if (cert->key_bits)
        snprintf(line, sizeof(line),
                 cli_text("ГОСТ Р 34.10-2012, %d бит", "GOST R 34.10-2012, %d bits"),
                 cert->key_bits);
    else
        snprintf(line, sizeof(line), cli_text("не ГОСТ (%s)", "not GOST (%s)"),
                 cert->key_algorithm_oid[0] ? cert->key_algorithm_oid
                                            : cli_text("неизвестный", "unknown"));
    print_row(cli_text("Алгоритм ключа", "Key algorithm"), line);
    if (cert->paramset) {
        snprintf(line, sizeof(line), "%s (%s, %s)", cert->paramset->name, cert->paramset->long_name,
                 cert->paramset->oid);
        print_row(cli_text("Набор параметров", "Parameter set"), line);
    }
}

/* keyUsage bits as Russian words. */
static void print_key_usage(const gs_cert *cert)
{
    if (!cert->has_key_usage)
        return;
    size_t count = 0;
    const gs_key_usage_info *table = gs_key_usage_table(&count);
    char *line = NULL;
    for (size_t i = 0; i < count; i++)
        if (cert->key_usage & table[i].bit)
            line = list_append(line, ", ", cli_russian() ? table[i].name_ru : table[i].name);
    print_row(cli_text("Использование ключа", "Key usage"),
              line ? line : cli_text("(пусто)", "(empty)"));
    free(line);
}

/* A list of OIDs as "Label (OID)" or the bare OID. */
static void print_oid_list(const char *label, char *const *oids, size_t count)
{
    char *line = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *ru = cli_russian() ? gs_oid_label_ru(oids[i]) : NULL; /* labels are Russian */
        char *item = NULL;
        int rc = ru ? asprintf(&item, "%s (%s)", ru, oids[i]) : asprintf(&item, "%s", oids[i]);
        if (rc < 0)
            continue;
        line = list_append(line, "; ", item);
        free(item);
    }
    print_row(label, line);
    free(line);
}

/* subjectSignTool and the four issuerSignTool strings. */
static void print_sign_tools(const gs_cert *cert)
{
    static const char *const labels_ru[GS_CERT_MAX_TOOLS] = { "Средство ЭП издателя",
                                                              "Средство УЦ издателя",
                                                              "Заключение на средство ЭП",
                                                              "Заключение на средство УЦ" };
    static const char *const labels_en[GS_CERT_MAX_TOOLS] = { "Issuer's signing tool",
                                                              "Issuer's CA tool",
                                                              "Signing tool certificate",
                                                              "CA tool certificate" };
    print_row(cli_text("Средство ЭП владельца", "Owner's signing tool"), cert->subject_sign_tool);
    for (size_t i = 0; i < GS_CERT_MAX_TOOLS; i++)
        print_row(cli_text(labels_ru[i], labels_en[i]), cert->issuer_sign_tool[i]);
}

/* The qualified verdict line: only a certificate of an accredited CA with the qualified fields
 * and no problem is called qualified; otherwise the line names the failing condition. */
static void print_qualified(const gs_trust_verdict *v, const gs_trust_list *l)
{
    const gs_trust_ca *ca = v->ca;
    const char *ca_name = ca && ca->short_name ? ca->short_name : ca && ca->name ? ca->name : "";
    const char *verdict = cli_russian() ? gs_trust_verdict_ru(v) : gs_trust_verdict_en(v);
    if (v->qualified)
        printf(cli_text("Квалифицированный: да — %s (%s, ИНН %s; список версии %s)\n",
                        "Qualified: yes — %s (%s, INN %s; list version %s)\n"),
               verdict, ca_name, ca && ca->inn ? ca->inn : "—", l && l->version ? l->version : "?");
    else if (cli_russian()) /* the detail is the program's English: only in the English report */
        printf("Квалифицированный: нет — %s\n", verdict);
    else
        printf("Qualified: no — %s%s%s%s\n", verdict, v->detail[0] ? " (" : "", v->detail,
               v->detail[0] ? ")" : "");
}

/* Overall verdict with error-table codes; returns the first problem (or OK). */
static gs_code print_status(const gs_cert *cert, time_t now)
{
    gs_code problems[MAX_PROBLEMS];
    size_t n = gs_cert_problems(cert, now, problems, MAX_PROBLEMS);
    gs_trust_list *l = gs_trust_acquire_default();
    gs_trust_verdict v;
    gs_trust_assess(l, cert, now, &v);
    if (n == 0 && v.qualified)
        printf("%s\n", cli_text("Статус: действителен, квалифицированный сертификат",
                                "Status: valid, a qualified certificate"));
    else if (n == 0)
        printf(cli_text("Статус: действителен по срокам и алгоритму, но не квалифицированный: %s\n",
                        "Status: valid in time and algorithm, but not qualified: %s\n"),
               cli_russian() ? gs_trust_verdict_ru(&v) : gs_trust_verdict_en(&v));
    for (size_t i = 0; i < n && i < MAX_PROBLEMS; i++) {
        const gs_error_info *e = gs_error_lookup(problems[i]);
        printf(cli_text("Статус: %s (%s)\n", "Status: %s (%s)\n"),
               cli_text(e->message_ru, e->message_en), e->name);
    }
    print_qualified(&v, l);
    if (l)
        cli_warn_trust_age(l, now);
    gs_trust_release(l);
    return n ? problems[0] : GS_ERR_OK;
}

/* The human report; returns the first problem so --check can use it. */
static gs_code print_text(const gs_cert *cert, time_t now)
{
    print_subject(&cert->subject);
    print_issuer(&cert->issuer);
    printf("%s\n", cli_text("Сертификат", "Certificate"));
    print_row(cli_text("Серийный номер", "Serial"), cert->serial_hex);
    print_validity(cert, now);
    print_key(cert);
    print_key_usage(cert);
    print_oid_list(cli_text("Расширенное использование", "Extended key usage"), cert->eku,
                   cert->eku_count);
    print_oid_list(cli_text("Политики (класс СКЗИ)", "Policies (protection class)"), cert->policies,
                   cert->policy_count);
    print_sign_tools(cert);
    print_row(cli_text("Сертификат УЦ", "CA certificate"),
              cert->is_ca ? cli_text("да", "yes") : NULL);
    print_row(cli_text("Отпечаток (SHA-1)", "Thumbprint (SHA-1)"), cert->sha1_thumbprint);
    print_row(cli_text("Отпечаток (ГОСТ Р 34.11-2012)", "Thumbprint (GOST R 34.11-2012)"),
              cert->streebog_thumbprint);
    return print_status(cert, now);
}

/* The JSON model, pretty-printed; returns the first problem so --check can use it. */
static gs_code print_json(const gs_cert *cert, time_t now)
{
    json_object *obj = gs_cert_to_json(cert, now);
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    gs_code first = GS_ERR_OK;
    gs_cert_problems(cert, now, &first, 1);
    return first;
}

/* Options of `cert show --chain` (issue 7); ca_file: the accredited-CA store (issue 15). */
typedef struct {
    const char *ca_dir, *crl;
    int online, timeout;
    const char *ca_file;
} chain_options;

/* One link's verdict: the first of revoked, expired / not yet valid, not trusted, revocation
 * unknown / unreachable; OK when none. */
typedef struct {
    gs_code code;
    char trust[160], revocation[400];
} link_status;

/* Trust store from the directory (hashed links) or the store's bundle, or an empty store. */
static X509_STORE *chain_store(const char *ca_dir, const char *ca_file)
{
    X509_STORE *store = X509_STORE_new();
    if (store && ((ca_dir && !X509_STORE_load_path(store, ca_dir)) ||
                  (ca_file && !X509_STORE_load_file(store, ca_file)))) {
        X509_STORE_free(store);
        store = NULL;
    }
    ERR_clear_error();
    return store;
}

/* Builds and verifies the chain now; returns it (at least the certificate itself), the OpenSSL
 * error and the depth where it occurred (-1 when verified). */
static STACK_OF(X509) * build_chain(X509 *cert, const chain_options *o, int *err, int *err_depth)
{
    X509_STORE *store = chain_store(o->ca_dir, o->ca_file);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = NULL;
    *err = X509_V_ERR_UNSPECIFIED;
    *err_depth = 0;
    if (store && ctx && X509_STORE_CTX_init(ctx, store, cert, NULL)) {
        int ok = X509_verify_cert(ctx) == 1;
        *err = ok ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
        *err_depth = ok ? -1 : X509_STORE_CTX_get_error_depth(ctx);
        chain = X509_STORE_CTX_get1_chain(ctx);
    }
    if (!chain && (chain = sk_X509_new_null()) && X509_up_ref(cert) && !sk_X509_push(chain, cert))
        X509_free(cert);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    ERR_clear_error();
    return chain;
}

/* Whether a local CRL file was issued by the link's issuer. */
static int crl_applies(const char *crl_path, X509 *link)
{
    gs_status st;
    X509_CRL *crl = gs_crl_load_file(crl_path, &st);
    int applies = crl && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(link)) == 0;
    X509_CRL_free(crl);
    return applies;
}

/* Revocation of one link (not for the root): the CRL that applies and/or the online sources. */
static gs_code link_revocation(X509 *link, X509 *issuer, const chain_options *o, link_status *ls)
{
    gs_revocation_opts ro;
    gs_revocation_opts_init(&ro);
    ro.crl_file = o->crl && crl_applies(o->crl, link) ? o->crl : NULL;
    ro.use_crl_dp = o->online && !ro.crl_file;
    ro.use_ocsp = o->online;
    ro.timeout_seconds = o->timeout;
    if (!ro.crl_file && !ro.use_crl_dp && !ro.use_ocsp) {
        snprintf(ls->revocation, sizeof(ls->revocation), "%s",
                 cli_text("не проверялся", "not checked"));
        return GS_ERR_OK;
    }
    gs_revocation_result r;
    gs_status st;
    gs_status_clear(&st);
    gs_code rc = gs_revocation_check(link, issuer, &ro, &r, &st);
    const gs_error_info *e = gs_error_lookup(rc);
    if (rc == GS_ERR_OK)
        snprintf(ls->revocation, sizeof(ls->revocation),
                 cli_text("не отозван (%s%s%s)", "not revoked (%s%s%s)"),
                 r.crl.consulted && r.crl.code == GS_ERR_OK ? "CRL" : "",
                 r.crl.consulted && r.crl.code == GS_ERR_OK && r.ocsp.code == GS_ERR_OK &&
                         r.ocsp.consulted
                     ? ", "
                     : "",
                 r.ocsp.consulted && r.ocsp.code == GS_ERR_OK ? "OCSP" : "");
    else if (cli_russian()) /* the detail is the program's English: only in the English report */
        snprintf(ls->revocation, sizeof(ls->revocation), "%s (%s)", e->message_ru, e->name);
    else
        snprintf(ls->revocation, sizeof(ls->revocation), "%s (%s): %s", e->message_en, e->name,
                 st.detail);
    return rc;
}

/* Trust words for a link from the chain verdict. */
static gs_code link_trust(int i, int n, int err, int err_depth, int self_signed, link_status *ls)
{
    int time_error = err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID;
    if (err == X509_V_OK || (time_error && err_depth != i)) {
        snprintf(ls->trust, sizeof(ls->trust), "%s",
                 i == n - 1 && self_signed ? cli_text("доверенный корень", "trusted root")
                                           : cli_text("цепочка проверена", "chain verified"));
        return GS_ERR_OK;
    }
    if (time_error) {
        snprintf(ls->trust, sizeof(ls->trust), "%s", cli_text("цепочка построена", "chain built"));
        return GS_ERR_OK;
    }
    if (err_depth != i && i != n - 1)
        return GS_ERR_OK;
    if (cli_russian()) /* OpenSSL's reason is English: its number in the Russian report */
        snprintf(ls->trust, sizeof(ls->trust), "не доверен (ошибка проверки X.509 №%d)", err);
    else
        snprintf(ls->trust, sizeof(ls->trust), "not trusted (%s)",
                 X509_verify_cert_error_string(err));
    return GS_ERR_CERT_UNTRUSTED;
}

/* The verdict of link i of the chain. */
static link_status link_verdict(STACK_OF(X509) * chain, int i, int err, int err_depth,
                                const chain_options *o, time_t now)
{
    link_status ls = { GS_ERR_OK, "", "" };
    int n = sk_X509_num(chain);
    X509 *x = sk_X509_value(chain, i);
    int self_signed = X509_check_issued(x, x) == X509_V_OK;
    gs_status st;
    gs_cert *model = gs_cert_from_x509(x, &st);
    gs_code time_rc = model ? gs_cert_check_time(model, now, &st) : st.code;
    gs_code trust_rc = link_trust(i, n, err, err_depth, self_signed, &ls);
    gs_code rev_rc = GS_ERR_OK;
    if (i + 1 < n)
        rev_rc = link_revocation(x, sk_X509_value(chain, i + 1), o, &ls);
    else
        snprintf(ls.revocation, sizeof(ls.revocation), "%s",
                 self_signed ? cli_text("не применяется к корню", "n/a for a root")
                             : cli_text("издатель не найден", "issuer not found"));
    ls.code = rev_rc == GS_ERR_CERT_REVOKED ? rev_rc
              : time_rc != GS_ERR_OK        ? time_rc
              : trust_rc != GS_ERR_OK       ? trust_rc
                                            : rev_rc;
    gs_cert_free(model);
    return ls;
}

/* Prints one link: who, validity, trust, revocation and the verdict. */
static void print_link(int i, X509 *x, const link_status *ls, time_t now)
{
    gs_status st;
    gs_cert *c = gs_cert_from_x509(x, &st);
    if (!c)
        return;
    char to[48], line[200];
    format_time(c->not_after, to, sizeof(to));
    printf("[%d] %s\n", i, c->subject.cn ? c->subject.cn : c->subject.oneline);
    print_row(cli_text("Издатель", "Issuer"), c->issuer.cn ? c->issuer.cn : c->issuer.oneline);
    print_row(cli_text("Серийный номер", "Serial"), c->serial_hex);
    snprintf(line, sizeof(line), "%s%s", to,
             now > c->not_after ? cli_text(" (истёк)", " (expired)") : "");
    print_row(cli_text("Действует по", "Valid to"), line);
    print_row(cli_text("Доверие", "Trust"), ls->trust[0] ? ls->trust : "—");
    print_row(cli_text("Отзыв", "Revocation"), ls->revocation);
    const gs_error_info *e = gs_error_lookup(ls->code);
    snprintf(line, sizeof(line), "%s%s%s%s",
             ls->code ? cli_text(e->message_ru, e->message_en) : cli_text("действителен", "valid"),
             ls->code ? " (" : "", ls->code ? e->name : "", ls->code ? ")" : "");
    print_row(cli_text("Статус", "Status"), line);
    gs_cert_free(c);
}

/* A certificate ID (SHA-1 thumbprint or a prefix of 4+ hex digits) rather than a file name. */
static bool looks_like_id(const char *arg)
{
    size_t n = strlen(arg);
    return n >= 4 && n <= 40 && strspn(arg, "0123456789abcdefABCDEF") == n;
}

/* The token certificate named by ID (exact or a unique prefix), from the agent's list. */
static gs_cert *cert_from_agent(const char *id, gs_status *st)
{
    agent_conn *c = agent_connect(1, st);
    json_object *list = NULL, *v;
    gs_code rc =
        c ? agent_call(c, "certificates", "local:gostsign", NULL, NULL, NULL, &list, st) : st->code;
    agent_disconnect(c);
    const char *der_b64 = NULL;
    size_t matches = 0, n = strlen(id);
    for (size_t i = 0; rc == GS_ERR_OK && i < json_object_array_length(list); i++) {
        json_object *e = json_object_array_get_idx(list, i);
        const char *thumb = json_object_object_get_ex(e, "id", &v) ? json_object_get_string(v) : "";
        if (strncasecmp(thumb, id, n) == 0 && json_object_object_get_ex(e, "der", &v) &&
            matches++ == 0)
            der_b64 = json_object_get_string(v);
    }
    gs_cert *cert = NULL;
    if (rc == GS_ERR_OK && matches != 1)
        gs_fail(st, matches ? GS_ERR_CERT_ID_AMBIGUOUS : GS_ERR_CERT_NOT_FOUND, "%s", id);
    else if (rc == GS_ERR_OK) {
        uint8_t *der = NULL;
        size_t len = 0;
        if (gs_base64_decode(der_b64, &der, &len, st) == GS_ERR_OK)
            cert = gs_cert_parse(der, len, st);
        else
            gs_fail(st, GS_ERR_INTERNAL, "the agent sent a certificate that is not base64");
        free(der);
    }
    json_object_put(list);
    return cert;
}

/* The heading of the chain report: which trust the links were checked against. */
static void print_chain_heading(const chain_options *o, const gs_trust_list *l)
{
    if (o->ca_dir)
        printf("%s\n", cli_text("Цепочка сертификатов", "Certificate chain"));
    else if (l)
        printf(cli_text("Цепочка сертификатов (список аккредитованных УЦ, версия %s)\n",
                        "Certificate chain (accredited CAs, list version %s)\n"),
               l->version ? l->version : "?");
    else
        printf("%s\n", cli_text("Цепочка сертификатов (нет списка аккредитованных УЦ и --ca-dir: "
                                "доверие не проверяется)",
                                "Certificate chain (no accredited-CA store, no --ca-dir: trust "
                                "not checked)"));
}

/* Walks the links; returns the first problem and whether a link was revoked. */
static gs_code report_links(STACK_OF(X509) * chain, int err, int depth, const chain_options *o,
                            time_t now, int *revoked)
{
    gs_code first = GS_ERR_OK;
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        link_status ls = link_verdict(chain, i, err, depth, o, now);
        print_link(i, sk_X509_value(chain, i), &ls, now);
        *revoked |= ls.code == GS_ERR_CERT_REVOKED;
        if (first == GS_ERR_OK)
            first = ls.code;
    }
    return first;
}

/* `cert show --chain`: every link from the certificate up to its root, with its status, then
 * the qualified verdict against the accredited-CA store (without --ca-dir). */
static int show_chain(const char *path, chain_options *o)
{
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = gs_cert_load_file(path, &st);
    if (!cert)
        return cli_report(&st);
    gs_trust_list *l = o->ca_dir ? NULL : gs_trust_load_default(&st);
    char bundle[4096];
    if (l && gs_trust_bundle_path(l, bundle, sizeof(bundle)) == 0)
        o->ca_file = bundle;
    int err = 0, depth = 0, revoked = 0;
    STACK_OF(X509) *chain = build_chain(cert->x509, o, &err, &depth);
    time_t now = time(NULL);
    print_chain_heading(o, l);
    gs_code first = report_links(chain, err, depth, o, now, &revoked);
    if (l) {
        gs_trust_verdict v;
        gs_trust_assess(l, cert, now, &v);
        if (revoked)
            gs_trust_verdict_revoked(&v, "a link of the chain is revoked");
        print_qualified(&v, l);
        if (!v.qualified && (first == GS_ERR_OK || first == GS_ERR_CERT_UNTRUSTED))
            first = v.code;
        cli_warn_trust_age(l, now);
    }
    sk_X509_pop_free(chain, X509_free);
    gs_cert_free(cert);
    gs_trust_list_free(l);
    o->ca_file = NULL; /* it pointed at this frame's bundle path */
    return (int)first;
}

/* Parses the --chain options; returns 0 when c was one of them. */
static int parse_chain_option(int c, chain_options *o, int *chain)
{
    switch (c) {
    case 'C':
        *chain = 1;
        return 0;
    case 'd':
        o->ca_dir = optarg;
        return 0;
    case 'r':
        o->crl = optarg;
        return 0;
    case 'O':
        o->online = 1;
        return 0;
    case 'T':
        o->timeout = atoi(optarg);
        return o->timeout > 0 ? 0 : -1;
    default:
        return -1;
    }
}

/* `gostsign cert show`: loads the file and prints it; exit status is 0 or an error number. */
static int cert_show(int argc, char **argv)
{
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                          { "check", no_argument, NULL, 'c' },
                                          { "help", no_argument, NULL, 'h' },
                                          { "chain", no_argument, NULL, 'C' },
                                          { "ca-dir", required_argument, NULL, 'd' },
                                          { "crl", required_argument, NULL, 'r' },
                                          { "online", no_argument, NULL, 'O' },
                                          { "timeout", required_argument, NULL, 'T' },
                                          { NULL, 0, NULL, 0 } };
    int json = 0, check = 0, chain = 0, c;
    chain_options co = { NULL, NULL, 0, 0, NULL };
    optind = 1;
    while ((c = getopt_long(argc, argv, "jch", opts, NULL)) != -1) {
        if (c == 'h') {
            print_cert_help();
            return 0;
        }
        if (c == '?')
            return cli_usage_error(CERT_USAGE, "unknown option");
        if (c != 'j' && c != 'c' && parse_chain_option(c, &co, &chain) != 0)
            return cli_usage_error(CERT_USAGE, "bad --timeout");
        json |= c == 'j';
        check |= c == 'c';
    }
    if (optind != argc - 1)
        return cli_usage_error(CERT_USAGE, optind >= argc ? "no certificate file"
                                                          : "more than one certificate file");
    const char *path = strcmp(argv[optind], "-") == 0 ? "/dev/stdin" : argv[optind];
    if (chain)
        return show_chain(path, &co);
    if (co.ca_dir || co.crl || co.online)
        return cli_usage_error(CERT_USAGE, "--ca-dir, --crl and --online go with --chain");
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = access(path, F_OK) != 0 && looks_like_id(path) ? cert_from_agent(path, &st)
                                                                   : gs_cert_load_file(path, &st);
    if (!cert)
        return cli_report(&st);
    time_t now = time(NULL);
    gs_code first = json ? print_json(cert, now) : print_text(cert, now);
    gs_cert_free(cert);
    return check ? (int)first : 0;
}

/* `gostsign cert ACTION`: only `show` so far. */
int cmd_cert(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(CERT_USAGE, "no action given");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_cert_help();
        return 0;
    }
    if (strcmp(argv[1], "show") == 0)
        return cert_show(argc - 1, argv + 1);
    return cli_usage_error(CERT_USAGE, "unknown action '%s'", argv[1]);
}
