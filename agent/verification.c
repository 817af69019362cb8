/*
 * `verify` (protocol version 2, CryptoPro's VerifyCades): checks every signer of a CMS the page
 * holds, with no PIN and no dialog. The agent has no trust store of its own yet, so the chain is
 * not judged here (chain_checked: false); the signature, the signed attributes, the content and
 * the certificate's validity at signing time are. Calls request.c, frame.c and gost/.
 */
#include "daemon.h"
#include "frame.h"
#include "base64.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_SIGNERS 16

/* The content the caller gave for a detached CMS: data (base64) or its Streebog digest (hex). */
static gs_code detached_content(request *r, gs_cms_verify_opts *o, uint8_t **owned,
                                uint8_t *digest, gs_status *st)
{
    json_object *v;
    if (r->args && json_object_object_get_ex(r->args, "data", &v)) {
        size_t len = 0;
        gs_code rc = gs_base64_decode(json_object_get_string(v), owned, &len, st);
        o->content = *owned ? *owned : (const uint8_t *)"";
        o->content_len = len;
        return rc;
    }
    if (r->args && json_object_object_get_ex(r->args, "digest", &v)) {
        long n = gost_unhex(json_object_get_string(v), digest, GOST_MAX_DIGEST);
        if (n != 32 && n != 64)
            return gs_fail(st, GS_ERR_BAD_REQUEST, "args.digest must be 64 or 128 hex digits");
        o->content_digest = digest;
        o->content_digest_len = (size_t)n;
    }
    return GS_ERR_OK;
}

/* One signer's verdict, as the result's signers[] entry. */
static json_object *signer_json(const gs_cms_verify_result *res, gs_code rc, const gs_status *st)
{
    json_object *o = json_object_new_object();
    if (res->signer)
        json_object_object_add(o, "certificate", gs_cert_to_json(res->signer, time(NULL)));
    json_object_object_add(o, "signing_time", res->has_signing_time
                                                  ? json_object_new_int64(res->signing_time)
                                                  : NULL);
    json_object_object_add(o, "code", json_object_new_string(gs_error_lookup(rc)->name));
    if (rc != GS_ERR_OK && st->detail[0])
        json_object_object_add(o, "detail", json_object_new_string(st->detail));
    return o;
}

/* Verifies each signer in turn; the first failure decides the overall code. */
static void verify_signers(const uint8_t *cms, size_t len, gs_cms_verify_opts *o, int count,
                           json_object *out, gs_code *first, gs_status *first_st)
{
    for (int i = 0; i < count; i++) {
        gs_cms_verify_result res;
        gs_status st;
        o->signer_index = count > 1 ? i : -1;
        gs_code rc = gs_cms_verify(cms, len, o, &res, &st);
        json_object_array_add(json_object_object_get(out, "signers"), signer_json(&res, rc, &st));
        json_object_object_add(out, "attached", json_object_new_boolean(res.attached));
        if (rc != GS_ERR_OK && *first == GS_ERR_OK) {
            *first = rc;
            *first_st = st;
        }
        gs_cms_verify_result_clear(&res);
    }
}

gs_code command_verify(request *r, json_object **result, gs_status *st)
{
    json_object *v;
    uint8_t *cms = NULL, *owned = NULL, digest[GOST_MAX_DIGEST];
    size_t cms_len = 0;
    if (!r->args || !json_object_object_get_ex(r->args, "cms", &v))
        return gs_fail(st, GS_ERR_BAD_REQUEST, "verify needs args.cms");
    gs_code rc = gs_base64_decode(json_object_get_string(v), &cms, &cms_len, st);
    int count = rc == GS_ERR_OK ? gs_cms_signer_count(cms, cms_len) : 0;
    if (rc == GS_ERR_OK && count <= 0)
        rc = gs_fail(st, GS_ERR_CMS_PARSE, "not a CMS SignedData with signers");
    if (rc == GS_ERR_OK && count > VERIFY_MAX_SIGNERS)
        rc = gs_fail(st, GS_ERR_CMS_UNSUPPORTED, "%d signers", count);
    gs_cms_verify_opts o;
    gs_cms_verify_opts_init(&o);
    if (rc == GS_ERR_OK)
        rc = detached_content(r, &o, &owned, digest, st);
    if (rc == GS_ERR_OK) {
        json_object *out = json_object_new_object();
        json_object_object_add(out, "signers", json_object_new_array());
        gs_code first = GS_ERR_OK;
        gs_status first_st;
        gs_status_clear(&first_st);
        verify_signers(cms, cms_len, &o, count, out, &first, &first_st);
        json_object_object_add(out, "valid", json_object_new_boolean(first == GS_ERR_OK));
        json_object_object_add(out, "code", json_object_new_string(gs_error_lookup(first)->name));
        json_object_object_add(out, "detail", json_object_new_string(first_st.detail));
        json_object_object_add(out, "chain_checked", json_object_new_boolean(0));
        uint8_t *content = NULL;
        size_t clen = 0;
        gs_status ignored;
        if (gs_cms_attached_content(cms, cms_len, &content, &clen, &ignored) == GS_ERR_OK)
            json_object_object_add(out, "content", gs_base64_json(content, clen));
        free(content);
        *result = out;
    }
    free(cms);
    free(owned);
    return rc;
}
