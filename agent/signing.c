/*
 * PIN-gated commands: `sign` (CMS over data, a digest, or chunked data) and `authenticate`
 * (a challenge bound to the requesting origin). Each runs: limiter check, token PIN state,
 * the agent's own PIN dialog, one signature on the token, limiter update and an audit record.
 * The PIN lives only in locked memory for this call and is never retried automatically.
 */
#include "daemon.h"
#include "request.h"
#include "upload.h"
#include "audit.h"
#include "gost.h"
#include "frame.h"
#include "base64.h"
#include "pinentry.h"
#include "origin.h"
#include "protocol.h"
#include "revocation_gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define AUTH_CHALLENGE_MIN 8
#define AUTH_CHALLENGE_MAX 1024

/* Reads an optional string argument. */
static const char *arg_string(request *r, const char *key)
{
    json_object *v;
    if (!r->args || !json_object_object_get_ex(r->args, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Reads an optional boolean argument with a default. */
static int arg_bool(request *r, const char *key, int dflt)
{
    json_object *v;
    if (!r->args || !json_object_object_get_ex(r->args, key, &v))
        return dflt;
    return json_object_get_boolean(v);
}

/* Everything one signature needs besides the certificate. */
typedef struct {
    const char *action; /* dialog text: "вход на сайт", "подпись документа" */
    const char *document; /* dialog text: document name, or NULL */
    char digest_hex[2 * GOST_MAX_DIGEST + 1]; /* dialog text: a digest signed without its data */
    const char *api;       /* dialog text: the page API that asked, or NULL */
    bool content_hidden;   /* a bare hash or raw value: the dialog says it cannot show it */
    gs_cms_sign_params cms;
    const uint8_t *cosign; /* an existing CMS to add this signer to, or NULL */
    size_t cosign_len;
    bool raw;              /* sign_raw: a bare signature over cms.content_digest, no CMS */
    bool reverse;          /* sign_raw: r || s instead of the PKCS#11 order s || r */
    revocation_note revocation; /* what the check before signing found (the policy's warn) */
    char warnings[PINENTRY_WARNINGS_SIZE]; /* the dialog's warning line (SETERROR), or "" */
} sign_job;

/* The callback's context: the token and the PIN for this single call. */
typedef struct {
    token_cache *tc;
    pin_limiter *limiter;
    const cert_ref *ref;
    const secure_pin *pin;
    gs_code login_result;
} token_signer;

/* Logs in (the limiter writes the attempt down first) and signs; the verdict goes back to it. */
static gs_code login_and_sign(token_signer *s, const gs_cms_tbs *tbs, uint8_t *sig, size_t *sig_len,
                              gs_status *st)
{
    int pinpad = s->ref->token.protected_auth;
    gs_code rc = pin_limiter_begin_attempt(s->limiter, s->ref->token_id, time(NULL), st);
    if (rc != GS_ERR_OK)
        return rc;
    rc = token_cache_sign(s->tc, s->ref, pinpad ? NULL : s->pin->data, pinpad ? 0 : s->pin->len,
                          tbs->data, tbs->data_len, tbs->digest, tbs->digest_len, sig, sig_len, st);
    pin_limiter_finish_attempt(s->limiter, s->ref->token_id, rc, time(NULL));
    return rc;
}

/* gs_cms_signer_fn: the token signs the digest of the signed attributes. */
static gs_code sign_on_token(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                             size_t *sig_len, gs_status *st)
{
    token_signer *s = ctx;
    *sig_len = sig_cap;
    s->login_result = login_and_sign(s, tbs, sig, sig_len, st);
    return s->login_result;
}

/* The Russian dialog text from the certificate, the token state and the request; the
 * certificate's warnings go to job->warnings. */
static gs_code build_description(request *r, const cert_ref *ref, sign_job *job, int limiter_left,
                                 char *out, size_t cap, gs_status *st)
{
    const gs_name *n = &ref->cert->subject;
    CK_FLAGS f = ref->token.flags;
    long days = gs_cert_days_left(ref->cert, time(NULL));
    pinentry_signing_info info = {
        .origin = r->origin,
        .action = job->action,
        .document = job->document,
        .digest_hex = job->digest_hex[0] ? job->digest_hex : NULL,
        .api = job->api,
        .content_hidden = job->content_hidden,
        .owner = n->cn,
        .organisation = n->o,
        .inn = n->inn,
        .innle = n->innle,
        .ogrn = n->ogrn,
        .ogrnip = n->ogrnip,
        .token_label = ref->token.label,
        .token_serial = ref->token.serial,
        .retries_left = (f & CKF_USER_PIN_FINAL_TRY) ? 1
                        : (f & CKF_USER_PIN_LOCKED)  ? 0
                                                     : -1,
        .final_try = (f & CKF_USER_PIN_FINAL_TRY) != 0,
        .agent_attempts_left = limiter_left,
        .agent_pause_minutes = (r->conn->ag->cfg.pin_cooldown_seconds + 59) / 60,
        .count_low = (f & CKF_USER_PIN_COUNT_LOW) != 0,
        .pinpad = ref->token.protected_auth != 0,
        .expires_soon = days < PINENTRY_EXPIRY_WARN_DAYS,
        .days_left = days,
        .revocation_unknown = job->revocation.checked && job->revocation.code != GS_ERR_OK,
    };
    pinentry_describe_warnings(&info, job->warnings, sizeof(job->warnings));
    return pinentry_describe_signing(&info, out, cap, st);
}

/* Seconds left before the request's deadline, at least 1. */
static unsigned seconds_left(const request *r)
{
    time_t now = time(NULL);
    return r->deadline > now ? (unsigned)(r->deadline - now) : 1;
}

/* Asks the PIN in the agent's own dialog (nothing to ask for a PIN pad). */
static gs_code ask_pin(request *r, const cert_ref *ref, const char *desc, const char *warnings,
                       secure_pin **pin, gs_status *st)
{
    if (ref->token.protected_auth) {
        *pin = secure_pin_new(1);
        return *pin ? GS_ERR_OK : gs_fail(st, GS_ERR_OUT_OF_MEMORY, "pin");
    }
    json_object *data = json_object_new_object();
    json_object_object_add(data, "token", json_object_new_string(ref->token_id));
    request_event(r, "pin-requested", data);
    pinentry_request req = { .program = r->conn->ag->cfg.pinentry,
                             .description = desc,
                             .error_text = warnings && *warnings ? warnings : NULL,
                             .timeout_seconds = seconds_left(r) };
    request_dialog_place(r, &req);
    return pinentry_ask(&req, pin, st);
}

/* PIN pad: the token asks the PIN itself; our dialog only says so while C_Login waits. */
static pinentry_pinpad *pinpad_show(request *r, const cert_ref *ref, const char *desc,
                                    const char *warnings)
{
    if (!ref->token.protected_auth)
        return NULL;
    json_object *data = json_object_new_object();
    json_object_object_add(data, "token", json_object_new_string(ref->token_id));
    json_object_object_add(data, "pin_pad", json_object_new_boolean(1));
    request_event(r, "pin-requested", data);
    pinentry_request req = { .program = r->conn->ag->cfg.pinentry,
                             .description = desc,
                             .error_text = warnings && *warnings ? warnings : NULL,
                             .timeout_seconds = seconds_left(r) };
    request_dialog_place(r, &req);
    pinentry_pinpad *pad = NULL;
    gs_status ignored;
    pinentry_pinpad_open(&req, &pad, &ignored);
    return pad;
}

/* Takes the PIN-pad dialog down; a Cancel pressed meanwhile voids the signature. */
static gs_code pinpad_finish(pinentry_pinpad *pad, gs_code rc, gs_status *st)
{
    if (!pad)
        return rc;
    gs_status closing;
    if (pinentry_pinpad_close(pad, &closing) == GS_ERR_USER_CANCELLED && rc == GS_ERR_OK)
        return gs_fail(st, GS_ERR_USER_CANCELLED, "cancelled in the PIN pad dialog");
    return rc;
}

/* Adds the PIN state to a wrong-PIN failure so the page can tell the user what is left. */
static void explain_wrong_pin(request *r, cert_ref *ref, gs_status *st)
{
    gs_status ignored;
    token_cache_refresh_token(r->conn->ag->tokens, ref, &ignored);
    CK_FLAGS f = ref->token.flags;
    int left = pin_limiter_remaining(r->conn->ag->limiter, ref->token_id, time(NULL));
    gs_fail(st, (f & CKF_USER_PIN_LOCKED) ? GS_ERR_PIN_LOCKED : GS_ERR_PIN_INCORRECT,
            "token: %s; attempts before the agent pauses signing: %d",
            (f & CKF_USER_PIN_LOCKED)      ? "PIN locked"
            : (f & CKF_USER_PIN_FINAL_TRY) ? "final try left"
            : (f & CKF_USER_PIN_COUNT_LOW) ? "retry counter low"
                                           : "retries left",
            left);
}

/*
 * The PIN state as fields of the error reply, so a page or the CLI need not parse text: the
 * token's tries left when it says (final try 1, locked 0), the agent's attempts before its pause,
 * and when a pause of the agent ends (ISO 8601, UTC).
 */
static void pin_state_fields(request *r, const cert_ref *ref)
{
    time_t now = time(NULL);
    CK_FLAGS f = ref->token.flags;
    if (f & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED))
        request_error_field(r, "retries_left",
                            json_object_new_int((f & CKF_USER_PIN_LOCKED) ? 0 : 1));
    pin_limiter *lim = r->conn->ag->limiter;
    request_error_field(r, "agent_attempts_left",
                        json_object_new_int(pin_limiter_remaining(lim, ref->token_id, now)));
    time_t until = pin_limiter_paused_until(lim, ref->token_id, now);
    char when[32];
    struct tm tm;
    if (until > now && gmtime_r(&until, &tm) &&
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
        request_error_field(r, "resume_at", json_object_new_string(when));
}

/* Audit record of one PIN-gated operation. */
static void audit_operation(request *r, const cert_ref *ref, const sign_job *job, gs_code rc)
{
    char *owner = gs_cert_owner_summary(ref->cert);
    char token[96];
    snprintf(token, sizeof(token), "%s #%s", ref->token.label, ref->token.serial);
    audit_event ev = { .origin = r->origin,
                       .operation = r->cmd,
                       .cert_owner = owner,
                       .cert_thumbprint = ref->cert->sha1_thumbprint,
                       .token = token,
                       .what = job->document ? job->document : job->action,
                       .result = rc };
    audit_record(&ev);
    free(owner);
}

/* Checks that may refuse before any dialog: limiter, locked PIN, cancellation. */
static gs_code precheck(request *r, cert_ref *ref, gs_status *st)
{
    agent *ag = r->conn->ag;
    gs_code rc = pin_limiter_check(ag->limiter, ref->token_id, time(NULL), st);
    if (rc == GS_ERR_OK)
        rc = token_cache_refresh_token(ag->tokens, ref, st);
    if (rc == GS_ERR_OK && (ref->token.flags & CKF_USER_PIN_LOCKED))
        rc = gs_fail(st, GS_ERR_PIN_LOCKED, "token \"%s\"", ref->token.label);
    if (rc == GS_ERR_OK)
        rc = gs_cert_check_usable(ref->cert, time(NULL), st);
    if (rc == GS_ERR_OK && atomic_load(&r->cancelled))
        rc = gs_fail(st, GS_ERR_CANCELLED, NULL);
    return rc;
}

/* A bare signature over the job's digest (sign_raw), in the byte order asked for. */
static gs_code raw_signature(sign_job *job, token_signer *signer, uint8_t **out, size_t *out_len,
                             gs_status *st)
{
    uint8_t sig[GOST_MAX_SIGNATURE];
    size_t sig_len = sizeof(sig);
    gs_cms_tbs tbs = { NULL, 0, job->cms.content_digest, job->cms.content_digest_len };
    gs_code rc = sign_on_token(signer, &tbs, sig, sizeof(sig), &sig_len, st);
    if (rc == GS_ERR_OK && job->reverse)
        rc = gost_sig_convert(sig, sig_len, GOST_SIG_S_R, GOST_SIG_R_S, sig, st);
    uint8_t *copy = rc == GS_ERR_OK ? OPENSSL_malloc(sig_len) : NULL;
    if (rc == GS_ERR_OK && !copy)
        rc = gs_fail(st, GS_ERR_OUT_OF_MEMORY, "signature");
    if (copy) {
        memcpy(copy, sig, sig_len);
        *out = copy;
        *out_len = sig_len;
    }
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}

/* The signature itself, inside the PIN gate: a new CMS, one more signer, or a bare value. */
static gs_code perform_signature(sign_job *job, token_signer *signer, uint8_t **der,
                                 size_t *der_len, gs_status *st)
{
    if (job->raw)
        return raw_signature(job, signer, der, der_len, st);
    if (job->cosign)
        return gs_cms_cosign(&job->cms, job->cosign, job->cosign_len, der, der_len, st);
    return gs_cms_sign(&job->cms, der, der_len, st);
}

/*
 * Waits for the token's PIN gate (one dialog per token at a time), then checks again what may
 * have changed meanwhile: the limiter, the token's PIN state, a cancel.
 */
static gs_code enter_pin_gate(request *r, cert_ref *ref, gs_status *st)
{
    int waited = 0;
    gs_code rc = pin_limiter_gate_enter(r->conn->ag->limiter, ref->token_id, &r->cancelled,
                                        r->deadline, &waited, st);
    if (rc != GS_ERR_OK)
        return rc;
    rc = waited ? precheck(r, ref, st) : GS_ERR_OK;
    if (rc != GS_ERR_OK)
        pin_limiter_gate_leave(r->conn->ag->limiter, ref->token_id);
    return rc;
}

/* Dialog text and the PIN, inside the gate; an empty PIN never reaches the token. */
static gs_code dialog_and_pin(request *r, cert_ref *ref, sign_job *job, char *desc,
                              secure_pin **pin, gs_status *st)
{
    agent *ag = r->conn->ag;
    gs_code rc = build_description(
        r, ref, job, pin_limiter_remaining(ag->limiter, ref->token_id, time(NULL)), desc,
        PINENTRY_DESC_SIZE, st);
    if (rc == GS_ERR_OK)
        rc = ask_pin(r, ref, desc, job->warnings, pin, st);
    if (rc == GS_ERR_OK && !ref->token.protected_auth && (*pin)->len == 0)
        rc = gs_fail(st, GS_ERR_PIN_EMPTY, NULL);
    if (rc == GS_ERR_OK && atomic_load(&r->cancelled))
        rc = gs_fail(st, GS_ERR_CANCELLED, "cancelled after the PIN dialog; nothing was signed");
    return rc;
}

/* Dialog, one signature, limiter and audit: the core every PIN-gated command shares. */
static gs_code sign_with_pin(request *r, cert_ref *ref, sign_job *job, uint8_t **der,
                             size_t *der_len, gs_status *st)
{
    agent *ag = r->conn->ag;
    char desc[PINENTRY_DESC_SIZE];
    secure_pin *pin = NULL;
    gs_code rc = precheck(r, ref, st);
    if (rc == GS_ERR_OK)
        rc = revocation_before_sign(ag, ref, &job->revocation, st);
    int gated = rc == GS_ERR_OK && (rc = enter_pin_gate(r, ref, st)) == GS_ERR_OK;
    if (rc == GS_ERR_OK)
        rc = dialog_and_pin(r, ref, job, desc, &pin, st);
    token_signer signer = { ag->tokens, ag->limiter, ref, pin, GS_ERR_INTERNAL };
    if (rc == GS_ERR_OK) {
        request_event(r, "signing", NULL);
        job->cms.cert = ref->cert->x509;
        job->cms.sign = sign_on_token;
        job->cms.sign_ctx = &signer;
        pinentry_pinpad *pad = pinpad_show(r, ref, desc, job->warnings);
        rc = pinpad_finish(pad, perform_signature(job, &signer, der, der_len, st), st);
        if (rc != GS_ERR_OK) {
            OPENSSL_free(*der);
            *der = NULL;
        }
        if (rc == GS_ERR_PIN_INCORRECT)
            explain_wrong_pin(r, ref, st);
    }
    job->cms.sign_ctx = NULL; /* the signer lives on this stack frame only */
    if (rc == GS_ERR_PIN_INCORRECT || rc == GS_ERR_PIN_LIMITER || rc == GS_ERR_PIN_LOCKED)
        pin_state_fields(r, ref);
    if (gated)
        pin_limiter_gate_leave(ag->limiter, ref->token_id);
    secure_pin_free(pin);
    if (rc != GS_ERR_BAD_REQUEST)
        audit_operation(r, ref, job, rc);
    return rc;
}

/* The reply's "warnings" (the revocation status under the policy's warn), when there are any. */
static void add_warnings(json_object *result, const sign_job *job)
{
    json_object *w = revocation_note_json(&job->revocation);
    if (w)
        json_object_object_add(result, "warnings", w);
}

/* The reply of a successful signature. */
static json_object *signature_result(const cert_ref *ref, const uint8_t *der, size_t len,
                                     int attached)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "cms", gs_base64_json(der, len));
    json_object_object_add(o, "format", json_object_new_string("cms-der-base64"));
    json_object_object_add(o, "detached", json_object_new_boolean(!attached));
    json_object_object_add(o, "certificate", json_object_new_string(ref->cert->sha1_thumbprint));
    return o;
}

/*
 * True for content shaped like an `authenticate` login text. `sign` refuses it, so a page cannot
 * have a login for another site signed as a document (logins also carry their own contentHints
 * mark, which `sign` never sets).
 */
static bool imitates_login(const uint8_t *data, size_t len)
{
    static const char prefix[] = "gostsign-authenticate";
    size_t i = 0;
    if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
        i = 3; /* a UTF-8 byte order mark */
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return len - i >= sizeof(prefix) - 1 && memcmp(data + i, prefix, sizeof(prefix) - 1) == 0;
}

/* The refusal of login-shaped content. */
static gs_code refuse_login_text(gs_status *st)
{
    return gs_fail(st, GS_ERR_AUTH_TEXT_REFUSED, "use authenticate for logins");
}

/* Starts a chunked upload: the certificate is fixed by the first chunk. */
static gs_code upload_start(request *r, upload **out, gs_status *st)
{
    cert_ref ref = { 0 };
    gs_code rc = token_cache_find_cert(r->conn->ag->tokens, arg_string(r, "certificate"),
                                       time(NULL), &ref, st);
    if (rc != GS_ERR_OK)
        return rc;
    return upload_new(&ref, !arg_bool(r, "detached", 1), out, st);
}

/* Handles a `sign` frame that carries args.chunk; OK with *done = 0 means "parked, more". */
static gs_code sign_chunk(request *r, upload **upp, int *done, gs_status *st)
{
    uint8_t *data = NULL;
    size_t len = 0;
    gs_code rc = GS_ERR_OK;
    if (!*upp)
        rc = upload_start(r, upp, st);
    if (rc == GS_ERR_OK)
        rc = gs_base64_decode(arg_string(r, "chunk"), &data, &len, st);
    if (rc == GS_ERR_OK && (*upp)->total == 0 && imitates_login(data, len))
        rc = refuse_login_text(st);
    if (rc == GS_ERR_OK)
        rc = upload_add(*upp, data, len, st);
    free(data);
    *done = !arg_bool(r, "more", 0);
    if (rc == GS_ERR_OK && !*done) {
        json_object *info = json_object_new_object();
        json_object_object_add(info, "received", json_object_new_int64((int64_t)(*upp)->total));
        rc = request_park_upload(r, *upp, st);
        if (rc == GS_ERR_OK) {
            request_event(r, "chunk-accepted", info);
            *upp = NULL;
        } else {
            json_object_put(info);
        }
    }
    return rc;
}

/* Sets the CMS content from an upload or from the one-frame arguments. */
static gs_code prepare_content(request *r, upload *up, sign_job *job, uint8_t **owned,
                               uint8_t *digest, gs_status *st)
{
    gs_cms_sign_params *p = &job->cms;
    if (up) {
        p->attached = up->attached;
        if (up->attached) {
            p->content = up->buf ? up->buf : (const uint8_t *)"";
            p->content_len = up->len;
            return imitates_login(p->content, p->content_len) ? refuse_login_text(st) : GS_ERR_OK;
        }
        gs_code rc = gost_digest_final(up->digest, digest, st);
        p->content_digest = digest;
        p->content_digest_len = (size_t)up->ref.cert->key_bits / 8;
        return rc;
    }
    p->attached = !arg_bool(r, "detached", 1);
    const char *data = arg_string(r, "data"), *hex = arg_string(r, "digest");
    if (data && !hex) {
        size_t len = 0;
        gs_code rc = gs_base64_decode(data, owned, &len, st);
        p->content = *owned ? *owned : (const uint8_t *)"";
        p->content_len = len;
        if (rc == GS_ERR_OK && imitates_login(p->content, len))
            rc = refuse_login_text(st);
        return rc;
    }
    if (hex && !data && !p->attached) {
        long n = gost_unhex(hex, digest, GOST_MAX_DIGEST);
        if (n != 32 && n != 64)
            return gs_fail(st, GS_ERR_BAD_REQUEST, "digest must be 64 or 128 hex digits");
        p->content_digest = digest;
        p->content_digest_len = (size_t)n;
        gost_hex(digest, (size_t)n, job->digest_hex); /* the dialog shows what is signed */
        return GS_ERR_OK;
    }
    return gs_fail(st, GS_ERR_BAD_REQUEST,
                   "sign needs exactly one of args.data, args.digest (detached) or args.chunk");
}

#define BATCH_MAX_DOCUMENTS 1000

/* One document of a batch: its digest and name. */
typedef struct {
    uint8_t digest[GOST_MAX_DIGEST];
    size_t digest_len;
    const char *name;
} batch_item;

/* Reads args.batch: [{"digest": hex, "document": name}, ...], all of the key's digest size. */
static gs_code read_batch(request *r, size_t want_len, batch_item **items, size_t *count,
                          gs_status *st)
{
    json_object *arr;
    json_object_object_get_ex(r->args, "batch", &arr);
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    if (n == 0 || n > BATCH_MAX_DOCUMENTS)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "args.batch must hold 1..%d documents",
                       BATCH_MAX_DOCUMENTS);
    *items = calloc(n, sizeof(**items));
    if (!*items)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "batch");
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i), *d, *name;
        /* the shape of every element was checked against the protocol table */
        if (!json_object_object_get_ex(e, "digest", &d) ||
            gost_unhex(json_object_get_string(d), (*items)[i].digest, GOST_MAX_DIGEST) !=
                (long)want_len)
            return gs_fail(st, GS_ERR_BAD_REQUEST, "batch[%zu].digest must be %zu hex bytes", i,
                           want_len);
        (*items)[i].digest_len = want_len;
        (*items)[i].name = json_object_object_get_ex(e, "document", &name)
                               ? json_object_get_string(name)
                               : "документ";
    }
    *count = n;
    return GS_ERR_OK;
}

