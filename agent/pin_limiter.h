/*
 * Agent-side wrong-PIN limiter. A page must not be able to burn the token's own retry counter:
 * after `max_failures` wrong PINs for one token, signing on it pauses for `cooldown_seconds`.
 *
 * The counters live on disk, one owner-only file per token under the state directory
 * ($XDG_STATE_HOME/gostsign/pin-limiter), so a crash, a kill -9 or a restart of the agent gives
 * no fresh set of attempts. An attempt is written down as failed before C_Login is called
 * (pin_limiter_begin_attempt) and only a verdict from the token takes it back, so even a kill
 * between the login and the record counts against the page, never against the token.
 *
 * At most one PIN dialog per token is open at a time: requests pass a per-token gate in turn.
 */
#ifndef GOSTSIGN_AGENT_PIN_LIMITER_H
#define GOSTSIGN_AGENT_PIN_LIMITER_H

#include <stdatomic.h>
#include <time.h>

#include "gost.h"

typedef struct pin_limiter pin_limiter;

/* state_dir NULL: counters only in memory (unit tests). The directory is created 0700. */
pin_limiter *pin_limiter_new(const char *state_dir, int max_failures, int cooldown_seconds);
void pin_limiter_free(pin_limiter *lim);

/* The default state directory: $XDG_STATE_HOME/gostsign/pin-limiter or ~/.local/state/... */
int pin_limiter_default_dir(char *out, size_t cap);

/* OK when a PIN may be asked for this token now; PIN_LIMITER with the wait otherwise. */
gs_code pin_limiter_check(pin_limiter *lim, const char *token_key, time_t now, gs_status *st);

/* Wrong PINs left before the cooldown starts (for the dialog text); 0 while paused. */
int pin_limiter_remaining(pin_limiter *lim, const char *token_key, time_t now);
/* When a pause ends (0 when the token is not paused). */
time_t pin_limiter_paused_until(pin_limiter *lim, const char *token_key, time_t now);

/*
 * Waits for this token's PIN gate: one request at a time from its dialog to the login's verdict.
 * Gives up with CANCELLED when *cancelled becomes set, TIMEOUT at the deadline. *waited is set
 * when another request held the gate.
 */
gs_code pin_limiter_gate_enter(pin_limiter *lim, const char *token_key, const atomic_int *cancelled,
                               time_t deadline, int *waited, gs_status *st);
void pin_limiter_gate_leave(pin_limiter *lim, const char *token_key);

/*
 * Right before C_Login: checks the pause again and writes the attempt down as failed (on disk,
 * synced). Refuses with PIN_LIMITER when paused, IO_ERROR when the state cannot be written.
 */
gs_code pin_limiter_begin_attempt(pin_limiter *lim, const char *token_key, time_t now,
                                  gs_status *st);
/*
 * Right after C_Login: OK clears the counter, PIN_INCORRECT keeps the failure (and starts the
 * pause at max_failures), anything else (no verdict on the PIN) gives the attempt back.
 */
void pin_limiter_finish_attempt(pin_limiter *lim, const char *token_key, gs_code login_result,
                                time_t now);

/* Clears a token's counter and pause (`gostsign agent unpause`, a user at the terminal). */
gs_code pin_limiter_clear(pin_limiter *lim, const char *token_key, gs_status *st);

#endif
