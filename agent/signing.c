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
#include "pinentry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define AUTH_CHALLENGE_MIN 8
#define AUTH_CHALLENGE_MAX 1024

/* Decodes standard base64 (with padding) into a new buffer. */
static gs_code base64_decode(const char *text, uint8_t **out, size_t *out_len, gs_status *st)
{
    size_t n = strlen(text);
    if (n % 4 != 0)
        return gs_fail(st, GS_ERR_BAD_REQUEST, "base64 length is not a multiple of 4");
    *out = malloc(n / 4 * 3 + 1);
    if (!*out)
        return gs_fail(st, GS_ERR_OUT_OF_MEMORY, "base64");
    int len = n ? EVP_DecodeBlock(*out, (const unsigned char *)text, (int)n) : 0;
    if (len < 0) {
        free(*out);
        *out = NULL;
        return gs_fail(st, GS_ERR_BAD_REQUEST, "invalid base64");
    }
    size_t pad = (n >= 1 && text[n - 1] == '=') + (n >= 2 && text[n - 2] == '=');
    *out_len = (size_t)len - pad;
    return GS_ERR_OK;
}

/* Encodes bytes as a base64 JSON string. */
static json_object *base64_json(const uint8_t *data, size_t len)
{
    char *text = malloc(4 * ((len + 2) / 3) + 1);
    if (!text)
        return NULL;
    EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    json_object *s = json_object_new_string(text);
    free(text);
    return s;
}

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
    gs_cms_sign_params cms;
} sign_job;

/* The callback's context: the token and the PIN for this single call. */
typedef struct {
    token_cache *tc;
    const cert_ref *ref;
    const secure_pin *pin;
    gs_code login_result;
} token_signer;

/* gs_cms_signer_fn: the token signs the digest of the signed attributes. */
static gs_code sign_on_token(void *ctx, const gs_cms_tbs *tbs, uint8_t *sig, size_t sig_cap,
                             size_t *sig_len, gs_status *st)
{
    token_signer *s = ctx;
    int pinpad = s->ref->token.protected_auth;
    *sig_len = sig_cap;
    gs_code rc =
        token_cache_sign(s->tc, s->ref, pinpad ? NULL : s->pin->data, pinpad ? 0 : s->pin->len,
                         tbs->data, tbs->data_len, tbs->digest, tbs->digest_len, sig, sig_len, st);
    s->login_result = rc;
    return rc;
}

/* The Russian dialog text from the certificate, the token state and the request. */
static gs_code build_description(request *r, const cert_ref *ref, const sign_job *job,
                                 int limiter_left, char *out, size_t cap, gs_status *st)
{
    const gs_name *n = &ref->cert->subject;
    CK_FLAGS f = ref->token.flags;
    pinentry_signing_info info = {
        .origin = r->origin,
        .action = job->action,
        .document = job->document,
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
        .final_try = (f & CKF_USER_PIN_FINAL_TRY) != 0 || limiter_left == 1,
        .count_low = (f & CKF_USER_PIN_COUNT_LOW) != 0,
        .pinpad = ref->token.protected_auth != 0,
    };
    return pinentry_describe_signing(&info, out, cap, st);
}

/* Seconds left before the request's deadline, at least 1. */
static unsigned seconds_left(const request *r)
{
    time_t now = time(NULL);
    return r->deadline > now ? (unsigned)(r->deadline - now) : 1;
}

/* Asks the PIN in the agent's own dialog (nothing to ask for a PIN pad). */
static gs_code ask_pin(request *r, const cert_ref *ref, const char *desc, secure_pin **pin,
                       gs_status *st)
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
                             .timeout_seconds = seconds_left(r) };
    return pinentry_ask(&req, pin, st);
}