/* gs_cms_signer_fn inside a batch: the session is already logged in. */
static gs_code sign_in_batch(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                             size_t *sig_len, gs_status *st)
{
    *sig_len = sig_cap;
    return token_batch_sign(ctx, tbs->data, tbs->data_len, tbs->digest, tbs->digest_len, sig,
                            sig_len, st);
}

/* Signs every document of a logged-in batch; returns the array of results. */
static gs_code sign_batch_items(request *r, cert_ref *ref, token_batch *b, const batch_item *items,
                                size_t n, json_object *out, gs_status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (atomic_load(&r->cancelled))
            return gs_fail(st, GS_ERR_CANCELLED, "cancelled after %zu of %zu documents", i, n);
        sign_job job = { .action = "подпись пакета документов", .document = items[i].name };
        gs_cms_sign_params_init(&job.cms);
        job.cms.cert = ref->cert->x509;
        job.cms.sign = sign_in_batch;
        job.cms.sign_ctx = b;
        job.cms.content_digest = items[i].digest;
        job.cms.content_digest_len = items[i].digest_len;
        uint8_t *der = NULL;
        size_t der_len = 0;
        gs_code rc = gs_cms_sign(&job.cms, &der, &der_len, st);
        audit_operation(r, ref, &job, rc);
        if (rc != GS_ERR_OK)
            return rc;
        json_object *one = signature_result(ref, der, der_len, 0);
        json_object_object_add(one, "document", json_object_new_string(items[i].name));
        json_object_array_add(out, one);
        OPENSSL_free(der);
    }
    return GS_ERR_OK;
}

