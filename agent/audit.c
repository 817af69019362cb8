/* Audit records through libsystemd's journal API, with an optional plain file. */
#include "audit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

/* Replaces NULL with "-" so every field is present in the record. */
static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/*
 * Writes one field so that it can never end the line or start another field: backslash, control
 * bytes and DEL become escapes, and so does the field's separator (a space in a bare field, the
 * double quote in a quoted one). Other bytes, UTF-8 names included, stay as they are.
 */
static void put_field(FILE *out, const char *value, int quoted)
{
    for (const unsigned char *p = (const unsigned char *)or_dash(value); *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f || (quoted ? *p == '"' : *p == ' '))
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

/* One event as one line: TIME op= origin= result= cert="" sha1= token="" what="". */
static void format_line(FILE *out, const audit_event *ev, const char *code_name)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    fprintf(out, "%s op=", stamp);
    put_field(out, ev->operation, 0);
    fputs(" origin=", out);
    put_field(out, ev->origin, 0);
    fputs(" result=", out);
    put_field(out, code_name, 0);
    fputs(" cert=\"", out);
    put_field(out, ev->cert_owner, 1);
    fputs("\" sha1=", out);
    put_field(out, ev->cert_thumbprint, 0);
    fputs(" token=\"", out);
    put_field(out, ev->token, 1);
    fputs("\" what=\"", out);
    put_field(out, ev->what, 1);
    fputs("\"\n", out);
}

/*
 * Opens the audit file for appending: created 0600, never through a symlink; an existing file of
 * ours that others could read is made 0600, and a file of another user (root aside) is not used.
 */
static int open_audit_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    struct stat sb;
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (sb.st_uid != geteuid() && sb.st_uid != 0) ||
        (sb.st_uid == geteuid() && (sb.st_mode & 0077) && fchmod(fd, 0600) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Appends one line to $GOSTSIGN_AUDIT_FILE with a single write, so events never interleave. */
static int audit_to_file(const audit_event *ev, const char *code_name)
{
    const char *path = getenv("GOSTSIGN_AUDIT_FILE");
    if (!path || !*path)
        return -1;
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (!mem)
        return -1;
    format_line(mem, ev, code_name);
    if (fclose(mem) != 0) {
        free(line);
        return -1;
    }
    int fd = open_audit_file(path);
    int rc = -1;
    if (fd >= 0) {
        rc = write(fd, line, len) == (ssize_t)len ? 0 : -1;
        if (close(fd) != 0)
            rc = -1;
    }
    free(line);
    return rc;
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
