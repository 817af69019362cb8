/*
 * PIN care, for the user at the terminal only (`gostsign token change-pin` / `token unblock`;
 * local_only in the protocol table, so gostsign-nmhost never forwards them): `change_pin` asks the
 * current PIN, then the new one twice, and calls C_SetPIN; `unblock_pin` asks the SO PIN (PUK),
 * then the new PIN twice, and calls C_Login(SO) + C_InitPIN. All in the agent's own dialogs, with
 * the token's length rules shown and checked before the token is called; the PINs live in locked
 * memory, are never retried, and wrong ones count in the agent's limiter like a signing PIN.
 */
#include "daemon.h"
#include "audit.h"
#include "pinentry.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

/* The length rules of the token's user PIN, made sane for a module that states none. */
typedef struct {
    size_t min, max;
} pin_rules;

/* One PIN-care operation in progress. */
typedef struct {
    request *r;
    p11_token token;
    char token_id[96];
    char limiter_key[112]; /* the SO PIN has its own counter */
    int unblock;
    pin_rules rules;
} pin_job;

/* The rules from CK_TOKEN_INFO (0 or absurd values: 1 .. PINENTRY_MAX_PIN). */
static pin_rules rules_of(const p11_token *t)
{
    pin_rules p = { t->min_pin_len, t->max_pin_len };
    if (p.min == 0 || p.min > PINENTRY_MAX_PIN)
        p.min = 1;
    if (p.max == 0 || p.max > PINENTRY_MAX_PIN || p.max < p.min)
        p.max = PINENTRY_MAX_PIN;
    return p;
}

/* Seconds left before the request's deadline, at least 1. */
static unsigned time_left(const request *r)
{
    time_t now = time(NULL);
    return r->deadline > now ? (unsigned)(r->deadline - now) : 1;
}