/* Batch: one dialog that names the number of documents, one login, N detached signatures. */
static gs_code command_sign_batch(request *r, json_object **result, gs_status *st)
{
    agent *ag = r->conn->ag;
    cert_ref ref = { 0 };
    batch_item *items = NULL;
    size_t n = 0;
    secure_pin *pin = NULL;
    char desc[PINENTRY_DESC_SIZE], what[160];
    gs_code rc =
        token_cache_find_cert(ag->tokens, arg_string(r, "certificate"), time(NULL), &ref, st);
    if (rc == GS_ERR_OK)
        rc = read_batch(r, (size_t)ref.cert->key_bits / 8, &items, &n, st);
    if (rc == GS_ERR_OK && !items) /* cannot happen: read_batch's OK comes with 1..N items */
        rc = GS_ERR_INTERNAL;
    sign_job job = { .action = "подпись пакета документов", .document = what };
    if (rc == GS_ERR_OK)
        rc = precheck(r, &ref, st);
    if (rc == GS_ERR_OK)
        rc = revocation_before_sign(ag, &ref, &job.revocation, st);
    int gated = rc == GS_ERR_OK && (rc = enter_pin_gate(r, &ref, st)) == GS_ERR_OK;
    if (rc == GS_ERR_OK) {
        snprintf(what, sizeof(what), "%zu документов одним вводом PIN-кода (первый: %.60s)", n,
                 items[0].name);
        rc = dialog_and_pin(r, &ref, &job, desc, &pin, st);
    }
    token_batch *b = NULL;
    if (rc == GS_ERR_OK)
        rc = pin_limiter_begin_attempt(ag->limiter, ref.token_id, time(NULL), st);
    if (rc == GS_ERR_OK) {
        request_event(r, "signing", NULL);
        int pinpad = ref.token.protected_auth;
        pinentry_pinpad *pad = pinpad_show(r, &ref, desc, job.warnings);
        b = token_cache_batch_open(ag->tokens, &ref, pinpad ? NULL : pin->data,
                                   pinpad ? 0 : pin->len, st);
        rc = pinpad_finish(pad, b ? GS_ERR_OK : st->code, st);
        pin_limiter_finish_attempt(ag->limiter, ref.token_id, b ? GS_ERR_OK : rc, time(NULL));
        if (rc == GS_ERR_PIN_INCORRECT)
            explain_wrong_pin(r, &ref, st);
    }
    if (gated)
        pin_limiter_gate_leave(ag->limiter, ref.token_id);
    secure_pin_free(pin);
    json_object *out = json_object_new_array();
    if (rc == GS_ERR_OK)
        rc = sign_batch_items(r, &ref, b, items, n, out, st);
    token_cache_batch_close(b);
    if (rc == GS_ERR_OK) {
        *result = json_object_new_object();
        json_object_object_add(*result, "signatures", out);
        add_warnings(*result, &job);
    } else {
        json_object_put(out);
    }
    free(items);
    cert_ref_clear(&ref);
    return rc;
}

