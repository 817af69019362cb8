/*
 * Audit trail: one journal entry per signature (time, origin, certificate, token, result).
 * The PIN is never an argument here, so it cannot reach the log.
 */
#ifndef GOSTSIGN_AGENT_AUDIT_H
#define GOSTSIGN_AGENT_AUDIT_H

#include "gost.h"

typedef struct {
    const char *origin;          /* requesting site, or "cli" */
    const char *operation;       /* "sign", "authenticate", ... */
    const char *cert_owner;      /* certificate owner summary */
    const char *cert_thumbprint; /* SHA-1 hex */
    const char *token;           /* token label and serial */
    const char *what;            /* what was signed: file name, "login challenge", digest */
    gs_code result;
} audit_event;

/*
 * Writes the event to the systemd journal (structured fields GOSTSIGN_*) and, when
 * $GOSTSIGN_AUDIT_FILE is set, appends one line there too (used by tests and by admins
 * without journald). Returns 0 when at least one sink accepted it.
 */
int audit_record(const audit_event *ev);

#endif