/* The token line of the dialogs: label and serial, control characters replaced. */
static void token_line(const p11_token *t, char *out, size_t cap)
{
    snprintf(out, cap, "%.32s, серийный номер %.16s", t->label, t->serial);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* One PIN dialog of the operation (step: what is asked). */
static gs_code ask(pin_job *job, const char *step, const char *prompt, secure_pin **pin,
                   gs_status *st)
{
    char token[128], desc[PINENTRY_DESC_SIZE];
    token_line(&job->token, token, sizeof(token));
    snprintf(desc, sizeof(desc),
             "%s\nТокен: %s\n%s\nPIN-код этого токена: от %zu до %zu символов. / The token's PIN "
             "must be %zu to %zu characters long.",
             job->unblock ? "Разблокировка PIN-кода пользователя / Unblocking the user PIN"
                          : "Смена PIN-кода / Changing the PIN",
             token, step, job->rules.min, job->rules.max, job->rules.min, job->rules.max);
    pinentry_request req = { .program = job->r->conn->ag->cfg.pinentry,
                             .title = "gostsign — PIN-код токена",
                             .description = desc,
                             .prompt = prompt,
                             .ok_label = "Далее",
                             .timeout_seconds = time_left(job->r) };
    request_dialog_place(job->r, &req);
    return pinentry_ask(&req, pin, st);
}

/* The new PIN twice, checked against the rules and each other before the token sees it. */
static gs_code check_new_pin(const pin_job *job, const secure_pin *a, const secure_pin *b,
                             gs_status *st)
{
    if (a->len == 0)
        return gs_fail(st, GS_ERR_PIN_EMPTY, "the new PIN is empty");
    if (a->len < job->rules.min || a->len > job->rules.max)
        return gs_fail(st, GS_ERR_PIN_LENGTH,
                       "the new PIN has %zu characters; this token takes %zu to %zu", a->len,
                       job->rules.min, job->rules.max);
    if (a->len != b->len || CRYPTO_memcmp(a->data, b->data, a->len) != 0)
        return gs_fail(st, GS_ERR_PIN_MISMATCH, "the repeat differs from the new PIN");
    return GS_ERR_OK;
}

/* The three dialogs: the current PIN (or the SO PIN), the new PIN, its repeat. */
static gs_code ask_all(pin_job *job, secure_pin **auth, secure_pin **fresh, gs_status *st)
{
    secure_pin *repeat = NULL;
    gs_code rc = ask(job,
                     job->unblock ? "Введите PIN-код администратора (SO PIN / PUK). / Enter the "
                                    "administrator (SO) PIN / PUK."
                                  : "Введите текущий PIN-код. / Enter the current PIN.",
                     job->unblock ? "PIN администратора:" : "Текущий PIN-код:", auth, st);
    if (rc == GS_ERR_OK && (*auth)->len == 0)
        rc = gs_fail(st, GS_ERR_PIN_EMPTY, NULL);
    if (rc == GS_ERR_OK)
        rc = ask(job, "Введите новый PIN-код. / Enter the new PIN.", "Новый PIN-код:", fresh, st);
    if (rc == GS_ERR_OK)
        rc = ask(job, "Повторите новый PIN-код. / Repeat the new PIN.", "Повтор:", &repeat, st);
    if (rc == GS_ERR_OK)
        rc = check_new_pin(job, *fresh, repeat, st);
    secure_pin_free(repeat);
    return rc;
}

/* The token's verdict, counted by the limiter as a login is. */
static gs_code call_token(pin_job *job, const secure_pin *auth, const secure_pin *fresh,
                          gs_status *st)
{
    agent *ag = job->r->conn->ag;
    gs_code rc = pin_limiter_begin_attempt(ag->limiter, job->limiter_key, time(NULL), st);
    if (rc != GS_ERR_OK)
        return rc;
    rc = token_cache_set_pin(ag->tokens, &job->token, job->token_id, job->unblock,
                             (const char *)auth->data, auth->len, (const char *)fresh->data,
                             fresh->len, st);
    pin_limiter_finish_attempt(ag->limiter, job->limiter_key, rc, time(NULL));
    return rc;
}

/* Refusals before any dialog: a PIN pad, a locked PIN (change), the limiter's pause. */
static gs_code precheck(pin_job *job, gs_status *st)
{
    agent *ag = job->r->conn->ag;
    cert_ref ref = { .token = job->token };
    gs_code rc = token_cache_refresh_token(ag->tokens, &ref, st);
    job->token = ref.token;
    if (rc == GS_ERR_OK && job->token.protected_auth)
        rc = gs_fail(st, GS_ERR_NOT_SUPPORTED,
                     "token \"%s\" has a PIN pad: change its PIN with the vendor's tool",
                     job->token.label);
    if (rc == GS_ERR_OK && !job->unblock && (job->token.flags & CKF_USER_PIN_LOCKED))
        rc = gs_fail(st, GS_ERR_PIN_LOCKED, "token \"%s\": unblock it first", job->token.label);
    if (rc == GS_ERR_OK)
        rc = pin_limiter_check(ag->limiter, job->limiter_key, time(NULL), st);
    return rc;
}

/* Dialogs and the token call inside the token's PIN gate (one dialog per token at a time). */
static gs_code run_gated(pin_job *job, gs_status *st)
{
    agent *ag = job->r->conn->ag;
    int waited = 0;
    gs_code rc = pin_limiter_gate_enter(ag->limiter, job->token_id, &job->r->cancelled,
                                        job->r->deadline, &waited, st);
    if (rc != GS_ERR_OK)
        return rc;
    secure_pin *auth = NULL, *fresh = NULL;
    rc = ask_all(job, &auth, &fresh, st);
    if (rc == GS_ERR_OK && atomic_load(&job->r->cancelled))
        rc = gs_fail(st, GS_ERR_CANCELLED, "cancelled after the dialogs; the PIN is unchanged");
    if (rc == GS_ERR_OK)
        rc = call_token(job, auth, fresh, st);
    secure_pin_free(auth);
    secure_pin_free(fresh);
    pin_limiter_gate_leave(ag->limiter, job->token_id);
    return rc;
}

/* Shared by both commands: find the token, check, ask, call, audit, reply. */
static gs_code pin_care(request *r, int unblock, json_object **result, gs_status *st)
{
    pin_job job = { .r = r, .unblock = unblock };
    json_object *v = NULL;
    const char *name = r->args && json_object_object_get_ex(r->args, "token", &v)
                           ? json_object_get_string(v)
                           : NULL;
    gs_code rc = token_cache_find_token(r->conn->ag->tokens, name, &job.token, job.token_id,
                                        sizeof(job.token_id), st);
    snprintf(job.limiter_key, sizeof(job.limiter_key), "%s%s", job.token_id, unblock ? "#so" : "");
    job.rules = rules_of(&job.token);
    if (rc == GS_ERR_OK)
        rc = precheck(&job, st);
    if (rc == GS_ERR_OK)
        rc = run_gated(&job, st);
    char token[96];
    snprintf(token, sizeof(token), "%s #%s", job.token.label, job.token.serial);
    audit_event ev = { .origin = r->origin,
                       .operation = r->cmd,
                       .token = token,
                       .what = unblock ? "PIN unblocked with the SO PIN" : "PIN changed",
                       .result = rc };
    if (rc != GS_ERR_TOKEN_NOT_FOUND && rc != GS_ERR_BAD_REQUEST)
        audit_record(&ev);
    if (rc != GS_ERR_OK)
        return rc;
    *result = json_object_new_object();
    json_object_object_add(*result, "token", json_object_new_string(job.token_id));
    json_object_object_add(*result, unblock ? "unblocked" : "changed", json_object_new_boolean(1));
    return GS_ERR_OK;
}

gs_code command_change_pin(request *r, json_object **result, gs_status *st)
{
    return pin_care(r, 0, result, st);
}

gs_code command_unblock_pin(request *r, json_object **result, gs_status *st)
{
    return pin_care(r, 1, result, st);
}