/* The page API names the dialog shows for args.api. */
static gs_code api_text(const char *api, const char **out, gs_status *st)
{
    *out = NULL;
    if (!api)
        return GS_ERR_OK;
    if (strcmp(api, "cryptopro") == 0)
        *out = "через интерфейс КриптоПро ЭЦП Browser plug-in";
    else if (strcmp(api, "gosuslugi") == 0)
        *out = "через интерфейс плагина Госуслуг";
    else
        return gs_fail(st, GS_ERR_BAD_REQUEST, "args.api must be \"cryptopro\" or \"gosuslugi\"");
    return GS_ERR_OK;
}

/* Largest difference between a page's signing_time and the agent's clock. */
#define SIGNING_TIME_WINDOW 300

/* signing_time, include_chain, api: the options of protocol version 2. */
static gs_code apply_sign_options(request *r, sign_job *job, const cert_ref *ref,
                                  STACK_OF(X509) * *chain, gs_status *st)
{
    json_object *v;
    gs_code rc = api_text(arg_string(r, "api"), &job->api, st);
    if (rc == GS_ERR_OK && r->args && json_object_object_get_ex(r->args, "signing_time", &v)) {
        int64_t t = json_object_get_int64(v), now = (int64_t)time(NULL);
        if (t < now - SIGNING_TIME_WINDOW || t > now + SIGNING_TIME_WINDOW)
            return gs_fail(st, GS_ERR_BAD_REQUEST,
                           "args.signing_time must be within %d s of the agent's clock",
                           SIGNING_TIME_WINDOW);
        job->cms.signing_time = (time_t)t;
    }
    if (rc == GS_ERR_OK && arg_bool(r, "include_chain", 0)) {
        rc = token_cache_chain(r->conn->ag->tokens, ref, chain, st);
        job->cms.chain = *chain;
    }
    return rc;
}

