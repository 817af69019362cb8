/*
 * Agent-side wrong-PIN limiter. A page must not be able to burn the token's own retry counter:
 * after `max_failures` wrong PINs for one token, signing on it pauses for `cooldown_seconds`.
 */
#ifndef GOSTSIGN_AGENT_PIN_LIMITER_H
#define GOSTSIGN_AGENT_PIN_LIMITER_H

#include <time.h>

#include "gost.h"

typedef struct pin_limiter pin_limiter;

pin_limiter *pin_limiter_new(int max_failures, int cooldown_seconds);
void pin_limiter_free(pin_limiter *lim);

/* OK when a PIN may be asked for this token now; PIN_LIMITER with the wait otherwise. */
gs_code pin_limiter_check(pin_limiter *lim, const char *token_key, time_t now, gs_status *st);

/* Records the outcome of a login: PIN_INCORRECT counts, OK clears, anything else is ignored. */
void pin_limiter_record(pin_limiter *lim, const char *token_key, gs_code login_result, time_t now);

/* Wrong PINs left before the cooldown starts (for the dialog text). */
int pin_limiter_remaining(pin_limiter *lim, const char *token_key, time_t now);

#endif
