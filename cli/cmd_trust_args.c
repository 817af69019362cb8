/* The options of `gostsign trust` and their help page, shared by the command and its helper
 * gostsign-trust-update, so that both parse an update alike (cli/cmd_trust.h). */
#include "cli.h"
#include "cmd_trust.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help text. */
void trust_print_help(void)
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
int trust_parse_args(int argc, char **argv, trust_args *a)
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
            trust_print_help();
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
void trust_day(time_t t, char *out, size_t cap)
{
    struct tm tm;
    time_t msk = t + 3 * 3600;
    if (!t || !gmtime_r(&msk, &tm) || !strftime(out, cap, "%Y-%m-%d", &tm))
        snprintf(out, cap, "—");
}