/* A bare hash (or a raw value) hides the content: only hash_sign_origins may ask for it. */
static gs_code check_hash_policy(request *r, sign_job *job, gs_status *st)
{
    job->content_hidden = true;
    return origin_check_hash_signing(&r->conn->ag->cfg, r->origin, st);
}

/* args.cosign: the existing CMS to add a signer to (decoded into *owned). */
static gs_code read_cosign(request *r, sign_job *job, uint8_t **owned, gs_status *st)
{
    const char *b64 = arg_string(r, "cosign");
    if (!b64)
        return GS_ERR_OK;
    gs_code rc = gs_base64_decode(b64, owned, &job->cosign_len, st);
    job->cosign = *owned;
    if (rc == GS_ERR_OK && gs_cms_signer_count(job->cosign, job->cosign_len) <= 0)
        rc = gs_fail(st, GS_ERR_CMS_PARSE, "args.cosign is not a CMS SignedData");
    return rc;
}

/* What the non-chunked sign of protocol version 2 adds before the content is read. */
static gs_code prepare_cosign_content(request *r, upload *up, sign_job *job, uint8_t **owned,
                                      uint8_t *digest, gs_status *st)
{
    if (job->cosign && !up && !arg_string(r, "data") && !arg_string(r, "digest"))
        return GS_ERR_OK; /* an attached CMS brings its own content */
    return prepare_content(r, up, job, owned, digest, st);
}

