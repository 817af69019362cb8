/*
 * Agent configuration: the system file (/etc/gostsign/agent.json) overlaid by the user file
 * (~/.config/gostsign/agent.json). The system file may lock the origin allow-list.
 */
#ifndef GOSTSIGN_AGENT_CONFIG_H
#define GOSTSIGN_AGENT_CONFIG_H

#include <stddef.h>

#include "gost.h"

#define AGENT_CONFIG_MAX_LIST 64

/* check_revocation_before_sign: off, warn (sign, say so; a revoked certificate is still
 * refused), require (refuse unless a CRL or OCSP says good). Ordered weakest first. */
typedef enum {
    AGENT_REVOCATION_OFF = 0,
    AGENT_REVOCATION_WARN,
    AGENT_REVOCATION_REQUIRE,
} agent_revocation_policy;

/* Default time limit of one CRL download or OCSP exchange before a signature. */
#define AGENT_REVOCATION_TIMEOUT_DEFAULT 3

typedef struct {
    size_t origin_count;
    char *origins[AGENT_CONFIG_MAX_LIST]; /* "https://host", or "https://" + "*.domain" */
    int allow_localhost;                  /* http://localhost and 127.0.0.1 for development */
    int origins_locked;                   /* set by the system file: the user file cannot add */
    size_t hash_origin_count;
    char *hash_origins[AGENT_CONFIG_MAX_LIST]; /* may sign a bare hash (content not shown) */
    size_t module_count;
    char *modules[AGENT_CONFIG_MAX_LIST]; /* extra PKCS#11 module paths: loaded from the start */
    char *load_registered_modules;        /* "on_device" (default), "always" or "never" */
    int module_unload_seconds;            /* a module whose devices left unloads after this */
    char *pinentry;                       /* pinentry program path */
    int pin_max_failures;                 /* agent-side limiter: wrong PINs before a cooldown */
    int pin_cooldown_seconds;
    int request_timeout_seconds;
    int idle_exit_seconds;   /* 0: never exit when idle; -1 (unset): the agent's own default */
    int idle_shrink_seconds; /* 0: stay whole when idle; -1 (unset): AGENT_IDLE_SHRINK_DEFAULT */
    char *log_level;         /* "error", "warning", "info", "debug" */
    agent_revocation_policy revocation_policy; /* the user file may only make it stricter */
    int revocation_timeout_seconds;            /* per CRL download / OCSP exchange */
} agent_config;

/* Fills cfg with built-in defaults (Gosuslugi/ESIA allow-list, 3 wrong PINs, 15 min cooldown). */
gs_code agent_config_defaults(agent_config *cfg, gs_status *st);

/*
 * Overlays one JSON file; a missing file is not an error, a malformed one is (BAD_JSON). A file
 * that is not regular, is owned by someone other than this user or root, or is writable by group
 * or others, or whose directory is owned by another user or writable by others (unless sticky),
 * is refused with CONFIG_UNSAFE: it could name a pinentry or module that would run as the user.
 */
gs_code agent_config_load_file(agent_config *cfg, const char *path, int is_system, gs_status *st);

/* Defaults, then the system file, then the user file ($XDG_CONFIG_HOME or ~/.config). On a
 * failure cfg still holds what was read before it: free it with agent_config_free. */
gs_code agent_config_load(agent_config *cfg, const char *system_path, const char *user_path,
                          gs_status *st);

void agent_config_free(agent_config *cfg);

/* Default locations of the two files. */
#define AGENT_CONFIG_SYSTEM_PATH "/etc/gostsign/agent.json"
/* Writes the user file path into out; returns 0 on success. */
int agent_config_user_path(char *out, size_t cap);

#endif
