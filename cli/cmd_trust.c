/*
 * `gostsign trust`: the store of accredited certification authorities (gost/trust.h).
 *   update [--tsl FILE | --online [--url URL] [--tls-ca-file F] [--timeout S]] [--system]
 *   list [--all] [--json], show NAME|INN|OGRN, status [--json]
 * An update that fails in any way keeps the old store.
 */
#include "cli.h"
#include "gost.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRUST_USAGE                                                                                \
    "gostsign trust update [--tsl FILE | --online [--url URL] [--tls-ca-file FILE]\n"              \
    "                      [--timeout S]] [--system]\n"                                            \
    "       gostsign trust list [--all] [--json] [--system]\n"                                     \
    "       gostsign trust show NAME|INN|OGRN [--system]\n"                                        \
    "       gostsign trust status [--json]"

/* Options of every action. */
typedef struct {
    const char *tsl, *url, *tls_ca;
    int online, system, all, json, timeout;
    const char *query;
} trust_args;

/* Help text. */
static void print_trust_help(void)
{
    printf(
        "usage: %s\n\n"
        "The list of certification authorities accredited by the Ministry of Digital\n"
        "Development (the TSL, XML). `verify`, `cert show` and `doctor` use the store when\n"
        "no --ca-dir/--ca-file is given: a certificate is qualified only when it chains to\n"
        "an authority accredited when it was issued and still accredited.\n\n"
        "  update --tsl FILE   read the list from a file\n"
        "  update --online     download it (default %s;\n"
        "                      $GOSTSIGN_TSL_URL or --url override, --timeout S, default %d s;\n"
        "                      --tls-ca-file or $GOSTSIGN_TSL_CA_FILE: roots for the server)\n"
        "  --system            the system store %s (root only), else the user's\n"
        "                      ($XDG_DATA_HOME/gostsign/trust or ~/.local/share/gostsign/trust)\n"
        "  list [--all]        accredited authorities (--all: also ended and annulled ones)\n"
        "  show QUERY          one authority by INN, OGRN or part of its name\n"
        "  status              both stores: list version and date, counts, age\n\n"
        "A failed update (no answer, damaged XML) keeps the old store. A list older than\n"
        "%d days gets a warning; `status` then exits with TRUST_LIST_OLD.\n",
        TRUST_USAGE, GS_TSL_URL, GS_TSL_DEFAULT_TIMEOUT, GS_TRUST_SYSTEM_DIR,
        GS_TRUST_MAX_AGE_DAYS);
}

/* Parses the options after the action; returns -1 to go on, or an exit status. */
static int parse_trust_args(int argc, char **argv, trust_args *a)
{
    static const struct option opts[] = { { "tsl", required_argument, NULL, 'f' },
                                          { "online", no_argument, NULL, 'o' },
                                          { "url", required_argument, NULL, 'u' },
                                          { "tls-ca-file", required_argument, NULL, 'c' },
                                          { "timeout", required_argument, NULL, 't' },
                                          { "system", no_argument, NULL, 's' },
                                          { "all", no_argument, NULL, 'a' },
                                          { "json", no_argument, NULL, 'j' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int c;
    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            a->tsl = optarg;
            break;
        case 'o':
            a->online = 1;
            break;
        case 'u':
            a->url = optarg;
            break;
        case 'c':
            a->tls_ca = optarg;
            break;
        case 't':
            a->timeout = atoi(optarg);
            if (a->timeout <= 0)
                return cli_usage_error(TRUST_USAGE, "--timeout takes whole seconds");
            break;
        case 's':
            a->system = 1;
            break;
        case 'a':
            a->all = 1;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            print_trust_help();
            return 0;
        default:
            return cli_usage_error(TRUST_USAGE, "unknown option");
        }
    }
    a->query = optind < argc ? argv[optind] : NULL;
    return optind + (a->query != NULL) < argc ? cli_usage_error(TRUST_USAGE, "too many arguments")
                                              : -1;
}

/* A date as YYYY-MM-DD in Moscow time (UTC+3, as the list gives its dates), "—" for 0. */
static void day(time_t t, char *out, size_t cap)
{
    struct tm tm;
    time_t msk = t + 3 * 3600;
    if (!t || !gmtime_r(&msk, &tm) || !strftime(out, cap, "%Y-%m-%d", &tm))
        snprintf(out, cap, "—");
}