gs_code command_sign(request *r, json_object **result, gs_status *st)
{
    json_object *batch;
    if (r->args && json_object_object_get_ex(r->args, "batch", &batch))
        return command_sign_batch(r, result, st);
    upload *up = request_take_upload(r);
    gs_code rc = GS_ERR_OK;
    if (arg_string(r, "chunk")) {
        int done = 0;
        rc = sign_chunk(r, &up, &done, st);
        if (rc != GS_ERR_OK || !done) {
            upload_free(up);
            return rc; /* an event already answered a parked chunk */
        }
    } else if (up) {
        upload_free(up);
        return gs_fail(st, GS_ERR_BAD_REQUEST, "a chunked upload must continue with args.chunk");
    }
    sign_job job = { .action = "подпись документа", .document = arg_string(r, "document") };
    gs_cms_sign_params_init(&job.cms);
    uint8_t digest[GOST_MAX_DIGEST], *owned = NULL, *der = NULL, *cosign = NULL;
    size_t der_len = 0;
    cert_ref ref = { 0 };
    STACK_OF(X509) *chain = NULL;
    rc = read_cosign(r, &job, &cosign, st);
    if (rc == GS_ERR_OK)
        rc = prepare_cosign_content(r, up, &job, &owned, digest, st);
    if (rc == GS_ERR_OK && !up && arg_string(r, "digest"))
        rc = check_hash_policy(r, &job, st);
    if (rc == GS_ERR_OK && up) {
        ref = up->ref;
        memset(&up->ref, 0, sizeof(up->ref));
    } else if (rc == GS_ERR_OK) {
        rc = token_cache_find_cert(r->conn->ag->tokens, arg_string(r, "certificate"), time(NULL),
                                   &ref, st);
    }
    if (rc == GS_ERR_OK && job.cms.content_digest &&
        job.cms.content_digest_len != (size_t)ref.cert->key_bits / 8)
        rc = gs_fail(st, GS_ERR_BAD_REQUEST, "digest size does not match the %d-bit key",
                     ref.cert->key_bits);
    if (rc == GS_ERR_OK)
        rc = apply_sign_options(r, &job, &ref, &chain, st);
    if (rc == GS_ERR_OK)
        rc = sign_with_pin(r, &ref, &job, &der, &der_len, st);
    if (rc == GS_ERR_OK) {
        *result = signature_result(&ref, der, der_len,
                                   job.cosign ? gs_cms_is_attached(der, der_len) : job.cms.attached);
        add_warnings(*result, &job);
    }
    OPENSSL_free(der);
    free(owned);
    free(cosign);
    sk_X509_pop_free(chain, X509_free);
    upload_free(up);
    cert_ref_clear(&ref);
    return rc;
}

