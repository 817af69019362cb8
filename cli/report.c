/* How the `gostsign` command reports a failure: one format for every subcommand, from the error
 * table. The bottom of cli/: subcommands and the entry point call it, it calls only gost/. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

/* One format for every failure the command prints. */
int cli_report(const gs_status *st)
{
    const gs_error_info *e = gs_error_lookup(st->code);
    fprintf(stderr, "gostsign: ошибка %s: %s\n", e->name, e->message_ru);
    fprintf(stderr, "gostsign: error %s: %s\n", e->name, e->message_en);
    if (st->detail[0])
        fprintf(stderr, "  detail: %s\n", st->detail);
    fprintf(stderr, "  fix: %s\n", e->fix);
    return (int)e->code;
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
    fprintf(stderr, "usage: %s\n", usage);
    return GS_ERR_USAGE;
}
