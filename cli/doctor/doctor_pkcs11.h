/* Shared between the doctor's PKCS#11 layers (modules, tokens, certificates). */
#ifndef GOSTSIGN_DOCTOR_PKCS11_H
#define GOSTSIGN_DOCTOR_PKCS11_H

#include "pkcs11_client.h"
#include "doctor.h"

#include <time.h>

#define DOCTOR_MAX_TOKENS 16

/* One module file the doctor checks, and the tokens it shows when loaded alone. */
typedef struct {
    char path[1024];
    char origin[16]; /* "option", "config", "p11-kit", "known" */
    int loads;
    p11_token tokens[DOCTOR_MAX_TOKENS];
    size_t token_count;
} doctor_module;

typedef struct {
    doctor_module items[DOCTOR_MAX_MODULES];
    size_t count;
} doctor_modules;

/* Gathers module paths: --module, the agent config, then (unless --no-p11-kit) p11-kit and the
 * known vendor modules present on disk. One entry per file name. */
void doctor_collect_modules(const doctor_ctx *ctx, doctor_modules *ms);

/* Layer 5: loads each module, finds duplicates and missing vendor modules. */
void doctor_layer_modules(doctor_ctx *ctx, doctor_modules *ms);
/* Layer 6: tokens through all loaded modules at once (one per physical token) and PIN state. */
void doctor_layer_tokens(doctor_ctx *ctx, p11_client *client, p11_token **tokens, size_t *count);
/* Layer 7: certificates on those tokens. */
void doctor_layer_certs(doctor_ctx *ctx, p11_client *client, const p11_token *tokens, size_t count);

/* Layer 7's ground (doctor_clock.c): the accredited-CA store, and the clock against the list's
 * date, the earliest start of the tokens' certificates (0: none) and NTP. */
void doctor_check_trust_list(doctor_ctx *ctx, const gs_trust_list *l, time_t now);
void doctor_check_clock(doctor_ctx *ctx, const gs_trust_list *l, time_t now,
                        time_t earliest_not_before);

#endif