/* Reads args.digest of sign_raw: hex of the key's digest size. */
static gs_code raw_digest(request *r, const cert_ref *ref, sign_job *job, uint8_t *digest,
                          gs_status *st)
{
    const char *hex = arg_string(r, "digest");
    long n = hex ? gost_unhex(hex, digest, GOST_MAX_DIGEST) : -1;
    if (n != ref->cert->key_bits / 8)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "args.digest must be %d hex digits for this key",
                       ref->cert->key_bits / 4);
    job->cms.content_digest = digest;
    job->cms.content_digest_len = (size_t)n;
    gost_hex(digest, (size_t)n, job->digest_hex);
    return GS_ERR_OK;
}

/* args.byte_order of sign_raw: "s_r" (PKCS#11, the default) or "r_s" (as the standard prints). */
static gs_code raw_byte_order(request *r, sign_job *job, gs_status *st)
{
    const char *order = arg_string(r, "byte_order");
    if (!order || strcmp(order, "s_r") == 0)
        return GS_ERR_OK;
    if (strcmp(order, "r_s") != 0)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "args.byte_order must be \"s_r\" or \"r_s\"");
    job->reverse = true;
    return GS_ERR_OK;
}

gs_code command_sign_raw(request *r, json_object **result, gs_status *st)
{
    sign_job job = { .action = "подпись хэша", .document = arg_string(r, "document"), .raw = true };
    gs_cms_sign_params_init(&job.cms);
    uint8_t digest[GOST_MAX_DIGEST], *sig = NULL;
    size_t sig_len = 0;
    cert_ref ref = { 0 };
    gs_code rc = check_hash_policy(r, &job, st);
    if (rc == GS_ERR_OK)
        rc = raw_byte_order(r, &job, st);
    if (rc == GS_ERR_OK)
        rc = api_text(arg_string(r, "api"), &job.api, st);
    if (rc == GS_ERR_OK)
        rc = token_cache_find_cert(r->conn->ag->tokens, arg_string(r, "certificate"), time(NULL),
                                   &ref, st);
    if (rc == GS_ERR_OK)
        rc = raw_digest(r, &ref, &job, digest, st);
    if (rc == GS_ERR_OK)
        rc = sign_with_pin(r, &ref, &job, &sig, &sig_len, st);
    if (rc == GS_ERR_OK) {
        *result = json_object_new_object();
        json_object_object_add(*result, "signature", gs_base64_json(sig, sig_len));
        json_object_object_add(*result, "byte_order",
                               json_object_new_string(job.reverse ? "r_s" : "s_r"));
        json_object_object_add(*result, "certificate",
                               json_object_new_string(ref.cert->sha1_thumbprint));
        add_warnings(*result, &job);
    }
    OPENSSL_free(sig);
    cert_ref_clear(&ref);
    return rc;
}

