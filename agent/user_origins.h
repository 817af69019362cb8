/*
 * The user's own additions to the origin allow-list, made from the extension's popup ("allow
 * this site"): ~/.config/gostsign/origins.json, {"allowed_origins": ["https://host", ...]}. Kept
 * apart from agent.json so the agent never rewrites a file the user edits by hand. Ignored when
 * the system policy locks the list.
 */
#ifndef GOSTSIGN_AGENT_USER_ORIGINS_H
#define GOSTSIGN_AGENT_USER_ORIGINS_H

#include <json-c/json.h>

#include "gost.h"

typedef struct user_origins user_origins;

/* Loads the file (a missing one is an empty list; a damaged one is BAD_JSON). */
user_origins *user_origins_load(const char *path, gs_status *st);
void user_origins_free(user_origins *u);

/* The default path, next to the user's agent.json. */
int user_origins_default_path(char *out, size_t cap);

/* True when the user added this exact origin. */
int user_origins_allows(user_origins *u, const char *origin);

/* Adds / removes one https origin (exact, no wildcard) and rewrites the file crash-safely. */
gs_code user_origins_add(user_origins *u, const char *origin, gs_status *st);
gs_code user_origins_remove(user_origins *u, const char *origin, gs_status *st);

/* The list as a JSON array (a new reference). */
json_object *user_origins_json(user_origins *u);

#endif
