/*
 * `gostsign trust`: the store of accredited certification authorities (gost/trust.h).
 *   update [--tsl FILE | --online [--url URL] [--tls-ca-file F] [--timeout S]] [--system]
 *   list [--all] [--json], show NAME|INN|OGRN, status [--json]
 * An update that fails in any way keeps the old store. The update itself (XML, HTTPS) is the helper
 * program gostsign-trust-update (cli/cmd_trust_update.c); this file parses its options first, so
 * that a usage error reads the same, and then runs it.
 */
#include "cli.h"
#include "cmd_trust.h"
#include "gost.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The store an action reads: --system, else the newer of the two. */
static gs_trust_list *load_for(const trust_args *a, gs_status *st)
{
    char root[PATH_MAX];
    if (!a->system)
        return gs_trust_load_default(st);
    if (gs_trust_root(1, root, sizeof(root)) != 0) {
        gs_fail(st, GS_ERR_TRUST_STORE_MISSING, "no system store");
        return NULL;
    }
    return gs_trust_store_load(root, st);
}

/* One authority on one line. */
static void print_ca_line(const gs_trust_ca *ca)
{
    char since[16];
    trust_day(ca->status_since, since, sizeof(since));
    printf(cli_text("%-12s %-10s ИНН %-12s ОГРН %-13s %s (сертификатов: %zu)\n",
                    "%-12s %-10s INN %-12s OGRN %-13s %s (certificates: %zu)\n"),
           cli_russian() ? gs_accreditation_ru(ca->status) : gs_accreditation_word(ca->status),
           since, ca->inn ? ca->inn : "—", ca->ogrn ? ca->ogrn : "—",
           ca->short_name ? ca->short_name
           : ca->name     ? ca->name
                          : "?",
           ca->cert_count);
}

/* An authority as JSON for `list --json`. */
static json_object *ca_to_json(const gs_trust_ca *ca)
{
    json_object *o = json_object_new_object(), *crls = json_object_new_array();
    json_object_object_add(o, "name", ca->name ? json_object_new_string(ca->name) : NULL);
    json_object_object_add(o, "short_name",
                           ca->short_name ? json_object_new_string(ca->short_name) : NULL);
    json_object_object_add(o, "inn", ca->inn ? json_object_new_string(ca->inn) : NULL);
    json_object_object_add(o, "ogrn", ca->ogrn ? json_object_new_string(ca->ogrn) : NULL);
    json_object_object_add(o, "accreditation",
                           json_object_new_string(gs_accreditation_word(ca->status)));
    json_object_object_add(o, "accreditation_since", json_object_new_int64(ca->status_since));
    json_object_object_add(o, "certificates", json_object_new_int((int)ca->cert_count));
    for (size_t i = 0; i < ca->crl_count; i++)
        json_object_array_add(crls, json_object_new_string(ca->crl_urls[i]));
    json_object_object_add(o, "crl_urls", crls);
    return o;
}

/* `trust list`. */
static int trust_list(const trust_args *a)
{
    gs_status st;
    gs_status_clear(&st);
    gs_trust_list *l = load_for(a, &st);
    if (!l)
        return cli_report(&st);
    json_object *arr = a->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < l->ca_count; i++) {
        if (!a->all && l->cas[i].status != GS_ACCR_ACTIVE)
            continue;
        if (arr)
            json_object_array_add(arr, ca_to_json(&l->cas[i]));
        else
            print_ca_line(&l->cas[i]);
    }
    if (arr) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    }
    cli_warn_trust_age(l, time(NULL));
    gs_trust_list_free(l);
    return 0;
}

/* Whether an authority matches a `show` query: INN, OGRN, or part of a name. */
static int ca_matches(const gs_trust_ca *ca, const char *q)
{
    return (ca->inn && strcmp(ca->inn, q) == 0) || (ca->ogrn && strcmp(ca->ogrn, q) == 0) ||
           (ca->name && strstr(ca->name, q)) || (ca->short_name && strstr(ca->short_name, q));
}

/* One CA certificate: subject, serial, validity, thumbprint. */
static void print_ca_cert(X509 *x)
{
    gs_status st;
    gs_cert *c = gs_cert_from_x509(x, &st);
    if (!c)
        return;
    char from[16], to[16];
    trust_day(c->not_before, from, sizeof(from));
    trust_day(c->not_after, to, sizeof(to));
    printf(cli_text("  Сертификат: %s\n    серийный номер %s, %s .. %s, SHA-1 %s\n",
                    "  Certificate: %s\n    serial %s, %s .. %s, SHA-1 %s\n"),
           c->subject.cn ? c->subject.cn : c->subject.oneline, c->serial_hex, from, to,
           c->sha1_thumbprint);
    gs_cert_free(c);
}

/* Every detail of one authority. */
static void print_ca_full(const gs_trust_ca *ca)
{
    printf("%s\n", ca->name ? ca->name : "?");
    printf(cli_text("  Краткое название: %s\n  ИНН: %s\n  ОГРН: %s\n",
                    "  Short name: %s\n  INN: %s\n  OGRN: %s\n"),
           ca->short_name ? ca->short_name : "—", ca->inn ? ca->inn : "—",
           ca->ogrn ? ca->ogrn : "—");
    for (size_t i = 0; i < ca->period_count; i++) {
        char from[16], to[16];
        trust_day(ca->periods[i].from, from, sizeof(from));
        trust_day(ca->periods[i].to, to, sizeof(to));
        printf(cli_text("  Аккредитация: %s с %s по %s\n", "  Accreditation: %s from %s to %s\n"),
               cli_russian() ? gs_accreditation_ru(ca->periods[i].status)
                             : gs_accreditation_word(ca->periods[i].status),
               from, to);
    }
    for (size_t i = 0; i < ca->crl_count; i++)
        printf(cli_text("  Список отзыва: %s\n", "  CRL: %s\n"), ca->crl_urls[i]);
    for (size_t i = 0; i < ca->cert_count; i++)
        print_ca_cert(ca->certs[i]);
}

