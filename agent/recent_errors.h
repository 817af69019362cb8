/*
 * The agent's last errors, kept in memory (a ring of RECENT_ERRORS_MAX entries) so that the
 * doctor's support bundle has them with their codes and times also on machines without journald.
 * An entry holds the code, the time, the command and the origin only: never a PIN, never the
 * request's data, challenge or detail text. Read through the local-only `status` command.
 */
#ifndef GOSTSIGN_AGENT_RECENT_ERRORS_H
#define GOSTSIGN_AGENT_RECENT_ERRORS_H

#include <time.h>

#include <json-c/json.h>

#include "gost.h"

#define RECENT_ERRORS_MAX 50

/* Writes one error down (thread-safe); cmd and origin may be NULL. */
void recent_errors_add(gs_code code, const char *cmd, const char *origin, time_t when);

/* The entries, oldest first: [{"time", "code", "number", "cmd", "origin"}]. */
json_object *recent_errors_json(void);

/*
 * Takes entries back as recent_errors_json() gave them (an agent coming back from its idle
 * listener, idle_shrink.h); entries with an unknown code or a bad time are left out.
 */
void recent_errors_restore(json_object *entries);

#endif
