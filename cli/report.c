/* How the `gostsign` command reports a failure: one format for every subcommand, from the error
 * table, in the one language the user's locale asks for. The bottom of cli/: subcommands and the
 * entry point call it, it calls only gost/. */
#include "cli.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The locale the messages follow, as gettext picks it: LC_ALL, LC_MESSAGES, then LANG. */
bool cli_russian(void)
{
    static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strncmp(v, "ru", 2) == 0;
    }
    return false;
}

/* One of two texts, so a line is never half Russian, half English. */
const char *cli_text(const char *ru, const char *en)
{
    return cli_russian() ? ru : en;
}

/* One format for every failure the command prints. */
int cli_report(const gs_status *st)
{
    const gs_error_info *e = gs_error_lookup(st->code);
    if (cli_russian()) {
        fprintf(stderr, "gostsign: ошибка %s: %s\n", e->name, e->message_ru);
        if (st->detail[0]) /* technical, as the program said it: on a line of its own */
            fprintf(stderr, "  подробности:\n    %s\n", st->detail);
        fprintf(stderr, "  что делать: %s\n", e->fix_ru);
    } else {
        fprintf(stderr, "gostsign: error %s: %s\n", e->name, e->message_en);
        if (st->detail[0])
            fprintf(stderr, "  detail: %s\n", st->detail);
        fprintf(stderr, "  fix: %s\n", e->fix);
    }
    return (int)e->code;
}

/* A failure known only by its code (and an optional detail). */
int cli_report_code(gs_code code, const char *detail)
{
    gs_status st;
    gs_fail(&st, code, "%s", detail ? detail : "");
    return cli_report(&st);
}

/* Usage errors go through the same table as every other error. */
int cli_usage_error(const char *usage, const char *fmt, ...)
{
    gs_status st = { GS_ERR_USAGE, "" };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.detail, sizeof(st.detail), fmt, ap);
    va_end(ap);
    cli_report(&st);
    /* the synopsis is command syntax: on a line of its own under the Russian word */
    fprintf(stderr, cli_text("использование:\n  %s\n", "usage: %s\n"), usage);
    return GS_ERR_USAGE;
}

/* The same warning for every command that relies on the store (trust, verify, cert show). */
int cli_warn_trust_age(const gs_trust_list *l, time_t now)
{
    long age = gs_trust_age_days(l, now);
    if (age <= GS_TRUST_MAX_AGE_DAYS)
        return 0;
    fprintf(stderr,
            cli_text("gostsign: ВНИМАНИЕ: список аккредитованных УЦ устарел (%ld дн., "
                     "TRUST_LIST_OLD): выполните `gostsign trust update --online`\n",
                     "gostsign: WARNING: the list of accredited CAs is %ld days old "
                     "(TRUST_LIST_OLD): run `gostsign trust update --online`\n"),
            age);
    return 1;
}