/* PIN pad: the token asks the PIN itself; our dialog only says so while C_Login waits. */
static pinentry_pinpad *pinpad_show(request *r, const cert_ref *ref, const char *desc)
{
    if (!ref->token.protected_auth)
        return NULL;
    json_object *data = json_object_new_object();
    json_object_object_add(data, "token", json_object_new_string(ref->token_id));
    json_object_object_add(data, "pin_pad", json_object_new_boolean(1));
    request_event(r, "pin-requested", data);
    pinentry_request req = { .program = r->conn->ag->cfg.pinentry,
                             .description = desc,
                             .timeout_seconds = seconds_left(r) };
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

/* Dialog, one signature, limiter and audit: the core every PIN-gated command shares. */
static gs_code sign_with_pin(request *r, cert_ref *ref, sign_job *job, uint8_t **der,
                             size_t *der_len, gs_status *st)
{
    agent *ag = r->conn->ag;
    char desc[PINENTRY_DESC_SIZE];
    secure_pin *pin = NULL;
    gs_code rc = precheck(r, ref, st);
    if (rc == GS_ERR_OK)
        rc = build_description(r, ref, job,
                               pin_limiter_remaining(ag->limiter, ref->token_id, time(NULL)), desc,
                               sizeof(desc), st);
    if (rc == GS_ERR_OK)
        rc = ask_pin(r, ref, desc, &pin, st);
    if (rc == GS_ERR_OK && atomic_load(&r->cancelled))
        rc = gs_fail(st, GS_ERR_CANCELLED, "cancelled after the PIN dialog; nothing was signed");
    token_signer signer = { ag->tokens, ref, pin, GS_ERR_INTERNAL };
    if (rc == GS_ERR_OK) {
        request_event(r, "signing", NULL);
        job->cms.cert = ref->cert->x509;
        job->cms.sign = sign_on_token;
        job->cms.sign_ctx = &signer;
        pinentry_pinpad *pad = pinpad_show(r, ref, desc);
        rc = pinpad_finish(pad, gs_cms_sign(&job->cms, der, der_len, st), st);
        if (rc != GS_ERR_OK) {
            OPENSSL_free(*der);
            *der = NULL;
        }
        pin_limiter_record(ag->limiter, ref->token_id, signer.login_result, time(NULL));
        if (rc == GS_ERR_PIN_INCORRECT)
            explain_wrong_pin(r, ref, st);
    }
    secure_pin_free(pin);
    if (rc != GS_ERR_BAD_REQUEST)
        audit_operation(r, ref, job, rc);
    return rc;
}

/* The reply of a successful signature. */
static json_object *signature_result(const cert_ref *ref, const uint8_t *der, size_t len,
                                     int attached)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "cms", base64_json(der, len));
    json_object_object_add(o, "format", json_object_new_string("cms-der-base64"));
    json_object_object_add(o, "detached", json_object_new_boolean(!attached));
    json_object_object_add(o, "certificate", json_object_new_string(ref->cert->sha1_thumbprint));
    return o;
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
        rc = base64_decode(arg_string(r, "chunk"), &data, &len, st);
    if (rc == GS_ERR_OK)
        rc = upload_add(*upp, data, len, st);
    free(data);
    *done = !arg_bool(r, "more", 0);
    if (rc == GS_ERR_OK && !*done) {
        json_object *info = json_object_new_object();
        json_object_object_add(info, "received", json_object_new_int64((int64_t)(*upp)->total));
        request_event(r, "chunk-accepted", info);
        request_park_upload(r, *upp);
        *upp = NULL;
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
            return GS_ERR_OK;
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
        gs_code rc = base64_decode(data, owned, &len, st);
        p->content = *owned ? *owned : (const uint8_t *)"";
        p->content_len = len;
        return rc;
    }
    if (hex && !data && !p->attached) {
        long n = gost_unhex(hex, digest, GOST_MAX_DIGEST);
        if (n != 32 && n != 64)
            return gs_fail(st, GS_ERR_BAD_REQUEST, "digest must be 64 or 128 hex digits");
        p->content_digest = digest;
        p->content_digest_len = (size_t)n;
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
    if (rc == GS_ERR_OK)
        rc = precheck(r, &ref, st);
    if (rc == GS_ERR_OK) {
        snprintf(what, sizeof(what), "%zu документов одним вводом PIN-кода (первый: %.60s)", n,
                 items[0].name);
        sign_job job = { .action = "подпись пакета документов", .document = what };
        rc = build_description(r, &ref, &job,
                               pin_limiter_remaining(ag->limiter, ref.token_id, time(NULL)), desc,
                               sizeof(desc), st);
    }
    if (rc == GS_ERR_OK)
        rc = ask_pin(r, &ref, desc, &pin, st);
    token_batch *b = NULL;
    if (rc == GS_ERR_OK) {
        request_event(r, "signing", NULL);
        int pinpad = ref.token.protected_auth;
        pinentry_pinpad *pad = pinpad_show(r, &ref, desc);
        b = token_cache_batch_open(ag->tokens, &ref, pinpad ? NULL : pin->data,
                                   pinpad ? 0 : pin->len, st);
        rc = pinpad_finish(pad, b ? GS_ERR_OK : st->code, st);
        pin_limiter_record(ag->limiter, ref.token_id, rc, time(NULL));
        if (rc == GS_ERR_PIN_INCORRECT)
            explain_wrong_pin(r, &ref, st);
    }
    secure_pin_free(pin);
    json_object *out = json_object_new_array();
    if (rc == GS_ERR_OK)
        rc = sign_batch_items(r, &ref, b, items, n, out, st);
    token_cache_batch_close(b);
    if (rc == GS_ERR_OK) {
        *result = json_object_new_object();
        json_object_object_add(*result, "signatures", out);
    } else {
        json_object_put(out);
    }
    free(items);
    cert_ref_clear(&ref);
    return rc;
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
    uint8_t digest[GOST_MAX_DIGEST], *owned = NULL, *der = NULL;
    size_t der_len = 0;
    cert_ref ref = { 0 };
    rc = prepare_content(r, up, &job, &owned, digest, st);
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
        rc = sign_with_pin(r, &ref, &job, &der, &der_len, st);
    if (rc == GS_ERR_OK)
        *result = signature_result(&ref, der, der_len, job.cms.attached);
    OPENSSL_free(der);
    free(owned);
    upload_free(up);
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
    }
    OPENSSL_free(der);
    free(text);
    cert_ref_clear(&ref);
    return rc;
}