/* Reads a whole file for --tsl. */
static gs_code read_tsl_file(const char *path, uint8_t **out, size_t *len, gs_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return gs_fail(st, GS_ERR_IO_ERROR, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf && (n += fread(buf + n, 1, cap - n, f)) == cap && cap < GS_TSL_MAX_SIZE + 1) {
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown)
            free(buf);
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return gs_fail(st, bad ? GS_ERR_IO_ERROR : GS_ERR_OUT_OF_MEMORY, "%s: cannot read", path);
    }
    *out = buf;
    *len = n;
    return GS_ERR_OK;
}

/* The bytes of the list from the file or the network. */
static gs_code obtain_tsl(const trust_args *a, const char **source, uint8_t **data, size_t *len,
                          gs_status *st)
{
    if (a->tsl) {
        *source = a->tsl;
        return read_tsl_file(a->tsl, data, len, st);
    }
    const char *env_url = getenv("GOSTSIGN_TSL_URL"), *env_ca = getenv("GOSTSIGN_TSL_CA_FILE");
    *source = a->url ? a->url : env_url && *env_url ? env_url : GS_TSL_URL;
    const char *ca = a->tls_ca ? a->tls_ca : env_ca && *env_ca ? env_ca : NULL;
    return gs_tsl_fetch(*source, ca, a->timeout, data, len, st);
}

/* Reports a failed update; the store was not touched. */
static int update_failed(const gs_status *st, const char *root)
{
    int rc = cli_report(st);
    fprintf(stderr,
            cli_text("gostsign: хранилище %s не изменено\n",
                     "gostsign: the store %s was left as it was\n"),
            root);
    return rc;
}

/* `trust update`. */
static int trust_update(const trust_args *a)
{
    if (!a->tsl == !a->online)
        return cli_usage_error(TRUST_USAGE, "give --tsl FILE or --online");
    if (a->system && geteuid() != 0 && !getenv("GOSTSIGN_TRUST_SYSTEM_DIR"))
        return cli_usage_error(TRUST_USAGE, "--system needs root (sudo), or use the user store");
    char root[PATH_MAX];
    if (gs_trust_root(a->system, root, sizeof(root)) != 0)
        return cli_usage_error(TRUST_USAGE, "no HOME or XDG_DATA_HOME for the user store");
    gs_status st;
    gs_status_clear(&st);
    const char *source = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    if (obtain_tsl(a, &source, &data, &len, &st) != GS_ERR_OK)
        return update_failed(&st, root);
    gs_trust_list *l = gs_tsl_parse(data, len, &st);
    free(data);
    time_t now = time(NULL);
    if (!l || gs_trust_store_write(l, root, source, now, &st) != GS_ERR_OK) {
        gs_trust_list_free(l);
        return update_failed(&st, root);
    }
    char date[16];
    day(l->date, date, sizeof(date));
    printf(cli_text("Список аккредитованных УЦ обновлён: %s\n"
                    "  версия %s от %s; УЦ %zu, аккредитованы %zu",
                    "List of accredited CAs updated: %s\n"
                    "  version %s dated %s; authorities %zu, accredited %zu"),
           root, l->version, date, l->ca_count, gs_trust_active_count(l));
    printf(l->skipped_certs ? cli_text("; пропущено нечитаемых сертификатов: %zu\n",
                                       "; unreadable certificates skipped: %zu\n")
                            : "\n",
           l->skipped_certs);
    cli_warn_trust_age(l, now);
    gs_trust_list_free(l);
    return 0;
}

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
    day(ca->status_since, since, sizeof(since));
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
    day(c->not_before, from, sizeof(from));
    day(c->not_after, to, sizeof(to));
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
        day(ca->periods[i].from, from, sizeof(from));
        day(ca->periods[i].to, to, sizeof(to));
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
    day(l ? l->date : 0, date, sizeof(date));
    day(l ? l->updated_at : 0, upd, sizeof(upd));
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
        print_trust_help();
        return 0;
    }
    trust_args a;
    int early = parse_trust_args(argc - 1, argv + 1, &a);
    if (early >= 0)
        return early;
    if (strcmp(action, "update") == 0)
        return trust_update(&a);
    if (strcmp(action, "list") == 0)
        return trust_list(&a);
    if (strcmp(action, "show") == 0)
        return trust_show(&a);
    if (strcmp(action, "status") == 0)
        return trust_status(&a);
    return cli_usage_error(TRUST_USAGE, "unknown action '%s'", action);
}
