/*
 * The agent's view of tokens: one PKCS#11 client, cached token and certificate lists that slot
 * events invalidate (C_WaitForSlotEvent threads, no polling), and per-token serialisation.
 */
#ifndef GOSTSIGN_AGENT_TOKEN_CACHE_H
#define GOSTSIGN_AGENT_TOKEN_CACHE_H

#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "pkcs11_client.h"
#include "config.h"
#include "gost.h"

typedef struct token_cache token_cache;

/* A certificate chosen for signing, copied out of the cache so the cache may change meanwhile. */
typedef struct {
    p11_token token;   /* copy of the token record */
    char token_id[96]; /* stable token id as the protocol shows it */
    uint8_t key_id[64];
    size_t key_id_len;
    gs_cert *cert; /* parsed certificate; owned */
} cert_ref;

/* Loads the configured modules (cfg->modules); the others come with token_cache_load_module. */
token_cache *token_cache_new(const agent_config *cfg, gs_status *st);
void token_cache_free(token_cache *tc);

/* Starts one C_WaitForSlotEvent thread per module that supports it; returns how many. */
int token_cache_start_monitor(token_cache *tc);

/*
 * Modules that come and go with their devices (agent/modules.c decides). Load returns the
 * module's place (or -1) and starts its slot monitor; find gives the place of a loaded module by
 * file name; tokens counts its present tokens. Unload returns -1 while a call or a session runs
 * on the module; otherwise it finalizes it, stops its monitor thread and unmaps it.
 */
long token_cache_load_module(token_cache *tc, const char *path);
long token_cache_find_module(token_cache *tc, const char *file_name);
size_t token_cache_module_tokens(token_cache *tc, size_t place);
int token_cache_unload_module(token_cache *tc, size_t place);

/* JSON arrays for the protocol (new references). Loaded on first use, then cached. */
gs_code token_cache_tokens_json(token_cache *tc, json_object **out, gs_status *st);
gs_code token_cache_certificates_json(token_cache *tc, time_t now, json_object **out,
                                      gs_status *st);

/* Finds a certificate by protocol id (its SHA-1 thumbprint), or the only usable one if id is NULL.
 */
gs_code token_cache_find_cert(token_cache *tc, const char *cert_id, time_t now, cert_ref *out,
                              gs_status *st);
void cert_ref_clear(cert_ref *ref);

/*
 * The issuer certificates of ref's certificate that the cache holds (CA certificates on the
 * tokens), nearest first, for CMS "whole chain". *out is a new stack (possibly empty).
 */
gs_code token_cache_chain(token_cache *tc, const cert_ref *ref, STACK_OF(X509) * *out,
                          gs_status *st);

/* Re-reads the token flags (PIN counters) of a chosen certificate's token. */
gs_code token_cache_refresh_token(token_cache *tc, cert_ref *ref, gs_status *st);

/*
 * Signs on the token, one operation per token at a time: the digest with the raw mechanism, or
 * the data with the combined one when the token has only that. pin NULL: PIN pad.
 */
gs_code token_cache_sign(token_cache *tc, const cert_ref *ref, const char *pin, size_t pin_len,
                         const uint8_t *data, size_t data_len, const uint8_t *digest,
                         size_t digest_len, uint8_t *sig, size_t *sig_len, gs_status *st);

/*
 * Batch signing: one login for many signatures. Holds the token's signing lock from open to
 * close, so nothing else runs on that token meanwhile. pin NULL: PIN pad.
 */
typedef struct token_batch token_batch;
token_batch *token_cache_batch_open(token_cache *tc, const cert_ref *ref, const char *pin,
                                    size_t pin_len, gs_status *st);
gs_code token_batch_sign(token_batch *b, const uint8_t *data, size_t data_len,
                         const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len,
                         gs_status *st);
void token_cache_batch_close(token_batch *b);

/*
 * PIN care (`change_pin`, `unblock_pin`): the token named by its id, serial number or label
 * (NULL: the only token), copied out with its id; then the PIN change under the token's lock
 * (unblock: auth is the SO PIN, else the current user PIN). The lists are dropped afterwards.
 */
gs_code token_cache_find_token(token_cache *tc, const char *name, p11_token *out, char *id,
                               size_t id_cap, gs_status *st);
gs_code token_cache_set_pin(token_cache *tc, const p11_token *token, const char *token_id,
                            int unblock, const char *auth, size_t auth_len, const char *new_pin,
                            size_t new_len, gs_status *st);

/* Drops the cached lists (a slot event, or a token error that suggests removal). */
void token_cache_invalidate(token_cache *tc);

/* Waits until the next invalidation or until `deadline`; returns 0 when an event came. */
int token_cache_wait_change(token_cache *tc, time_t deadline);

/* Counts invalidations, so tests and benchmarks can see hotplug reach the agent. */
uint64_t token_cache_generation(token_cache *tc);

#endif
