/*
 * The revocation check before a signature (check_revocation_before_sign in agent.json): the
 * signer certificate against its CRL (cached under the user's cache directory until nextUpdate)
 * and its OCSP responder, each within revocation_timeout_seconds. A revoked certificate is
 * refused under "warn" and "require"; a status that cannot be obtained is refused under
 * "require" only, and under "warn" becomes a note for the dialog and the reply.
 */
#ifndef GOSTSIGN_AGENT_REVOCATION_GATE_H
#define GOSTSIGN_AGENT_REVOCATION_GATE_H

#include <stdbool.h>

#include "daemon.h"

/* What the check found when it let the signature go on. */
typedef struct {
    bool checked;     /* the policy asked for a check */
    gs_code code;     /* OK (good), or why the status is unknown (REVOCATION_UNKNOWN, ...) */
    char detail[256]; /* technical detail of a non-good status */
} revocation_note;

/* Runs the policy for ref's certificate; OK lets the signature go on (see note). */
gs_code revocation_before_sign(agent *ag, const cert_ref *ref, revocation_note *note,
                               gs_status *st);

/* The note as the reply's "warnings" array: code and texts, no detail (a page may read it);
 * NULL when there is nothing to warn about. */
json_object *revocation_note_json(const revocation_note *note);

#endif