/* The text `authenticate` signs: it binds the challenge to the origin and the time. */
static char *auth_text(const char *origin, const char *challenge)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    size_t n = strlen(origin) + strlen(challenge) + 128;
    char *text = malloc(n);
    if (text)
        snprintf(text, n, "gostsign-authenticate-v1\norigin: %s\nchallenge: %s\ntime: %s\n", origin,
                 challenge, stamp);
    return text;
}

/* A challenge is printable ASCII of sane length, so it cannot forge extra lines. */
static int challenge_ok(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    if (n < AUTH_CHALLENGE_MIN || n > AUTH_CHALLENGE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (c[i] < 0x21 || c[i] > 0x7e)
            return 0;
    return 1;
}

gs_code command_authenticate(request *r, json_object **result, gs_status *st)
{
    const char *challenge = arg_string(r, "challenge");
    if (!challenge_ok(challenge))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "args.challenge must be %d..%d printable characters",
                       AUTH_CHALLENGE_MIN, AUTH_CHALLENGE_MAX);
    char *text = auth_text(r->origin, challenge);
    if (!text)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "challenge");
    cert_ref ref = { 0 };
    sign_job job = { .action = "вход на сайт", .document = NULL };
    gs_cms_sign_params_init(&job.cms);
    job.cms.attached = 1;
    job.cms.content_hint = GS_CMS_AUTH_HINT;
    job.cms.content = (const uint8_t *)text;
    job.cms.content_len = strlen(text);
    uint8_t *der = NULL;
    size_t der_len = 0;
    gs_code rc = token_cache_find_cert(r->conn->ag->tokens, arg_string(r, "certificate"),
                                       time(NULL), &ref, st);
    if (rc == GS_ERR_OK)
        rc = sign_with_pin(r, &ref, &job, &der, &der_len, st);
    if (rc == GS_ERR_OK) {
        *result = signature_result(&ref, der, der_len, 1);
        json_object_object_add(*result, "signed_text", json_object_new_string(text));
        add_warnings(*result, &job);
    }
    OPENSSL_free(der);
    free(text);
    cert_ref_clear(&ref);
    return rc;
}
