/* Audit records through libsystemd's journal API, with an optional plain file. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-journal.h>

/* Replaces NULL with "-" so every field is present in the record. */
static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Appends one line to $GOSTSIGN_AUDIT_FILE; returns 0 on success. */
static int audit_to_file(const audit_event *ev, const char *code_name)
{
    const char *path = getenv("GOSTSIGN_AUDIT_FILE");
    if (!path || !*path)
        return -1;
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(f, "%s op=%s origin=%s result=%s cert=\"%s\" sha1=%s token=\"%s\" what=\"%s\"\n", stamp,
            or_dash(ev->operation), or_dash(ev->origin), code_name, or_dash(ev->cert_owner),
            or_dash(ev->cert_thumbprint), or_dash(ev->token), or_dash(ev->what));
    return fclose(f) == 0 ? 0 : -1;
}

int audit_record(const audit_event *ev)
{
    const char *code_name = gs_error_lookup(ev->result)->name;
    int journal = sd_journal_send(
        "MESSAGE=%s %s for %s: %s", or_dash(ev->operation), or_dash(ev->what), or_dash(ev->origin),
        code_name, "PRIORITY=%d", ev->result == GS_ERR_OK ? LOG_INFO : LOG_WARNING,
        "SYSLOG_IDENTIFIER=gostsign-agent", "GOSTSIGN_OPERATION=%s", or_dash(ev->operation),
        "GOSTSIGN_ORIGIN=%s", or_dash(ev->origin), "GOSTSIGN_RESULT=%s", code_name,
        "GOSTSIGN_CERT=%s", or_dash(ev->cert_owner), "GOSTSIGN_CERT_SHA1=%s",
        or_dash(ev->cert_thumbprint), "GOSTSIGN_TOKEN=%s", or_dash(ev->token), NULL);
    int file = audit_to_file(ev, code_name);
    return journal == 0 || file == 0 ? 0 : -1;
}