/* `trust show QUERY`. */
static int trust_show(const trust_args *a)
{
    if (!a->query)
        return cli_usage_error(TRUST_USAGE, "show needs a name, INN or OGRN");
    gs_status st;
    gs_status_clear(&st);
    gs_trust_list *l = load_for(a, &st);
    if (!l)
        return cli_report(&st);
    size_t found = 0;
    for (size_t i = 0; i < l->ca_count; i++)
        if (ca_matches(&l->cas[i], a->query)) {
            print_ca_full(&l->cas[i]);
            found++;
        }
    cli_warn_trust_age(l, time(NULL));
    gs_trust_list_free(l);
    if (found)
        return 0;
    gs_fail(&st, GS_ERR_CA_NOT_ACCREDITED, "no authority in the list matches \"%s\"", a->query);
    return cli_report(&st);
}

/* One store for `status`: text lines or a JSON object; returns the store's code. */
static gs_code status_one(int system, json_object *arr, time_t now)
{
    char root[PATH_MAX] = "?", date[16], upd[16];
    gs_status st;
    gs_status_clear(&st);
    gs_trust_list *l =
        gs_trust_root(system, root, sizeof(root)) == 0 ? gs_trust_store_load(root, &st) : NULL;
    long age = l ? gs_trust_age_days(l, now) : 0;
    gs_code code = !l                            ? GS_ERR_TRUST_STORE_MISSING
                   : age > GS_TRUST_MAX_AGE_DAYS ? GS_ERR_TRUST_LIST_OLD
                                                 : GS_ERR_OK;
    trust_day(l ? l->date : 0, date, sizeof(date));
    trust_day(l ? l->updated_at : 0, upd, sizeof(upd));
    if (arr) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "store", json_object_new_string(system ? "system" : "user"));
        json_object_object_add(o, "path", json_object_new_string(root));
        json_object_object_add(o, "present", json_object_new_boolean(l != NULL));
        json_object_object_add(o, "code", json_object_new_string(gs_error_lookup(code)->name));
        json_object_object_add(o, "version",
                               l && l->version ? json_object_new_string(l->version) : NULL);
        json_object_object_add(o, "date", l ? json_object_new_string(date) : NULL);
        json_object_object_add(o, "age_days", l ? json_object_new_int64(age) : NULL);
        json_object_object_add(o, "authorities",
                               json_object_new_int64(l ? (int64_t)l->ca_count : 0));
        json_object_object_add(o, "accredited",
                               json_object_new_int64(l ? (int64_t)gs_trust_active_count(l) : 0));
        json_object_array_add(arr, o);
    } else if (!l) {
        printf(cli_text("%s (%s): нет\n", "%s (%s): none\n"),
               system ? cli_text("Системное хранилище", "System store")
                      : cli_text("Хранилище пользователя", "User store"),
               root);
    } else {
        printf(cli_text("%s (%s):\n  версия %s от %s (%ld дн. назад), обновлено %s\n  УЦ %zu, "
                        "аккредитованы %zu\n  источник %s\n",
                        "%s (%s):\n  version %s dated %s (%ld days ago), updated %s\n  authorities "
                        "%zu, accredited %zu\n  source %s\n"),
               system ? cli_text("Системное хранилище", "System store")
                      : cli_text("Хранилище пользователя", "User store"),
               root, l->version ? l->version : "?", date, age, upd, l->ca_count,
               gs_trust_active_count(l), l->source ? l->source : "?");
    }
    if (l && !arr)
        cli_warn_trust_age(l, now);
    gs_trust_list_free(l);
    return code;
}

/* `trust status`: exit 0, TRUST_LIST_OLD when the newer store is old, TRUST_STORE_MISSING. */
static int trust_status(const trust_args *a)
{
    json_object *arr = a->json ? json_object_new_array() : NULL;
    time_t now = time(NULL);
    gs_code user = status_one(0, arr, now), sys = status_one(1, arr, now);
    if (arr) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    }
    if (user == GS_ERR_OK || sys == GS_ERR_OK)
        return 0;
    if (user == GS_ERR_TRUST_STORE_MISSING && sys == GS_ERR_TRUST_STORE_MISSING) {
        gs_status st;
        gs_fail(&st, GS_ERR_TRUST_STORE_MISSING, "no store: run `gostsign trust update`");
        return cli_report(&st);
    }
    return GS_ERR_TRUST_LIST_OLD;
}

/* `gostsign trust ACTION`. */
int cmd_trust(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(TRUST_USAGE, "no action given");
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
        trust_print_help();
        return 0;
    }
    trust_args a;
    int early = trust_parse_args(argc - 1, argv + 1, &a);
    if (early >= 0)
        return early;
    if (strcmp(action, "update") == 0)
        return cli_run_helper("gostsign-trust-update", argv); /* libxml2 and libssl live there */
    if (strcmp(action, "list") == 0)
        return trust_list(&a);
    if (strcmp(action, "show") == 0)
        return trust_show(&a);
    if (strcmp(action, "status") == 0)
        return trust_status(&a);
    return cli_usage_error(TRUST_USAGE, "unknown action '%s'", action);
}
