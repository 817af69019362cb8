/*
 * `gostsign cert show`: a qualified certificate as a person checks it before signing (owner,
 * organisation, INN/OGRN/SNILS, validity, key, signing tools, thumbprints), or as JSON.
 */
#include "cli.h"
#include "qcert.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERT_USAGE    "gostsign cert show [--json] [--check] CERT|-"
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
           "            valid, GOST R 34.10-2001 key) instead of 0\n",
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
    printf("Владелец сертификата\n");
    print_row("Владелец", n->cn);
    print_row("Фамилия", n->sn);
    print_row("Имя и отчество", n->g);
    print_row("Должность", n->t);
    print_row("Организация", n->o);
    print_row("Подразделение", n->ou);
    print_row("ИНН", n->inn);
    print_row("ИНН ЮЛ", n->innle);
    print_row("ОГРН", n->ogrn);
    print_row("ОГРНИП", n->ogrnip);
    print_row("СНИЛС", n->snils);
    print_row("Эл. почта", n->e);
    char *addr = address_line(n);
    print_row("Адрес", addr);
    free(addr);
}

/* Issuer block: who vouches for the owner. */
static void print_issuer(const gs_name *n)
{
    printf("Издатель (удостоверяющий центр)\n");
    print_row("Название", n->cn);
    print_row("Организация", n->o);
    print_row("ИНН ЮЛ", n->innle);
    print_row("ИНН", n->inn);
    print_row("ОГРН", n->ogrn);
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
        snprintf(line, sizeof(line), "%s (ещё не действует)", from);
    else
        snprintf(line, sizeof(line), "%s", from);
    print_row("Действует с", line);
    if (now > cert->not_after)
        snprintf(line, sizeof(line), "%s (истёк)", to);
    else
        snprintf(line, sizeof(line), "%s (осталось дней: %ld)", to, gs_cert_days_left(cert, now));
    print_row("Действует по", line);
}

/* Key algorithm, size and parameter set; a GOST-2001 key is called out. */
static void print_key(const gs_cert *cert)
{
    char line[192];
    if (cert->is_gost2001)
        snprintf(line, sizeof(line), "ГОСТ Р 34.10-2001 — больше не принимается");
    else if (cert->key_bits)
        snprintf(line, sizeof(line), "ГОСТ Р 34.10-2012, %d бит", cert->key_bits);
    else
        snprintf(line, sizeof(line), "не ГОСТ (%s)",
                 cert->key_algorithm_oid[0] ? cert->key_algorithm_oid : "неизвестный");
    print_row("Алгоритм ключа", line);
    if (cert->paramset) {
        snprintf(line, sizeof(line), "%s (%s, %s)", cert->paramset->name, cert->paramset->long_name,
                 cert->paramset->oid);
        print_row("Набор параметров", line);
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
            line = list_append(line, ", ", table[i].name_ru);
    print_row("Использование ключа", line ? line : "(пусто)");
    free(line);
}

/* A list of OIDs as "Label (OID)" or the bare OID. */
static void print_oid_list(const char *label, char *const *oids, size_t count)
{
    char *line = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *ru = gs_oid_label_ru(oids[i]);
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
    static const char *const labels[GS_CERT_MAX_TOOLS] = { "Средство ЭП издателя",
                                                           "Средство УЦ издателя",
                                                           "Заключение на средство ЭП",
                                                           "Заключение на средство УЦ" };
    print_row("Средство ЭП владельца", cert->subject_sign_tool);
    for (size_t i = 0; i < GS_CERT_MAX_TOOLS; i++)
        print_row(labels[i], cert->issuer_sign_tool[i]);
}

/* Overall verdict with error-table codes; returns the first problem (or OK). */
static gs_code print_status(const gs_cert *cert, time_t now)
{
    gs_code problems[MAX_PROBLEMS];
    size_t n = gs_cert_problems(cert, now, problems, MAX_PROBLEMS);
    if (n == 0)
        printf("Статус: действителен для квалифицированной подписи\n");
    for (size_t i = 0; i < n && i < MAX_PROBLEMS; i++) {
        const gs_error_info *e = gs_error_lookup(problems[i]);
        printf("Статус: %s (%s)\n", e->message_ru, e->name);
    }
    return n ? problems[0] : GS_ERR_OK;
}

/* The human report; returns the first problem so --check can use it. */
static gs_code print_text(const gs_cert *cert, time_t now)
{
    print_subject(&cert->subject);
    print_issuer(&cert->issuer);
    printf("Сертификат\n");
    print_row("Серийный номер", cert->serial_hex);
    print_validity(cert, now);
    print_key(cert);
    print_key_usage(cert);
    print_oid_list("Расширенное использование", cert->eku, cert->eku_count);
    print_oid_list("Политики (класс СКЗИ)", cert->policies, cert->policy_count);
    print_sign_tools(cert);
    print_row("Сертификат УЦ", cert->is_ca ? "да" : NULL);
    print_row("Отпечаток (SHA-1)", cert->sha1_thumbprint);
    print_row("Отпечаток (ГОСТ Р 34.11-2012)", cert->streebog_thumbprint);
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

/* `gostsign cert show`: loads the file and prints it; exit status is 0 or an error number. */
static int cert_show(int argc, char **argv)
{
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                          { "check", no_argument, NULL, 'c' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    int json = 0, check = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jch", opts, NULL)) != -1) {
        if (c == 'h') {
            print_cert_help();
            return 0;
        }
        if (c == '?')
            return cli_usage_error(CERT_USAGE, "unknown option");
        json |= c == 'j';
        check |= c == 'c';
    }
    if (optind != argc - 1)
        return cli_usage_error(CERT_USAGE, optind >= argc ? "no certificate file"
                                                          : "more than one certificate file");
    const char *path = strcmp(argv[optind], "-") == 0 ? "/dev/stdin" : argv[optind];
    gs_status st;
    gs_status_clear(&st);
    gs_cert *cert = gs_cert_load_file(path, &st);
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
